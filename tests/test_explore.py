"""`rnnparity explore`'s machinery with no framework: the space (deterministic, the structures it
builds), the classification of a verdict into outcomes, the shrinking (hypothesis' and the greedy
pass) and the budgeted search, driven by a planted "framework" whose only bug is float64 stacked
cells. The live runs are in tests/test_explore_live.py."""
from __future__ import annotations

import types

import numpy as np
import pytest

from rnnparity.check.compare import Mismatch
from rnnparity.explore import run, search, shrink, space
from rnnparity.plan import Outcome, Recording

NAMES = lambda target: (None, "tanh", "relu", "hard_sigmoid")  # noqa: E731 - no framework to ask


def _config(**changes):
    cell = {"class": "GRUCell", "units": 3, "activation": None, "use_bias": True,
            "recurrent_activation": None, "reset_after": True}
    config = {"target": "tf_keras", "kind": "stacked", "cells": [cell, {**cell, "class": "LSTMCell"}],
              "wrapper": None, "flags": {"return_sequences": True, "return_state": False,
                                          "go_backwards": False, "stateful": False, "unroll": False},
              "dtype": "float64", "batch": 2, "steps": 5, "features": 3, "mask": "none",
              "initial_state": False, "scale": 0.6, "seed": 1}
    config.update(changes)
    return config


def test_the_sweep_is_deterministic_and_reaches_every_kind_dtype_and_target():
    first = [space.sweep_config(3, i, names=NAMES) for i in range(200)]
    assert first == [space.sweep_config(3, i, names=NAMES) for i in range(200)]
    assert first != [space.sweep_config(4, i, names=NAMES) for i in range(200)]
    assert {c["kind"] for c in first} == set(space.KINDS)
    assert {c["dtype"] for c in first} == set(space.DTYPES)
    assert {c["target"] for c in first} == set(space.TARGETS)
    assert max(c["steps"] for c in first) > 100 and min(c["steps"] for c in first) <= 2
    assert any(c["wrapper"] and c["wrapper"]["backward"] for c in first)
    assert len({space.config_id(c) for c in first}) == len(first)
    assert max(space.sweep_config(3, i, names=NAMES, max_steps=30)["steps"] for i in range(200)) == 30


def test_a_stacked_bidirectional_stateful_configuration_becomes_spec_plan_and_states():
    config = _config(wrapper={"merge_mode": "sum", "own_dtype": False, "backward": None},
                     initial_state=True, flags={**_config()["flags"], "stateful": True})
    spec = space.spec_of(config)
    assert spec.cls == "RNN" and spec.stacked and [c["class"] for c in spec.cells] == ["GRUCell", "LSTMCell"]
    assert spec.wrapper == {"merge_mode": "sum"} and spec.config["dtype"] == "float64"
    plan = space.plan_of(config)
    assert [type(s).__name__ for s in plan.steps] == ["Call", "Call", "Reset", "Call"]
    states = plan.calls[0].initial_state  # one list per cell, forward cells then backward cells
    assert [len(s) for s in states] == [1, 2, 1, 2] and states[1][0].shape == (2, 3)
    assert plan.calls[0].x.dtype == np.float64 and plan.calls[1].initial_state is None


def test_a_different_backward_layer_and_a_mixed_policy():
    backward = {"class": "LSTMCell", "units": 3, "activation": "relu", "use_bias": False,
                "recurrent_activation": None}
    config = _config(kind="LSTM", cells=[{**backward, "activation": None, "use_bias": True}],
                     wrapper={"merge_mode": "concat", "own_dtype": True, "backward": backward},
                     dtype="mixed_float16", initial_state=True)
    spec = space.spec_of(config)
    assert spec.cls == "LSTM" and spec.policy == "mixed_float16" and "dtype" not in spec.config
    assert spec.wrapper["backward_config"]["activation"] == "relu"
    assert spec.wrapper["backward_config"]["go_backwards"] is True  # Keras requires the opposite
    assert "dtype" not in spec.wrapper  # the policy covers the wrapper
    states = space.plan_of(config).calls[0].initial_state
    assert len(states) == 4 and states[0].dtype == np.float32  # float32 inputs under a mixed policy


def _recording(error=None, rounding=None):
    return Recording("id", None, None, [], Outcome([], error), "keras2", rounding=rounding)


def _values(precision="float64"):
    return Mismatch("values", "output [0]: 3 of 10 elements beyond tolerance", precision, "output [0]", 0, 0)


@pytest.mark.parametrize("rounding, problems, outcome", [
    (None, [], run.AGREE),
    (types.SimpleNamespace(passed=True), [], run.ROUNDING),  # the verdict before the envelope
    (types.SimpleNamespace(status="pass"), [], run.ROUNDING),
    (types.SimpleNamespace(status="ill-conditioned", report=lambda: "ill-conditioned from t=12"), [], run.ILL),
    (types.SimpleNamespace(status="ill-conditioned", report=lambda: "x"), [_values()], run.ILL),
    (types.SimpleNamespace(status="fail", report=lambda: "x"), [_values()], run.UNEXPLAINED),
    (None, [_values()], run.UNEXPLAINED),
])
def test_the_verdict_becomes_an_outcome(rounding, problems, outcome):
    # float32: float64 stacked cells meet a registered bug (float64-stacked-cells-compute-in-float32)
    result = run.classify(_config(dtype="float32"), _recording(rounding=rounding), problems)
    assert result.outcome == outcome
    if outcome == run.UNEXPLAINED:
        assert result.signature == "UNEXPLAINED:values:float64" and result.finding and result.report


