"""Kept for old habits: the generated blocks now live in docs/ (and README.md); see update_docs.py.

    python scripts/update_readme.py [--check]   # the same as python scripts/update_docs.py [--check]
"""
import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    module = runpy.run_path(str(Path(__file__).with_name("update_docs.py")))
    sys.exit(module["main"]())
