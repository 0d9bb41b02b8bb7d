"""Gemini's Batch API: thousands of code-execution requests at half the price.

`submit_batch(llm, inputs)` sends one job whose requests are exactly the
bodies `invoke` would send; `GeminiBatchJob` follows it (`refresh`, `poll_until_done`,
`cancel`) and maps its answers back (`results()`), one `BatchResult` per input, in input
order, under the same content contract as `invoke`. A job outlives the process that
submitted it: `GeminiBatchJob.attach(name, llm=llm)` picks it up again.

Facts this relies on (Google's Batch Mode guide, https://ai.google.dev/gemini-api/docs/batch-mode,
the API reference https://ai.google.dev/api/batch-api, and google-genai 3.6 `batches.py`):
- Batch jobs cost 50% of the standard price; Google's target turnaround is 24 hours (most
  finish much sooner). Jobs that do not finish within 48 hours expire (`BATCH_STATE_EXPIRED`).
- Inline requests suit jobs whose whole create request stays under 20 MB; larger jobs go
  as a JSONL file (`{"key", "request"}` per line) uploaded with the Files API.
- `metadata.state` is one of `BATCH_STATE_PENDING`, `_RUNNING`, `_SUCCEEDED`, `_FAILED`,
  `_CANCELLED`, `_EXPIRED`; `metadata.batchStats` counts requests (int64 as strings).
- Results come inline (`inlinedResponses.inlinedResponses[]`, each `{"response" | "error",
  "metadata": {"key"}}`) or as a responses file (`responsesFile`, one `{"key", "response" |
  "error"}` line each), where an error is a `google.rpc.Status` with a gRPC code.
- Vertex AI runs `batchPredictionJobs` (states `JOB_STATE_*`) reading requests from Cloud
  Storage (`gs://`, JSONL) or BigQuery (`bq://`) and writing results there.

Command line: `python -m langchain_gemini_codeexec.batch --help` (see `_cli`).
"""

from langchain_gemini_codeexec.batch._job import (
    END_STATES,
    SUCCEEDED_STATES,
    UNSUCCESSFUL_STATES,
    GeminiBatchJob,
)
from langchain_gemini_codeexec.batch._results import BatchResult
from langchain_gemini_codeexec.batch._submit import (
    INLINE_LIMIT_BYTES,
    InputMode,
    asubmit_batch,
    build_requests,
    submit_batch,
    write_batch_requests,
)
from langchain_gemini_codeexec.errors import BatchJobError, BatchRequestError, BatchTimeoutError

__all__ = [
    "END_STATES",
    "INLINE_LIMIT_BYTES",
    "SUCCEEDED_STATES",
    "UNSUCCESSFUL_STATES",
    "BatchJobError",
    "BatchRequestError",
    "BatchResult",
    "BatchTimeoutError",
    "GeminiBatchJob",
    "InputMode",
    "asubmit_batch",
    "build_requests",
    "submit_batch",
    "write_batch_requests",
]
