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


# -- ConvLSTM1D/2D/3D -----------------------------------------------------------------------------
def _conv_config(**changes):
    cell = {"class": "ConvLSTMCell", "units": 3, "activation": "relu", "recurrent_activation": None,
            "use_bias": False, "unit_forget_bias": False, "dropout": 0.25, "recurrent_dropout": 0.0}
    conv = {"rank": 2, "kernel_size": [3, 2], "strides": [1, 1], "dilation_rate": [1, 2],
            "padding": "valid", "data_format": "channels_last", "spatial": [5, 4]}
    config = _config(kind="ConvLSTM", cells=[cell], conv=conv, dtype="float32", steps=4, features=2)
    config.update(changes)
    return config


def test_the_sweep_draws_small_convlstm_configurations_of_every_rank_and_option():
    convs = [space.sweep_config(3, i, names=NAMES, kinds=("ConvLSTM",)) for i in range(300)]
    assert {c["kind"] for c in convs} == {"ConvLSTM"}
    geometry = [c["conv"] for c in convs]
    assert {g["rank"] for g in geometry} == {1, 2, 3}
    assert {g["padding"] for g in geometry} == {"same", "valid"}
    assert {g["data_format"] for g in geometry} == {"channels_last", "channels_first"}
    assert {k for g in geometry for k in g["kernel_size"]} == {1, 2, 3}
    assert any(max(g["strides"]) > 1 for g in geometry) and any(max(g["dilation_rate"]) > 1 for g in geometry)
    assert any(c["wrapper"] and c["wrapper"]["backward"] for c in convs)
    assert {c["target"] for c in convs} == set(space.TARGETS) and {c["dtype"] for c in convs} == set(space.DTYPES)
    # Keras 3 channels_first 3-D compiles a convolution per step (seconds): never drawn
    assert not any(c["target"] == "keras3" and c["conv"]["rank"] == 3 and
                   c["conv"]["data_format"] == "channels_first" for c in convs)
    # small: one configuration costs well under a second
    assert max(np.prod(space.input_shape(c)) for c in convs) <= 3 * 8 * 7 * 7 * 7 * 3
    assert max(c["steps"] for c in convs) <= 8 and max(c["cells"][0]["units"] for c in convs) <= 4
    # a 'valid' window always fits the input
    for g in geometry:
        spans = [d * (k - 1) + 1 for k, d in zip(g["kernel_size"], g["dilation_rate"])]
        assert all(n >= s for n, s in zip(g["spatial"], spans)) or g["padding"] == "same"
    # the default space draws ConvLSTM as one kind among the others
    mixed = [space.sweep_config(3, i, names=NAMES) for i in range(200)]
    assert 15 < sum(c["kind"] == "ConvLSTM" for c in mixed) < 60
    assert {c["kind"] for c in mixed} == set(space.KINDS)


def test_kinds_are_parsed_by_name():
    assert space.parse_kinds("convlstm") == ("ConvLSTM",)
    assert space.parse_kinds("GRU, LSTM") == ("LSTM", "GRU")
    assert space.parse_kinds("all") == space.KINDS
    with pytest.raises(ValueError, match="--kinds takes"):
        space.parse_kinds("ConvGRU")


def test_a_convlstm_configuration_becomes_spec_plan_and_states():
    config = _conv_config(initial_state=True, wrapper={"merge_mode": "sum", "own_dtype": True, "backward": None})
    spec = space.spec_of(config)
    assert spec.cls == "ConvLSTM2D" and spec.wrapper == {"merge_mode": "sum", "dtype": "float32"}
    assert spec.config == {"filters": 3, "activation": "relu", "use_bias": False, "unit_forget_bias": False,
                           "dropout": 0.25, "kernel_size": [3, 2], "padding": "valid", "dilation_rate": [1, 2],
                           "return_sequences": True, "return_state": False, "go_backwards": False,
                           "stateful": False, "dtype": "float32"}
    call = space.plan_of(config).calls[0]
    assert call.x.shape == (2, 4, 5, 4, 2)  # (batch, time, *spatial, channels)
    # h and c of both directions: (batch, *out, filters), out = 5 - 3 + 1, 4 - 3 + 1 ('valid', dilation 2)
    assert [s.shape for s in call.initial_state] == [(2, 3, 2, 3)] * 4
    first = _conv_config(initial_state=True, conv={**_conv_config()["conv"], "data_format": "channels_first",
                                                   "strides": [2, 1], "dilation_rate": [1, 1]})
    call = space.plan_of(first).calls[0]
    assert call.x.shape == (2, 4, 2, 5, 4) and [s.shape for s in call.initial_state] == [(2, 3, 2, 3)] * 2
    assert space.spec_of(first).config["strides"] == [2, 1] and "dilation_rate" not in space.spec_of(first).config
    assert space.config_id(first).startswith("explore-ConvLSTM2D-k3x2-s2x1-valid-cf-float32-T4-tf_keras-")


