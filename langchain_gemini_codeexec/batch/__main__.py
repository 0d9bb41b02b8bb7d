"""`python -m langchain_gemini_codeexec.batch`: the batch CLI."""

from langchain_gemini_codeexec.batch._cli import main

raise SystemExit(main())
