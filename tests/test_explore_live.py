"""`rnnparity explore` against the live frameworks: a repro script runs with no rnnparity importable,
and a seeded, CI-sized search (EXPLORE_SECONDS of hypothesis search, ~75 s) finds nothing
unexplained. `tox -e explore` runs the long search."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rnnparity.explore import repro, run, search, space
from rnnparity.targets import registry

EXPLORE_SECONDS = float(os.environ.get("RNNPARITY_EXPLORE_SECONDS", "75"))
EXPLORE_SEED = 0
# a loaded 2-core CI box runs 0.3-3 s per configuration (T up to 500, a float64 re-run, the reference)
MIN_CONFIGS = 12
MAX_STEPS = 100  # an eager T=500 stateful Bidirectional alone takes a minute there


def _target():
    for target in space.TARGETS:
        if registry.availability(target)[0]:
            return target
    pytest.skip("neither keras3 nor tf_keras is installed")


# runs the script as `python repro.py` would, with `import rnnparity` made to fail
NO_RNNPARITY = "import runpy, sys; sys.modules['rnnparity'] = None; runpy.run_path(sys.argv[1], run_name='__main__')"


@pytest.mark.live
def test_a_repro_script_runs_with_only_the_framework(tmp_path):
    cell = {"units": 3, "activation": None, "use_bias": True, "recurrent_activation": None}
    config = {"target": _target(), "kind": "stacked",
              "cells": [{**cell, "class": "GRUCell", "reset_after": True}, {**cell, "class": "LSTMCell"}],
              "wrapper": None, "flags": {"return_sequences": True, "return_state": True, "go_backwards": False,
                                         "stateful": False, "unroll": False},
              "dtype": "float64", "batch": 2, "steps": 6, "features": 3, "mask": "none",
              "initial_state": True, "scale": 0.6, "seed": 5}
    result = run.run_config(config)
    path = repro.write(result, tmp_path)
    text = path.read_text()
    assert "import rnnparity" not in text and "from rnnparity" not in text
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", NO_RNNPARITY, str(path)], capture_output=True, text=True,
                          env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "the framework vs an independent NumPy reference" in out, out
    # the framework-only twins that show the float64 stacked-cells surprise without rnnparity
    assert "the same layer in float32" in out and "StackedRNNCells(cells, dtype='float64')" in out, out
    assert "call 1 output[0] (float64" in out, out


@pytest.mark.live
def test_a_seeded_search_finds_nothing_unexplained(tmp_path):
    targets = [t for t in space.TARGETS if registry.availability(t)[0]]
    if not targets:
        pytest.skip("neither keras3 nor tf_keras is installed")
    summary = search.explore(EXPLORE_SECONDS, EXPLORE_SEED, targets, out_dir=tmp_path, shrink_seconds=20,
                             max_steps=MAX_STEPS)
    assert summary.configs >= MIN_CONFIGS, summary.text()
    assert summary.unexplained == 0, (
        f"rnnparity explore --budget {EXPLORE_SECONDS:g} --seed {EXPLORE_SEED} --max-steps {MAX_STEPS} "
        f"found what nothing "
        f"explains (register the framework's bugs in check/divergences.py, fix rnnparity's):\n"
        + summary.text())


@pytest.mark.live
def test_one_configuration_runs_again_from_its_json(tmp_path, capsys):
    import json

    from rnnparity.cli import main

    config = space.sweep_config(0, 0, names=lambda target: (None,))
    config.update(target=_target(), kind="GRU", cells=[{"class": "GRUCell", "units": 2, "activation": None,
                                                        "use_bias": True, "recurrent_activation": None,
                                                        "reset_after": True}],
                  wrapper=None, dtype="float32", steps=4, mask="none", scale=0.6)
    assert main(["explore", "--config", json.dumps(config), "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("agree: ")
