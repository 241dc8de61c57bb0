"""The upgrade report across framework stacks: `rnnparity compare BASELINE OTHER` for every other
recording, gathered into one markdown file (and appended to a GitHub job summary when asked).

    python scripts/compare_stacks.py --baseline recordings/tf2.21-tf_keras recordings/tf2.1*-tf_keras \
        --out upgrade-report.md [--summary "$GITHUB_STEP_SUMMARY"] [--json-dir DIR]

The last job of .github/workflows/conformance.yml runs it. Differences between stacks are the report's
content, not an error: the exit status is 0 when every comparison ran (`rnnparity compare` exits 1 on
a difference), 2 when a recording is missing or unreadable.
"""
from __future__ import annotations

import argparse
import os
import sys

from rnnparity.golden import upgrade


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", required=True, help="the recording every other one is compared with")
    p.add_argument("others", nargs="+", help="recordings of other stacks (the baseline itself is skipped)")
    p.add_argument("--out", required=True, help="write the markdown report here")
    p.add_argument("--summary", help="also append the overview to this file (e.g. $GITHUB_STEP_SUMMARY)")
    p.add_argument("--json-dir", help="also write each comparison as JSON into this directory")
    args = p.parse_args(argv)
    others = [o for o in args.others if os.path.realpath(o) != os.path.realpath(args.baseline)]
    missing = [d for d in [args.baseline, *others] if not os.path.isfile(os.path.join(d, "manifest.json"))]
    if missing:
        print(f"compare_stacks: not a recording (no manifest.json): {', '.join(missing)}", file=sys.stderr)
        return 2
    overview = [f"## Upgrade report: every stack against `{os.path.basename(args.baseline.rstrip('/'))}`", "",
                "| stack | result |", "|---|---|"]
    sections = []
    for other in others:
        result = upgrade.compare(args.baseline, other)
        name = os.path.basename(other.rstrip("/"))
        overview.append(f"| `{name}` | {upgrade.one_line(result)} |")
        sections += [f"## `{name}`", "", upgrade.to_markdown(result), ""]
        if args.json_dir:
            os.makedirs(args.json_dir, exist_ok=True)
            with open(os.path.join(args.json_dir, f"{name}.json"), "w") as f:
                f.write(upgrade.to_json(result))
        print(f"{name}: {upgrade.one_line(result)}")
    text = "\n".join(overview + [""] + sections)
    with open(args.out, "w") as f:
        f.write(text)
    if args.summary:
        with open(args.summary, "a") as f:
            f.write("\n".join(overview) + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
