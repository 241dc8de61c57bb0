"""The end of `rnnparity check`'s text report: the skip reasons, the known divergences grouped by their
registry entry (one line each, with its count), and the one-line verdict the report ends on."""
from __future__ import annotations

import re
from collections import Counter

from .statuses import CHECK, OUTCOMES

REGISTRY_KEY = re.compile(r"\[([\w.-]+)\]")  # "known framework bug [key]: reason" (Divergence.xfail_reason)


def skip_lines(results: dict, most: int = 5) -> list:
    """The most common skip reasons (the last line of each skip message), with their counts."""
    reasons = Counter(msg.strip().splitlines()[-1] if msg.strip() else "?" for o, msg in results.values()
                      if o == "skipped")
    lines = [f"  skipped {n}: {reason}" for reason, n in reasons.most_common(most)]
    if len(reasons) > most:
        lines.append(f"  ... and {len(reasons) - most} other skip reasons ({sum(reasons.values())} skipped in all)")
    return lines


def xfail_groups(results: dict, details: dict) -> list:
    """[(registry key or '', one-line reason, count)], the most frequent first: each known divergence
    (strict xfail) once, however many cases met it."""
    groups: Counter = Counter()
    for nodeid, (outcome, _) in results.items():
        if outcome != "xfailed":
            continue
        reason = (details.get(nodeid, {}).get("xfail_reason") or "?").strip().splitlines()[0]
        m = REGISTRY_KEY.search(reason)
        key = m[1] if m else ""
        text = reason[m.end():].lstrip(" :") if m else reason
        groups[(key, text)] += 1
    return [(key, text, n) for (key, text), n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))]


def xfail_lines(results: dict, details: dict) -> list:
    groups = xfail_groups(results, details)
    if not groups:
        return []
    total = sum(n for _, _, n in groups)
    lines = [f"known divergences (strict xfails): {_n(total, 'case')}, {_n(len(groups), 'registry entry')} "
             f"(rnnparity.check.divergences)"]
    width = max(len(str(n)) for _, _, n in groups)
    for key, text, n in groups:
        lines.append(f"  {n:>{width}}  " + (f"[{key}] {text}" if key else text))
    return lines


def _n(n, word):
    plural = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{n} {word if n == 1 else plural}"


def counts_text(counts: dict) -> str:
    """'520 passed, 3 failed, 12 xfailed, 8 skipped' in the report's order (failed always shown)."""
    return ", ".join(f"{counts.get(o, 0)} {o}" for o in OUTCOMES if counts.get(o, 0) or o == "failed")


def verdict_line(counts: dict, exit_code: int, problem: str | None = None) -> str:
    """The report's last line: PASSED, FAILED or NOTHING RAN, the exit status, why, and the counts.
    ``counts``: pytest outcome -> number of cases; ``problem``: a reason the run fails beyond its
    cases (e.g. the collected cases are not `rnnparity list`'s)."""
    n = sum(counts.values())
    failing = sum(counts.get(s.outcome, 0) for s in CHECK if s.fails_run)
    if not n:
        return f"VERDICT: NOTHING RAN (exit {exit_code}): no case ran"
    if exit_code == 0:
        return f"VERDICT: PASSED (exit 0): {_n(n, 'case')}: {counts_text(counts)}"
    why = (f"{failing} of {_n(n, 'case')} failed" if failing else problem
           or f"pytest ended with exit status {exit_code}")
    return f"VERDICT: FAILED (exit {exit_code}): {why}; {counts_text(counts)}"
