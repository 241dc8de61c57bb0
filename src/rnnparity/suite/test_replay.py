"""Replay: every recorded case (fixtures/<target>-<version>/) against the NumPy reference.

No framework is imported: the recorded outputs are the oracle. Choose the recordings with
`--rnnparity-fixtures DIR` (default: the repository's fixtures/). Known framework bugs are strict
xfails exactly as in the live suite (the recorded outputs carry the bug).
"""
from __future__ import annotations

import pytest

from rnnparity import golden, runner
from rnnparity.cases import case_from_id
from rnnparity.compare import Stats
from rnnparity.convert import from_spec
from rnnparity.divergences import divergence_for
from rnnparity.plugin import STATS_KEY, fixtures_root

_OPEN: dict = {}  # recording dir -> RecordingDir: each manifest is parsed once per process


def recording(path) -> golden.RecordingDir:
    if path not in _OPEN:
        _OPEN[path] = golden.RecordingDir(path)
    return _OPEN[path]


def pytest_generate_tests(metafunc):
    if "replay_case" not in metafunc.fixturenames:
        return
    root = fixtures_root(metafunc.config)
    dirs = golden.recording_dirs(root) if root is not None else []
    params = []
    for d in dirs:
        rd = recording(str(d))
        for case_id in rd.case_ids:
            known = None if case_id.startswith("tf1-") else divergence_for(case_from_id(case_id))
            marks = [pytest.mark.xfail(strict=True, reason=known.xfail_reason())] if known else []
            params.append(pytest.param((str(d), case_id), id=f"{rd.name}/{case_id}", marks=marks))
    if not params:
        why = f"no recordings under {root}" if root is not None else "no fixtures/ dir found"
        params = [pytest.param(None, id="no-fixtures", marks=pytest.mark.skip(
            reason=f"replay: {why}; pass --rnnparity-fixtures DIR or record one with `rnnparity record`"))]
    metafunc.parametrize("replay_case", params)


def reference_factory(rec: runner.Recording):
    """A reference built from the recorded spec, with the recorded weights."""
    def build():
        ref = from_spec(rec.spec, rec.dialect)
        if rec.weights is not None:
            ref.set_weights(list(rec.weights))
        return ref
    return build


def replay_tf1(rec: golden.Tf1Recording):
    """Mismatch messages for a recorded tf1 case (the reference on the recorded inputs and weights)."""
    from rnnparity.tf1_cases import Tf1Case, compare_to_reference

    if rec.record is None:
        return [f"TF rejected this case ({rec.error[1]}: {rec.error[2]}); replaying rejections of tf1 "
                f"cases is not supported"]
    try:
        return [p.message for p in compare_to_reference(Tf1Case.from_id(rec.case_id), rec.record)]
    except Exception as exc:  # noqa: BLE001 - reported as the mismatch
        return [f"the reference raised {type(exc).__name__}: {exc}"]


@pytest.mark.replay
def test_replay(replay_case, record_property):
    path, case_id = replay_case
    rec = recording(path).load(case_id)
    if isinstance(rec, golden.Tf1Recording):
        problems = replay_tf1(rec)
        if problems:
            pytest.fail(f"[{case_id}] replay of {path}:\n" + "\n".join(problems), pytrace=False)
        return
    stats = Stats()
    problems = runner.verify(rec, reference_factory(rec), stats)
    case = case_from_id(case_id)
    if problems:
        report = runner.failure_report(case_id, problems)
        pytest.fail(f"replay of {path}/{case_id}.npz (recorded outputs are the oracle)\n{report}",
                    pytrace=False)
    # only agreeing cases feed the summary of errors (a known-bug xfail would swamp it)
    record_property(STATS_KEY, stats.as_property(f"replay {case.target}"))
