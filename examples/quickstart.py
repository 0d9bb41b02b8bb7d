"""Quick start: Google's own code-execution question, answered through LangChain.

Uses real Gemini when GOOGLE_API_KEY / GEMINI_API_KEY (or Vertex AI settings) are set;
otherwise the bundled offline Gemini endpoint replays a recorded answer. The first line
printed says which.
"""

from __future__ import annotations

import base64
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.testing import (
    SUM_OF_PRIMES_PROMPT,
    GeminiTestServer,
    Reply,
    has_gemini_credentials,
    recorded_sum_of_primes,
)

_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
}


def main(out_dir: Path = Path("quickstart_output")) -> int:
    with ExitStack() as stack:
        if has_gemini_credentials():
            print("Using real Gemini (credentials found in the environment).")
            llm = ChatGeminiCodeExecution(model=os.environ.get("GEMINI_MODEL", "gemini-2.5-flash"))
        else:
            print(
                "Using the offline Gemini endpoint (no GOOGLE_API_KEY/GEMINI_API_KEY set): "
                "replaying a recorded answer."
            )
            server = stack.enter_context(GeminiTestServer())
            server.enqueue(Reply.stream(recorded_sum_of_primes()))
            llm = ChatGeminiCodeExecution(api_key="offline", base_url=server.base_url)

        print(f"\nQ: {SUM_OF_PRIMES_PROMPT}\n")
        message = llm.invoke(SUM_OF_PRIMES_PROMPT)

        runs = 0
        charts: list[Path] = []
        for block in message.content_blocks:
            kind = block["type"]
            if kind == "server_tool_call":
                runs += 1
                print(f"--- code run {runs} ({block['id']}) ---")
                print(block["args"]["code"].rstrip())
            elif kind == "server_tool_result":
                outcome = block.get("extras", {}).get("outcome", "no outcome sent")
                print(f"--- result of {block['tool_call_id']}: {outcome} ---")
                print(str(block.get("output", "")).rstrip() or "(no output)")
            elif kind == "image" and "base64" in block:
                out_dir.mkdir(parents=True, exist_ok=True)
                suffix = _EXTENSIONS.get(str(block.get("mime_type")), ".bin")
                path = out_dir / f"chart_{len(charts) + 1}{suffix}"
                path.write_bytes(base64.b64decode(block["base64"]))
                charts.append(path)
                print(f"--- chart saved to {path} ---")

        print("\nAnswer:", message.text.strip())
        print(f"\n{runs} code run(s), {len(charts)} chart(s); usage: {message.usage_metadata}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
