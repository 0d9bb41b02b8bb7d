"""The loopback Gemini server of a benchmark run: one per run, in its own process.

In its own process by default, so that the server's work (reading and parsing the request,
writing the reply) runs on another core and never holds the benchmark's GIL: the clients
are what is timed. `--server thread` runs it inside the benchmark process instead, the way
the test suite does. Replies are serialized once, up front: a non-streaming request gets
the short code-execution answer, a streaming one the N-chunk stream.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from benchmarks._data import short_response, stream_response_chunks
from langchain_gemini_codeexec.testing import GeminiTestServer, RecordedRequest, Reply, sse_event

ROOT = Path(__file__).resolve().parent.parent


def build_server(stream_chunks: int) -> GeminiTestServer:
    """A test server answering from bodies serialized once (not per request)."""
    whole = json.dumps(short_response(), separators=(",", ":")).encode()
    sse = b"".join(sse_event(chunk) for chunk in stream_response_chunks(stream_chunks))
    server = GeminiTestServer()

    def respond(request: RecordedRequest) -> Reply:
        server.requests.clear()  # a benchmark sends thousands of big requests: keep none
        if request.stream:
            return Reply.raw(200, sse, {"Content-Type": "text/event-stream"})
        return Reply.raw(200, whole)

    server.responder = respond
    return server


@contextlib.contextmanager
def serve(mode: str, stream_chunks: int) -> Iterator[str]:
    """Run the server (`process` or `thread`) and yield its base URL."""
    if mode == "thread":
        with build_server(stream_chunks) as server:
            yield server.base_url
        return
    path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._server", "--stream-chunks", str(stream_chunks)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        line = child.stdout.readline().strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        yield line
    finally:
        if child.stdin is not None:
            child.stdin.close()  # the child stops when its stdin closes
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stream-chunks", type=int, default=500)
    args = parser.parse_args()
    with build_server(args.stream_chunks) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
