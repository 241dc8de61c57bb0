"""Every repro line a failure prints selects exactly the failing test: a matrix case (`check --case`,
or its pytest -k), an activation-sweep case (not in the matrix: pytest -k only), a replayed case."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from rnnparity.check import runner
from rnnparity.check.compare import Mismatch
from rnnparity.suite import test_replay

SUITE = Path(test_replay.__file__).parent


def _selected(k, *files):
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=", "-k", k, *map(str, files)], capture_output=True, text=True)
    return [ln for ln in done.stdout.splitlines() if "::" in ln]


def _k_of(repro):
    return shlex.split(re.search(r'pytest --pyargs rnnparity (-k "[^"]+")', repro).group(1))[1]


def test_failure_report_repro_is_optional():
    problem = [Mismatch("values", "output [0]: differs")]
    assert "repro: rnnparity check --case lstm-f32-keras3" in runner.failure_report("lstm-f32-keras3", problem)
    assert "repro" not in runner.failure_report("LSTM lstm_1", problem, repro=None)


@pytest.mark.live
def test_sweep_repro_selects_the_sweep_case():
    pytest.importorskip("keras")
    case_id = "lstm-activation_relu-keras3"
    selected = _selected(_k_of(runner.pytest_repro(case_id)), SUITE / "test_activations.py")
    assert [s.rsplit("[", 1)[1] for s in selected] == [f"{case_id}]"], selected


def test_replay_repro_selects_the_replayed_case():
    from rnnparity import golden

    root = Path(__file__).resolve().parents[1] / "fixtures"
    dirs = golden.recording_dirs(root)
    if not dirs:
        pytest.skip(f"no recordings under {root}")
    rd = golden.RecordingDir(dirs[0])
    case_id = rd.case_ids[0]
    repro = test_replay.replay_repro(str(dirs[0]), case_id)
    assert f"rnnparity check --case {case_id}" in repro
    selected = _selected(_k_of(repro), SUITE / "test_replay.py")
    assert [s.rsplit("[", 1)[1] for s in selected] == [f"{rd.name}/{case_id}]"], selected