def _planted_conv(config):
    """A stand-in for the live check: ConvLSTM with return_sequences 'disagrees'; the rest agrees."""
    if config["kind"] == "ConvLSTM" and config["flags"]["return_sequences"]:
        return run.Result(config, run.UNEXPLAINED, "values differ", "UNEXPLAINED:values:float32")
    return run.Result(config, run.AGREE)


def test_the_greedy_pass_shrinks_a_convlstm_finding_to_rank_1_kernel_1_and_the_smallest_input(monkeypatch):
    monkeypatch.setattr(shrink, "run_config", _planted_conv)
    big = _conv_config(conv={"rank": 3, "kernel_size": [3, 2, 3], "strides": [1, 2, 2], "dilation_rate": [1, 1, 1],
                             "padding": "same", "data_format": "channels_first", "spatial": [3, 3, 2]},
                       batch=3, steps=8, features=3, mask="holes", initial_state=True, scale=2.5,
                       wrapper={"merge_mode": "ave", "own_dtype": False, "backward": None},
                       flags={"return_sequences": True, "return_state": True, "go_backwards": True,
                              "stateful": True, "unroll": False})
    small = shrink.greedy(_planted_conv(big), seconds=30).config
    assert small["conv"] == {"rank": 1, "kernel_size": [1], "strides": [1], "dilation_rate": [1],
                             "padding": "valid", "data_format": "channels_last", "spatial": [1]}
    assert (small["steps"], small["batch"], small["features"], small["cells"][0]["units"]) == (1, 1, 1, 1)
    assert small["cells"][0] == {"class": "ConvLSTMCell", "units": 1, "activation": None, "recurrent_activation": None,
                                 "use_bias": True, "unit_forget_bias": True, "dropout": 0.0, "recurrent_dropout": 0.0}
    assert small["wrapper"] is None and small["mask"] == "none" and not small["initial_state"]
    assert small["flags"] == {"return_sequences": True, "return_state": False, "go_backwards": False,
                              "stateful": False, "unroll": False}


def test_the_greedy_pass_keeps_what_a_convlstm_finding_needs(monkeypatch):
    """An even kernel along the second axis with 'same' padding (TF's split) is the finding: the shrunk
    configuration keeps rank 2, that axis' kernel and 'same', and drops the rest."""
    def planted(config):
        conv = config.get("conv")
        bug = conv is not None and conv["rank"] >= 2 and conv["kernel_size"][1] % 2 == 0 and conv["padding"] == "same"
        return run.Result(config, run.UNEXPLAINED if bug else run.AGREE, "", "UNEXPLAINED:values:float32" if bug else "")
    monkeypatch.setattr(shrink, "run_config", planted)
    big = _conv_config(conv={"rank": 3, "kernel_size": [3, 2, 3], "strides": [1, 1, 1], "dilation_rate": [2, 1, 1],
                             "padding": "same", "data_format": "channels_last", "spatial": [3, 3, 2]})
    small = shrink.greedy(planted(big), seconds=30).config["conv"]
    assert small["rank"] == 2 and small["kernel_size"] == [1, 2] and small["padding"] == "same"
    assert small["spatial"] == [1, 1] and small["dilation_rate"] == [1, 1]


@pytest.mark.parametrize("target, changes, key", [
    ("keras3", {"data_format": "channels_first"}, "keras3-conv-lstm-channels-first-cpu"),
    ("tf_keras", {"data_format": "channels_first"}, None),  # tf_keras transposes itself
    ("keras3", {"data_format": "channels_first", "rank": 3, "kernel_size": [3, 2, 1], "strides": [1] * 3,
                "dilation_rate": [1] * 3, "spatial": [5, 4, 2]}, None),  # 3-D runs (XLA)
])
@pytest.mark.parametrize("wrapper", ["none", "go_backwards_with_a_backward_layer"])
def test_convlstm_configurations_meet_the_registered_convlstm_bugs(target, changes, key, wrapper):
    config = _conv_config(target=target, conv={**_conv_config()["conv"], **changes})
    if wrapper != "none":  # Keras 3 builds it (it rejects go_backwards only without a backward layer)
        backward = dict(config["cells"][0])
        config.update(wrapper={"merge_mode": "ave", "own_dtype": False, "backward": backward},
                      flags={**config["flags"], "go_backwards": True})
    known = run.classify(config, _recording(), [_values("float32")])
    assert (known.outcome, known.known_key) == ((run.KNOWN, key) if key else (run.UNEXPLAINED, None))


def test_a_masked_bidirectional_tf_keras_convlstm_is_a_known_bug_only_with_a_masked_step_after_a_valid_one():
    bidi = {"merge_mode": "concat", "own_dtype": False, "backward": None}
    holes = _conv_config(wrapper=bidi, mask="right", batch=3)  # rows of length 4, 3, 2: steps masked after valid ones
    assert run.known_bug(holes).key == "tf_keras-conv-lstm-ignores-zero-output-for-mask"
    assert run.known_bug({**holes, "target": "keras3"}) is None  # Keras 3 zeroes the masked outputs
    assert run.known_bug({**holes, "batch": 1, "steps": 1}) is None  # nothing masked after a valid step
    assert run.known_bug({**holes, "flags": {**holes["flags"], "return_sequences": False}}) is None


