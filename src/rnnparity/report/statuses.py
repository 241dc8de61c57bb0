"""Every status a report shows, in one place: its label, its symbol in a grid cell, its colour, and
for `rnnparity check` the pytest outcome it is counted under and whether it fails the run.

The text report (report/text.py, cli/check_suite.py), the JSON counts and the HTML pages (grid.py,
html.py, the CSS of templates/base.html.j2) all read these tables. Adding a status (e.g. a rounding
verdict `ill-conditioned`, neither pass nor fail) is one row of `CHECK` (worst first: the row's
position decides a mixed cell's colour and where it stands in the counts) and, if the suite reports it
under a pytest outcome of its own, the `check_verdict` mapping below.
"""
from __future__ import annotations

from dataclasses import dataclass

HATCH = "repeating-linear-gradient(45deg, #ececec, #ececec 4px, #dcdcdc 4px, #dcdcdc 8px)"


@dataclass(frozen=True)
class Status:
    key: str  # the page's data-verdict and css class v-<key>
    label: str  # what the legend, the pane and the text verdict call it
    symbol: str  # shown in a mixed grid cell ("" for the common case)
    background: str  # css
    ink: str = "inherit"  # css text colour on that background
    outcome: str = ""  # check: the pytest outcome word the text report and --json count it under
    fails_run: bool = False  # check: whether a case with it makes the run fail


# -- rnnparity check: worst first ----------------------------------------------------------------------
CHECK = (
    Status("fail", "failed", "✗", "#d93025", "#fff", outcome="failed", fails_run=True),
    Status("xfail", "known divergence (strict xfail)", "⚠", "#f6b73c", outcome="xfailed"),
    # the rounding verdict's third answer (check/verdict.py): a warning, not a failure, unless
    # --ill-conditioned=fail (then the case fails and is counted as failed)
    Status("ill", "ill-conditioned: valid low-precision runs scatter as widely as the values; agreement "
                  "proven up to a step, not decidable beyond (a warning; --ill-conditioned=fail fails it)",
           "~", "#c39bd3", outcome="ill-conditioned"),
    Status("pass", "passed", "", "#8fd19e", outcome="passed"),
    Status("rejected", "rejected by the framework, as by the reference (passed)", "⊘", "#b8c7d9",
           outcome="passed"),
    Status("skip", "skipped (not expressible by the target, or not installed)", "–", HATCH, "#444",
           outcome="skipped"),
)

# -- rnnparity compare: what a user must act on first -------------------------------------------------
# in golden.upgrade.ACTIONS' order (what a user must act on first; the reasons are there)
COMPARE = (
    Status("differs", "values differ (beyond tolerance, or shapes differ)", "≠", "#d93025", "#fff"),
    Status("newly-rejected", "rejection changed (accepted in A, rejected in B; or rejected differently)",
           "⊘", "#f6b73c"),
    Status("dtype", "dtype only (values the same within the coarser dtype's tolerance)", "d", "#39c5bb"),
    Status("structure", "structure only (list vs tuple: the values the same)", "≈", "#b392f0", "#fff"),
    Status("newly-accepted", "newly accepted (rejected in A, accepted in B)", "+", "#7fb2f0"),
    Status("only", "in one recording only", "?", HATCH, "#444"),
    Status("same", "same within tolerance", "", "#8fd19e"),
)

# -- rnnparity check-model: one row per recurrent layer --------------------------------------------------
MODEL = (
    Status("fail", "failed", "✗", "#d93025", "#fff"),
    Status("unsupported", "unsupported", "?", "#c58af9"),
    Status("xfail", "known framework bug", "⚠", "#f6b73c"),
    Status("ill-conditioned", "ill-conditioned: not decidable beyond rounding", "~", "#c39bd3"),
    Status("pass", "passed", "", "#8fd19e"),
)


def table(statuses) -> dict:
    """{key: (label, symbol)}, worst first: what the grid and the templates take."""
    return {s.key: (s.label, s.symbol) for s in statuses}


def palette() -> dict:
    """{key: (background, ink)} over every page's statuses (a key means the same colour everywhere)."""
    out = {}
    for s in MODEL + COMPARE + CHECK:  # check's colours win where a key is shared
        out[s.key] = (s.background, s.ink)
    return out


def check_verdict(outcome, detail) -> str:
    """The status of one `check` case from its pytest outcome and the properties it recorded."""
    if outcome == "passed":
        return "rejected" if "rejected" in detail else "pass"
    for s in CHECK:
        if s.outcome == outcome:
            return s.key
    raise ValueError(f"no status of report/statuses.py CHECK is counted under the pytest outcome {outcome!r}")


def outcomes() -> tuple:
    """The pytest outcomes the text report counts, in its order: passed, then the others worst first."""
    seen = dict.fromkeys(["passed"] + [s.outcome for s in CHECK])
    return tuple(seen)


OUTCOMES = outcomes()
# outcomes a report names only when some case has them (most runs have no ill-conditioned case)
SHOWN_WHEN_PRESENT = ("ill-conditioned",)


def counted(counts) -> list:
    """[(outcome, n)] in OUTCOMES' order, for a report's counts line."""
    return [(o, counts.get(o, 0)) for o in OUTCOMES if counts.get(o, 0) or o not in SHOWN_WHEN_PRESENT]
