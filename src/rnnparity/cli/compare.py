"""`rnnparity compare A B`: which cases differ between two recordings, and by how much (the
framework-upgrade report), as markdown, JSON or an HTML page."""
from __future__ import annotations

import sys


def cmd_compare(args):
    from ..golden import upgrade

    if args.html:
        from ..report import html

        html.require()
    result = upgrade.compare(args.a, args.b)
    text = upgrade.to_json(result) if args.format == "json" else upgrade.to_markdown(result)
    if args.html:
        size = html.write_compare_page(args.html, result)
        print(f"HTML report: {args.html} ({size / 1e6:.2f} MB)", file=sys.stderr)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(upgrade.one_line(result))
    else:
        print(text)
    return 1 if result.any_difference else 0


def add_parser(sub):
    m = sub.add_parser("compare", help="compare two recordings (framework-upgrade report)")
    m.add_argument("a")
    m.add_argument("b")
    m.add_argument("--format", default="markdown", choices=("markdown", "json"))
    m.add_argument("--out", help="write the report here")
    m.add_argument("--html", help="also write the report as one self-contained HTML page (needs the "
                   "report extra)")
    m.set_defaults(func=cmd_compare)