def test_a_planted_convlstm_mismatch_is_unexplained_and_a_refusal_is_classified():
    result = run.classify(_conv_config(), _recording(), [_values("float32")])
    assert (result.outcome, result.signature) == (run.UNEXPLAINED, "UNEXPLAINED:values:float32")
    message = ("the framework accepted this configuration but building the reference raised ValueError: "
               "ConvLSTM2D: padding='valid' does not fit")
    refused = run.classify(_conv_config(), _recording(), [Mismatch("error", message)])
    assert refused.outcome == run.REF_REFUSES and "does not fit" in refused.detail


def test_a_verdict_crash_gets_a_repro_that_runs_the_configuration_again(tmp_path):
    from rnnparity.explore import repro

    crash = run.Result(_conv_config(), run.UNEXPLAINED, "the verdict crashed: IndexError: index 20",
                       "UNEXPLAINED:verdict-crash:IndexError")
    text = repro.write(crash, tmp_path).read_text()
    assert "from rnnparity.explore import run" in text and "index 20" in text
    compile(text, "repro.py", "exec")
    namespace = {}
    exec(text.split('if __name__ == "__main__":')[0], namespace)  # noqa: S102 - our own script
    assert namespace["CONFIG"] == _conv_config()


def test_the_command_refuses_a_kind_it_does_not_know(capsys):
    from rnnparity.cli import main

    assert main(["explore", "--kinds", "ConvGRU", "--examples", "1"]) == 2
    assert "--kinds takes 'all' or a comma-separated list of SimpleRNN" in capsys.readouterr().err


@pytest.mark.parametrize("layer", ["LSTM", "GRU", "ConvLSTM1D"])
def test_where_neither_activation_can_run_the_reference_raises_the_recurrent_activations_error(layer):
    """Found by explore (keras3 ConvLSTM1D(activation='glu', recurrent_activation='threshold'): Keras
    runs the gates' recurrent_activation first and raises its TypeError; the reference raised glu's
    ValueError: "both raise, differently")."""
    import rnnparity as rp

    args = (2, 1) if layer == "ConvLSTM1D" else (2,)
    ref = getattr(rp, layer)(*args, activation="glu", recurrent_activation="threshold", dialect="keras3")
    x = np.ones((1, 2, 3, 1) if layer == "ConvLSTM1D" else (1, 2, 1), "float32")
    cell = ref.cell
    ref.set_weights([np.zeros(shape, "float32") for _, shape in cell.weight_specs(1)])
    with pytest.raises(TypeError, match="recurrent_activation='threshold' cannot run"):
        ref(x)
    alone = getattr(rp, layer)(*args, activation="glu", dialect="keras3")
    alone.set_weights([np.zeros(shape, "float32") for _, shape in alone.cell.weight_specs(1)])
    with pytest.raises(ValueError, match="activation='glu' cannot run"):
        alone(x)


def test_an_unrolled_masked_keras3_bidirectional_going_backwards_with_a_backward_layer_is_a_known_bug():
    """Found by the seeded search: Keras 3 builds Bidirectional(SimpleRNN(go_backwards=True, unroll=True),
    backward_layer=SimpleRNN(unroll=True)) (it rejects go_backwards only without a backward layer), and
    its go_backwards half meets unroll-mask-go-backwards-zero-output."""
    cell = {"class": "SimpleRNNCell", "units": 1, "activation": None, "use_bias": True}
    config = _config(target="keras3", kind="SimpleRNN", cells=[cell], mask="holes", dtype="float64",
                     wrapper={"merge_mode": None, "own_dtype": False, "backward": dict(cell)},
                     flags={"return_sequences": True, "return_state": False, "go_backwards": True,
                            "stateful": False, "unroll": True})
    assert run.known_bug(config).key == "unroll-mask-go-backwards-zero-output"
    assert run.known_bug({**config, "wrapper": {**config["wrapper"], "backward": None}}) is None  # rejected


def test_a_stateful_keras3_bidirectional_convlstm_going_backwards_with_a_backward_layer_is_a_known_bug():
    """Found by a 200 s seeded search: Bidirectional(ConvLSTM1D(go_backwards=True, stateful=True,
    return_state=True), backward_layer=...) fails as keras3-bidirectional-stateful-return-state does."""
    config = _conv_config(target="keras3", wrapper={"merge_mode": "concat", "own_dtype": False,
                                                    "backward": dict(_conv_config()["cells"][0])},
                          flags={"return_sequences": False, "return_state": True, "go_backwards": True,
                                 "stateful": True, "unroll": False})
    assert run.known_bug(config).key == "keras3-bidirectional-stateful-return-state"
    assert run.known_bug({**config, "wrapper": {**config["wrapper"], "backward": None}}) is None  # rejected
