"""`CodeExecutionReport`: what one Gemini code-execution answer said and did.

Read from the v1 content blocks of any `ChatGeminiCodeExecution` message (invoked, or
streamed and added up): the answer text, each code run with its code, verbatim outcome,
output and charts, plus model, usage and finish reason. Images are bytes for Python users;
the JSON form carries them as base64, so the report serializes (e.g. as a tool artifact).
"""

from langchain_gemini_codeexec.report._models import CodeMedia, CodeResult, CodeRun
from langchain_gemini_codeexec.report._report import CodeExecutionReport
from langchain_gemini_codeexec.report._save import SavedImages

__all__ = ["CodeExecutionReport", "CodeMedia", "CodeResult", "CodeRun", "SavedImages"]
