"""`rnnparity explore` against the live frameworks: repro scripts (a framework finding, a planted
ConvLSTM reference bug) run with no rnnparity importable, and a seeded, CI-sized search (EXPLORE_SECONDS of hypothesis search, ~75 s) finds nothing
unexplained. `tox -e explore` runs the long search."""
from __future__ import annotations

import os
import subprocess
import sys

from pathlib import Path

import pytest

from rnnparity.explore import repro, run, search, space
from rnnparity.reference.conv import cross_correlate
from rnnparity.reference.conv_lstm import ConvLSTMCell
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


# runs each script as `python repro.py` would, with `import rnnparity` made to fail (several scripts
# in one process: TensorFlow is imported once)
NO_RNNPARITY = ("import runpy, sys; sys.modules['rnnparity'] = None\n"
                "for path in sys.argv[1:]:\n"
                "    print('=== ' + path, flush=True); runpy.run_path(path, run_name='__main__')")


def run_standalone(paths, cwd):
    """{path: its output}, every script run in one process with rnnparity not importable."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", NO_RNNPARITY, *map(str, paths)], capture_output=True,
                          text=True, env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=cwd, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sections = proc.stdout.split("=== ")[1:]
    return {Path(section.split("\n", 1)[0]): section.split("\n", 1)[1] for section in sections}


def flipped_recurrent_kernel(self, h, then=None):
    """A planted reference bug: the recurrent convolution as a true convolution (kernel flipped)."""
    ones = (1,) * self.rank
    flipped = self.recurrent_kernel[tuple(slice(None, None, -1) for _ in range(self.rank))]
    return cross_correlate(h, flipped, ones, ones, "same", self.matmul, then=then)


def conv_config(target, kernel):
    cell = {"class": "ConvLSTMCell", "units": 2, "activation": None, "recurrent_activation": None,
            "use_bias": True, "unit_forget_bias": True, "dropout": 0.0, "recurrent_dropout": 0.0}
    return {"target": target, "kind": "ConvLSTM", "cells": [cell],
            "conv": {"rank": 1, "kernel_size": [kernel], "strides": [1], "dilation_rate": [1], "padding": "same",
                     "data_format": "channels_last", "spatial": [4]},
            "wrapper": None, "flags": {"return_sequences": True, "return_state": True, "go_backwards": False,
                                       "stateful": False, "unroll": False},
            "dtype": "float32", "batch": 2, "steps": 3, "features": 2, "mask": "none",
            "initial_state": False, "scale": 0.6, "seed": 5}


@pytest.mark.live
def test_repro_scripts_run_with_only_the_framework(tmp_path, monkeypatch):
    """A framework finding (float64 stacked cells) and a planted ConvLSTM reference bug: each is
    classified, its repro script runs with no rnnparity and shows the disagreement."""
    cell = {"units": 3, "activation": None, "use_bias": True, "recurrent_activation": None}
    config = {"target": _target(), "kind": "stacked",
              "cells": [{**cell, "class": "GRUCell", "reset_after": True}, {**cell, "class": "LSTMCell"}],
              "wrapper": None, "flags": {"return_sequences": True, "return_state": True, "go_backwards": False,
                                         "stateful": False, "unroll": False},
              "dtype": "float64", "batch": 2, "steps": 6, "features": 3, "mask": "none",
              "initial_state": True, "scale": 0.6, "seed": 5}
    stacked = repro.write(run.run_config(config), tmp_path)
    assert run.run_config(conv_config(_target(), 2)).outcome == run.AGREE
    monkeypatch.setattr(ConvLSTMCell, "recurrent_conv", flipped_recurrent_kernel)
    planted = run.run_config(conv_config(_target(), 2))
    assert (planted.outcome, planted.signature) == (run.UNEXPLAINED, "UNEXPLAINED:values:float32"), planted.report
    assert run.run_config(conv_config(_target(), 1)).outcome == run.AGREE  # a 1-wide kernel flips to itself
    conv = repro.write(planted, tmp_path)
    for path in (stacked, conv):
        text = path.read_text()
        assert "import rnnparity" not in text and "from rnnparity" not in text
    out = run_standalone([stacked, conv], tmp_path)
    assert "the framework vs an independent NumPy reference" in out[stacked], out[stacked]
    # the framework-only twins that show the float64 stacked-cells surprise without rnnparity
    assert "the same layer in float32" in out[stacked], out[stacked]
    assert "StackedRNNCells(cells, dtype='float64')" in out[stacked], out[stacked]
    assert "call 1 output[0] (float64" in out[stacked], out[stacked]
    # the ConvLSTM: the layer runs, and differs from the (planted) reference from the second step (the
    # recurrent convolution of the zero initial state is 0 either way)
    assert "ConvLSTM1D" in out[conv] and "first differing step t=1" in out[conv], out[conv]
    assert "call 1 output[0] (float32 vs float32, shape (2, 3, 4, 2))" in out[conv], out[conv]


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
