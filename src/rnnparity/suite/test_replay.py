"""Replay: every recorded case (fixtures/<target>-<version>/) against the NumPy reference.

No framework is imported: the recorded outputs are the oracle. Choose the recordings with
`--rnnparity-recordings DIR` (default: the checkout's fixtures/, else the recordings packaged with the
wheel, rnnparity/recordings.tar.xz). Known framework bugs are strict xfails exactly as in the live
suite (the recorded outputs carry the bug). A recording of a user's model (`rnnparity record-model`:
manifest kind "model", one case per recurrent layer) replays the same way; its xfails are listed in
its manifest.
"""
from __future__ import annotations

import pytest

from rnnparity import golden
from rnnparity.check import runner
from rnnparity.check.compare import Stats
from rnnparity.check.divergences import divergence_for
from rnnparity.plugin import recordings_root
from rnnparity.matrix.tiers import case_of
from rnnparity.suite import conclude

# recording path -> RecordingDir / PackedRecording: each manifest is parsed once per process
_OPEN: dict = {}


def recording(path) -> golden.RecordingDir:
    if path not in _OPEN:
        _OPEN[path] = golden.RecordingDir(path)
    return _OPEN[path]


def is_model_recording(rd) -> bool:
    return rd.manifest.get("kind") == "model"


def known_bug_reason(rd, case_id):
    """The xfail reason of a recorded case, or None."""
    if is_model_recording(rd):
        key = (rd.manifest.get("xfail") or {}).get(case_id)
        return f"known framework bug [{key}] (recorded by record-model)" if key else None
    known = divergence_for(case_of(case_id))
    return known.xfail_reason() if known else None


def pytest_generate_tests(metafunc):
    if "replay_case" not in metafunc.fixturenames:
        return
    root = recordings_root(metafunc.config)
    params = []
    for rd in golden.open_recordings(root) if root is not None else []:
        _OPEN.setdefault(str(rd.path), rd)
        for case_id in rd.case_ids:
            reason = known_bug_reason(rd, case_id)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param((str(rd.path), case_id), id=f"{rd.name}/{case_id}", marks=marks))
    if not params:
        why = (f"no recordings under {root}" if root is not None else
               "no recordings found (no fixtures/ in a checkout, none packaged with this install)")
        params = [pytest.param(None, id="no-recordings", marks=pytest.mark.skip(
            reason=f"replay: {why}; pass --rnnparity-recordings DIR or record one with `rnnparity record`"))]
    metafunc.parametrize("replay_case", params)


reference_factory = runner.reference_factory


def replay_repro(path, case_id):
    """The replayed case alone (its id is `<recording>/<case id>`), and the live case."""
    return f"{runner.pytest_repro(f'{recording(path).name}/{case_id}')}    (live: rnnparity check --case {case_id})"


@pytest.mark.replay
def test_replay(replay_case, record_property, pytestconfig):
    path, case_id = replay_case
    try:
        rec = recording(path).load(case_id)
    except golden.MissingDependency as exc:  # e.g. bfloat16 outputs without ml_dtypes (no TensorFlow)
        pytest.skip(f"replay of {case_id}: {exc}")
    stats = Stats()
    target = (recording(path).manifest.get("target") if is_model_recording(recording(path))
              else case_of(case_id).target)
    # the same verdict as the live run (check/verdict.py); a registered bug fails on semantics
    verdict = runner.replay(rec, stats, rounding=known_bug_reason(recording(path), case_id) is None)
    conclude(case_id, verdict, record_property, pytestconfig, stats, f"replay {target}",
             repro=replay_repro(path, case_id),
             preface=f"replay of {path}/{case_id}.npz (recorded outputs are the oracle)")
