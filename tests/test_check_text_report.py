"""The end of `rnnparity check`'s text report: the known divergences grouped by registry entry (one line
each, with its count) and a one-line verdict as the very last line, whatever the run. The suite run is
replaced by a scripted one (pytest reports fed to the real Collector): no framework, milliseconds."""
from __future__ import annotations

from argparse import Namespace
from types import SimpleNamespace

import pytest

from rnnparity.cli import check_suite
from rnnparity.check.divergences import REGISTRY
from rnnparity.report import statuses, text

SUITE = "src/rnnparity/suite/test_keras.py::test_keras"
BUGS = [d for d in REGISTRY if "tf_keras" in d.targets][:2]


def _report(case_id, outcome, reason=None):
    """What pytest hands the Collector for the call phase of one case."""
    nodeid = f"{SUITE}[{case_id}]"
    r = SimpleNamespace(nodeid=nodeid, when="call", user_properties=[], longreprtext="", longrepr=None,
                        outcome=outcome, passed=outcome == "passed", failed=outcome == "failed",
                        skipped=outcome in ("skipped", "xfailed"))
    if outcome == "xfailed":
        r.wasxfail, r.outcome, r.longreprtext = reason, "skipped", "the failure report"
    elif outcome == "failed":
        r.longreprtext = f"[{case_id}] the reference and the framework disagree\n  output [0] differs"
    elif outcome == "skipped":
        r.longrepr = ("suite.py", 1, "Skipped: tf_keras cannot express this case: time_major")
    return r


def _run(monkeypatch, capsys, reports, keyword="lstm"):
    def fake_main(argv, plugins):
        (collector,) = plugins
        collector.pytest_collection_finish(SimpleNamespace(items=[SimpleNamespace(nodeid=r.nodeid)
                                                                  for r in reports]))
        for r in reports:
            collector.pytest_runtest_logreport(r)
        if not reports:
            return pytest.ExitCode.NO_TESTS_COLLECTED
        return pytest.ExitCode.TESTS_FAILED if any(r.failed for r in reports) else pytest.ExitCode.OK

    monkeypatch.setattr(check_suite.pytest, "main", fake_main)
    args = Namespace(tier="quick", target="tf_keras", replay=False, numprocesses=None, keyword=keyword,
                     junit_xml=None, json=None, html=None, shard=None)
    code = check_suite.check_suite(args)
    return code, capsys.readouterr().out


def _cases(n_xfail_first=3, n_xfail_second=1, failed=0):
    reports = [_report(f"lstm-seq-b{i}-f32-tf_keras", "passed") for i in range(4)]
    reports += [_report(f"lstm-bwd-b{i}-f32-tf_keras", "xfailed", BUGS[0].xfail_reason()) for i in range(n_xfail_first)]
    reports += [_report(f"lstm-mask_left-b{i}-f32-tf_keras", "xfailed", BUGS[1].xfail_reason())
                for i in range(n_xfail_second)]
    reports += [_report("lstm-time_major-f32-tf_keras", "skipped")]
    reports += [_report(f"lstm-state-b{i}-f32-tf_keras", "failed") for i in range(failed)]
    return reports


def test_a_passing_run_ends_with_its_verdict_and_groups_the_xfails_by_registry_entry(monkeypatch, capsys):
    code, out = _run(monkeypatch, capsys, _cases())
    lines = out.rstrip("\n").splitlines()
    assert code == 0
    assert lines[-1] == "VERDICT: PASSED (exit 0): 9 cases: 4 passed, 0 failed, 4 xfailed, 1 skipped"
    head = next(i for i, ln in enumerate(lines) if ln.startswith("known divergences (strict xfails)"))
    assert lines[head] == ("known divergences (strict xfails): 4 cases, 2 registry entries "
                           "(rnnparity.check.divergences)")
    first, second = (BUGS[0].xfail_reason().split("]: ", 1)[1], BUGS[1].xfail_reason().split("]: ", 1)[1])
    assert lines[head + 1:head + 3] == [f"  3  [{BUGS[0].key}] {first}", f"  1  [{BUGS[1].key}] {second}"]
    # the skip reasons come before the xfails: the report no longer ends on them
    skip = next(i for i, ln in enumerate(lines) if ln.startswith("  skipped 1: "))
    assert skip < head < len(lines) - 1


def test_a_failing_run_ends_with_its_verdict_after_the_failures(monkeypatch, capsys):
    code, out = _run(monkeypatch, capsys, _cases(failed=2))
    lines = out.rstrip("\n").splitlines()
    assert code == 1
    assert lines[-1] == "VERDICT: FAILED (exit 1): 2 of 11 cases failed; 4 passed, 2 failed, 4 xfailed, 1 skipped"
    assert "FAILED (2):" in out and out.index("FAILED (2):") < out.index("VERDICT: FAILED")


def test_a_run_that_ran_nothing_ends_with_its_verdict(monkeypatch, capsys):
    code, out = _run(monkeypatch, capsys, [])
    assert code == 2 and out.rstrip("\n").splitlines()[-1] == "VERDICT: NOTHING RAN (exit 2): no case ran"


def test_xfails_without_a_registry_key_are_grouped_by_their_reason():
    results = {"a": ("xfailed", ""), "b": ("xfailed", ""), "c": ("passed", "")}
    details = {"a": {"xfail_reason": "flaky upstream"}, "b": {"xfail_reason": "flaky upstream"}}
    assert text.xfail_groups(results, details) == [("", "flaky upstream", 2)]


def test_every_status_is_in_one_table_that_the_reports_read():
    """One row of statuses.CHECK is a status everywhere: the grid's verdicts, the counts, the colours."""
    from rnnparity.report import OUTCOMES, grid

    assert list(grid.CHECK_VERDICTS) == [s.key for s in statuses.CHECK]
    assert OUTCOMES == ("passed", "failed", "xfailed", "ill-conditioned", "skipped")
    assert {s.key for s in statuses.CHECK + statuses.COMPARE + statuses.MODEL} == set(statuses.palette())
    assert [statuses.check_verdict(o, {}) for o in ("failed", "xfailed", "passed", "skipped",
                                                    "ill-conditioned")] == ["fail", "xfail", "pass", "skip", "ill"]
    assert statuses.check_verdict("passed", {"rejected": "ValueError"}) == "rejected"
