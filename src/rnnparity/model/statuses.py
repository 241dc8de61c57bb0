"""The statuses of a check-model row and how each counts for the gate.

A row's status says what was found; its *outcome* says what the gate makes of it: "passed",
"failed", "xfailed" (a registered framework bug) or "skipped". Only "unsupported" depends on the
run's policy (`--unsupported=fail|skip`, `check_model(unsupported=...)`): a layer the reference
cannot model fails the gate by default, or is skipped, visibly, in every report. A new status is
one entry in OUTCOMES (and one word in the reports' VERDICTS).
"""
from __future__ import annotations

# status -> outcome ("policy": decided by the unsupported= policy)
OUTCOMES = {"pass": "passed", "fail": "failed", "xfail": "xfailed", "ill-conditioned": "ill-policy",
            "unsupported": "policy"}
STATUSES = tuple(OUTCOMES)
UNSUPPORTED_POLICIES = ("fail", "skip")
# the outcomes a green gate may hold; "ill-conditioned": a row the rounding verdict cannot decide,
# under ill_conditioned="warn" (check/verdict.py), shown and not failing
GATE_PASSES = ("passed", "xfailed", "skipped", "ill-conditioned")
CHECKED = ("passed", "xfailed", "failed", "ill-conditioned")  # outcomes of a row whose outputs were compared


def checked_policy(unsupported) -> str:
    """The unsupported= policy, or ValueError naming the choices."""
    if unsupported not in UNSUPPORTED_POLICIES:
        raise ValueError(f"unsupported must be one of {', '.join(map(repr, UNSUPPORTED_POLICIES))}, "
                         f"got {unsupported!r}")
    return unsupported


def outcome(status, unsupported="fail", ill_conditioned="warn") -> str:
    """passed / failed / xfailed / skipped / ill-conditioned for a row status under the
    unsupported= and ill_conditioned= policies."""
    if status not in OUTCOMES:
        raise ValueError(f"unknown row status {status!r}: expected one of {STATUSES}")
    found = OUTCOMES[status]
    if found == "ill-policy":
        return "failed" if ill_conditioned == "fail" else "ill-conditioned"
    if found != "policy":
        return found
    return "skipped" if checked_policy(unsupported) == "skip" else "failed"


def gate_passes(statuses, unsupported="fail", ill_conditioned="warn") -> bool:
    """Whether a model's rows make a green gate: every outcome passed, xfailed, skipped or
    ill-conditioned (warn), and at least one layer was really checked (a run that checked nothing is
    not a pass)."""
    outcomes = [outcome(s, unsupported, ill_conditioned) for s in statuses]
    return (all(o in GATE_PASSES for o in outcomes)
            and any(o in ("passed", "xfailed", "ill-conditioned") for o in outcomes))
