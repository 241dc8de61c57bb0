"""Regenerate README.md's generated blocks from the code (tests/test_readme.py checks they are current).

    python scripts/update_readme.py          # rewrite the blocks in place
    python scripts/update_readme.py --check  # exit 1 if a block is out of date

Each block sits between `<!-- generated: NAME -->` and `<!-- /generated: NAME -->`."""
from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks() -> dict:
    from rnnparity.check.divergences import markdown
    from rnnparity.output_structure import return_table_markdown
    from rnnparity.report import conformance

    return {"conformance": conformance.markdown(), "divergences": markdown(),
            "return-table": return_table_markdown()}


def updated(text: str, generated: dict) -> str:
    for name, body in generated.items():
        pattern = re.compile(rf"(<!-- generated: {re.escape(name)} -->\n).*?(\n<!-- /generated: {re.escape(name)} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no generated block {name!r}")
        text = pattern.sub(lambda m: m.group(1) + body + m.group(2), text)
    return text


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = README.read_text()
    new = updated(text, blocks())
    if "--check" in argv:
        return 0 if new == text else 1
    if new != text:
        README.write_text(new)
        print("README.md: generated blocks rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
