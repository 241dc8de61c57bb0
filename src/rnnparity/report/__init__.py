"""Render the results of a `rnnparity check` run (report/ renders; the cli/ package runs): the text
report (header, the layer x flags table, counts per target and kind), and beside it the model report
(model_report.py), the conformance table (conformance.py) and the HTML pages (html.py); the report's
end (skips, known divergences grouped, the verdict line) is text.py; every status, once, statuses.py."""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from ..targets import registry
from ..targets.installed import versions
from .statuses import OUTCOMES  # noqa: F401 - the text report's counts, in order (one table: statuses.py)

COLUMNS = ("all", "seq", "state", "bwd", "stateful", "bidi", "mask", "init", "f64", "f16")
SEED_POLICY = "crc32 of the case id without its target (fixed: the same on every run and worker)"


def case_of(nodeid):
    m = re.search(r"\[(.*)\]$", nodeid)
    return m.group(1).rsplit("/", 1)[-1] if m else nodeid


def kind_of(nodeid):
    """Which part of the suite a test is: the case matrix (what `rnnparity list` lists), the
    activation sweep (names read from the live framework) or a replayed recording."""
    if "test_activations" in nodeid:
        return "activation sweep"
    if "test_replay" in nodeid:
        return "replay"
    return "matrix"


def target_of(nodeid):
    case = case_of(nodeid)
    if case.startswith("tf1-"):
        return "tf1"
    return registry.target_of(case) or "?"


def header(tier, targets) -> str:
    v = versions()
    frameworks = ", ".join(f"{name} {v[name]}" + (f" (backend {v['keras backend']})" if name == "keras" else "")
                           for name in ("tensorflow", "keras", "tf_keras"))
    return (f"rnnparity {v['rnnparity']}, Python {v['python']}, NumPy {v['numpy']}, {frameworks}\n"
            f"tier {tier}, targets {targets or '(none)'}, data and weight seeds: {SEED_POLICY}")


def summary_table(results: dict) -> str:
    """Rows: layer; columns: cases whose id has the word (`all`: every case); cells pass/fail/xfail."""
    table = defaultdict(lambda: defaultdict(Counter))
    for nodeid, (outcome, _) in results.items():
        case = case_of(nodeid)
        parts = case.split("-")
        layer = "-".join(parts[:2]) if parts[0] == "tf1" else parts[0]
        if "test_replay" in nodeid:
            layer = "replay " + layer
        for col in COLUMNS:
            if col == "all" or any(p == col or p.startswith(col + "_") for p in parts):
                table[layer][col][outcome] += 1
    cols = [c for c in COLUMNS if any(table[r][c] for r in table)]
    head = f"{'layer':<28}" + "".join(f"{c:>14}" for c in cols)
    lines = ["pass/fail/xfail per layer and flag (cases whose id contains the flag)", head, "-" * len(head)]
    for row in sorted(table):
        cells = [f"{t['passed']}/{t['failed']}/{t['xfailed']}" for t in (table[row][c] for c in cols)]
        lines.append(f"{row:<28}" + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


def counts_line(results, key, order):
    groups = defaultdict(Counter)
    for nodeid, (outcome, _) in results.items():
        groups[key(nodeid)][outcome] += 1
    return ", ".join(f"{g} {sum(c.values())} (" + ", ".join(f"{c[o]} {o}" for o in OUTCOMES if c[o]) + ")"
                     for g, c in sorted(groups.items(), key=lambda kv: order.index(kv[0])
                                        if kv[0] in order else len(order)))
