"""``python -m langchain_gemini_codeexec.testing script.py [args]``: the script, offline."""

import sys

from ._offline import main

sys.exit(main())