@pytest.mark.parametrize("error, message, outcome, signature", [
    (None, "the framework accepted this configuration but building the reference raised ValueError: "
           "activation='glu' cannot run", run.REF_REFUSES, ""),
    (None, "the reference raised IndexError at step 'call': index 3\n  but the framework ran through",
     run.UNEXPLAINED, "UNEXPLAINED:reference-raises:IndexError"),
    ((0, "InvalidArgumentError", "cannot compute SelectV2"),
     "the framework raised InvalidArgumentError at step 'call': SelectV2\n  but the reference ran through",
     run.FW_CRASH, "framework crash:InvalidArgumentError"),
    ((-1, "ValueError", "no"), "the framework rejected this configuration with ValueError: no\n"
                               "  but the reference accepted it", run.UNEXPLAINED,
     "UNEXPLAINED:framework-rejects:ValueError"),
])
def test_errors_become_refusals_crashes_or_unexplained(error, message, outcome, signature):
    result = run.classify(_config(dtype="float32"), _recording(error=error), [Mismatch("error", message)])
    assert (result.outcome, result.signature) == (outcome, signature)


def test_both_sides_rejecting_is_refused_alike():
    result = run.classify(_config(dtype="float32"), _recording(error=(-1, "ValueError", "bad")), [])
    assert result.outcome == run.REFUSED_ALIKE and "bad" in result.detail


def test_a_failure_where_a_registered_bug_applies_names_its_key():
    # tf_keras stacked one-state cells, initial states as lists, masked: a registered divergence
    config = _config(cells=[_config()["cells"][0]] * 2, mask="right", initial_state=True, dtype="float32")
    result = run.classify(config, _recording(), [_values()])
    assert result.outcome == run.KNOWN and result.known_key == "tf_keras-stacked-cells-masked-state-lists"
    # the same failure without the mask is no registered bug
    assert run.classify({**config, "mask": "none"}, _recording(), [_values()]).outcome == run.UNEXPLAINED


def _planted(config):
    """A stand-in for the live check: float64 stacked cells are 'computed in float32', the rest agrees."""
    bug = config["kind"] == "stacked" and config["dtype"] == "float64"
    if bug:
        return run.Result(config, run.UNEXPLAINED, "values differ", "UNEXPLAINED:values:float64")
    return run.Result(config, run.AGREE)


def test_the_greedy_pass_keeps_the_finding_and_drops_everything_else(monkeypatch):
    monkeypatch.setattr(shrink, "run_config", _planted)
    big = _config(steps=300, batch=4, features=6, mask="holes", initial_state=True, scale=4.0,
                  wrapper={"merge_mode": "mul", "own_dtype": True, "backward": None},
                  flags={"return_sequences": True, "return_state": True, "go_backwards": True,
                         "stateful": True, "unroll": False})
    small = shrink.greedy(_planted(big), seconds=30).config
    assert small["kind"] == "stacked" and small["dtype"] == "float64"
    assert (small["steps"], small["batch"], small["features"], len(small["cells"])) == (1, 1, 1, 1)
    assert small["wrapper"] is None and small["mask"] == "none" and not small["initial_state"]
    assert not any(small["flags"].values()) and small["cells"][0]["units"] == 1


def test_the_search_finds_shrinks_and_writes_the_planted_bug_within_its_budget(monkeypatch, tmp_path):
    monkeypatch.setattr(search, "run_config", _planted)
    monkeypatch.setattr(shrink, "run_config", _planted)
    written = []
    monkeypatch.setattr(search.repro, "write", lambda result, out: written.append(result) or out)
    summary = search.explore(budget=8, seed=0, out_dir=tmp_path, shrink_seconds=6, names=NAMES)
    assert summary.configs > 20 and summary.counts[run.AGREE] > 0
    assert [s for s, _, _ in summary.findings] == ["UNEXPLAINED:values:float64"]  # shrunk once
    minimal = written[0].config
    assert minimal["kind"] == "stacked" and minimal["dtype"] == "float64"
    assert (minimal["steps"], minimal["batch"], len(minimal["cells"])) == (1, 1, 1)
    assert summary.counts[run.UNEXPLAINED] >= 1 and summary.unexplained == summary.counts[run.UNEXPLAINED]


def test_the_sweep_counts_every_outcome(monkeypatch, tmp_path):
    monkeypatch.setattr(search, "run_config", _planted)
    monkeypatch.setattr(search.repro, "write", lambda result, out: out)
    summary = search.sweep(60, seed=0, out_dir=tmp_path, shrink_seconds=0, names=NAMES)
    assert summary.configs == 60 and sum(summary.counts.values()) == 60
    assert "explored 60 configurations" in summary.text()
    assert summary.as_dict()["counts"][run.AGREE] == summary.counts[run.AGREE]


def test_explore_imports_neither_a_framework_nor_hypothesis():
    import subprocess
    import sys

    code = ("import sys, rnnparity.explore.search, rnnparity.explore.repro, rnnparity.cli.explore; "
            "print([m for m in ('tensorflow', 'keras', 'tf_keras', 'hypothesis') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"



def test_the_command_refuses_a_target_it_cannot_explore(capsys):
    from rnnparity.cli import main

    assert main(["explore", "--target", "tf1", "--examples", "1"]) == 2
    assert "explore runs on keras3, tf_keras, not 'tf1'" in capsys.readouterr().err
