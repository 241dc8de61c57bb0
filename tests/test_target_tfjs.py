"""The tfjs target: Keras 3 layers loaded into TensorFlow.js layers (4.22, cpu backend) in a node worker.

The format helpers and the installer's refusals run everywhere; everything that runs TF.js needs node
and the npm packages (`rnnparity install-tfjs`) and is otherwise one visible skip naming what to do;
the live cases also need TensorFlow + Keras 3."""
from __future__ import annotations

import os
import re
import signal
import subprocess

import numpy as np
import pytest

from rnnparity.check import runner
from rnnparity.check.divergences import REGISTRY, divergence_for
from rnnparity.matrix.cases import Case, case_from_id
from rnnparity.matrix.data import make_plan
from rnnparity.plan import Call, Plan, Reset
from rnnparity.cli import main
from rnnparity.targets import registry, tfjs_format, tfjs_install

_OK, _WHY = registry.availability("tfjs")
live = pytest.mark.skipif(not _OK, reason=_WHY or "tfjs available")
node_only = pytest.mark.skipif(tfjs_install.missing() is not None,
                               reason=f"tfjs: {tfjs_install.missing()}")
TFJS_DIVERGENCES = [d for d in REGISTRY if d.targets == ("tfjs",)]


def _check(case_id):
    rec, problems = runner.check_live(case_from_id(case_id))
    assert not problems, runner.failure_report(case_id, problems)
    return rec


# -- the layers format and the installer (no node needed) --------------------------------------------
def test_keras3_objects_become_layers_format_objects():
    sent = {"module": "keras.layers", "class_name": "LSTM", "registered_name": None,
            "build_config": {"input_shape": [3, 7, 3]},
            "config": {"name": "lstm", "units": 5, "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                                             "config": {"name": "float32"}, "registered_name": None},
                       "kernel_initializer": {"module": "keras.initializers", "class_name": "Zeros",
                                              "config": {}, "registered_name": None}}}
    assert tfjs_format.layers_format(sent) == {
        "class_name": "LSTM", "config": {"name": "lstm", "units": 5, "dtype": "float32",
                                         "kernel_initializer": {"class_name": "Zeros", "config": {}}}}


@pytest.mark.parametrize("dtype", ["float64", "float16", "mixed_float16"])
def test_a_dtype_tfjs_lacks_is_refused_not_narrowed(dtype):
    sent = {"class_name": "GRU", "config": {"name": "g", "dtype": {"class_name": "DTypePolicy",
                                                                   "config": {"name": dtype}}}}
    with pytest.raises(tfjs_format.NotExpressible, match=f"dtype='{dtype}': TensorFlow.js computes in float32"):
        tfjs_format.layers_format(sent)


def test_a_backward_layer_other_than_the_flipped_forward_is_refused():
    layer = {"class_name": "GRU", "config": {"name": "f", "units": 2, "go_backwards": False}}
    same = {"class_name": "GRU", "config": {"name": "b", "units": 2, "go_backwards": True}}
    other = {"class_name": "GRU", "config": {"name": "b", "units": 3, "go_backwards": True}}
    ok = tfjs_format.layers_format({"class_name": "Bidirectional",
                                    "config": {"layer": layer, "backward_layer": same}})
    assert "backward_layer" not in ok["config"]
    with pytest.raises(tfjs_format.NotExpressible, match="backward_layer.*differs in units"):
        tfjs_format.layers_format({"class_name": "Bidirectional", "config": {"layer": layer, "backward_layer": other}})


def test_an_option_tfjs_dropped_is_named():
    sent = {"class_name": "Bidirectional", "config": {"merge_mode": "sum", "layer": {"class_name": "LSTM", "config": {
        "units": 2, "zero_output_for_mask": True, "seed": 3, "time_major": True}}}}
    held = {"mergeMode": "sum", "layer": {"className": "LSTM", "config": {"units": 2}}}
    # in a Bidirectional zero_output_for_mask is the wrapper's semantics (measured by the cases); the seed
    # has no effect at inference; time_major would silently change the maths
    assert tfjs_format.unread_options(sent, "Bidirectional", held) == ["LSTM.time_major=True"]
    alone = {"class_name": "LSTM", "config": {"units": 2, "zero_output_for_mask": True, "stateful": True}}
    assert tfjs_format.unread_options(alone, "LSTM", {"units": 2, "stateful": False}) == [
        "LSTM.zero_output_for_mask=True", "LSTM.stateful=True (TF.js holds False)"]


def test_install_says_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(tfjs_install.shutil, "which", lambda name: None)
    with pytest.raises(tfjs_install.TfjsInstallError, match="needs Node.js: `node` is not on PATH"):
        tfjs_install.install_tfjs(tmp_path / "cache")
    assert "node (Node.js >= 18) not found" in tfjs_install.missing()
    assert main(["install-tfjs", "--dir", str(tmp_path / "cache")]) == 1
    ok, why = registry.availability("tfjs")
    assert not ok and "rnnparity install-tfjs" in why


def test_an_empty_cache_dir_is_reported_not_installed(monkeypatch, tmp_path):
    monkeypatch.setenv(tfjs_install.ENV_DIR, str(tmp_path))
    assert tfjs_install.cache_dir() == tmp_path
    if tfjs_install.node_executable() is not None:
        assert f"not installed in {tmp_path}; run rnnparity install-tfjs" in tfjs_install.missing()


def test_the_lock_pins_exact_versions():
    import json

    lock = json.loads(tfjs_install.LOCK.read_text())
    for name in ("@tensorflow/tfjs", "@tensorflow/tfjs-core", "@tensorflow/tfjs-layers",
                 "@tensorflow/tfjs-backend-cpu"):
        assert lock["packages"][f"node_modules/{name}"]["version"] == "4.22.0"
    assert "node_modules/@tensorflow/tfjs-node" not in lock["packages"]  # no native binary
    assert str(tfjs_install.cache_dir()).endswith(f"tfjs-{tfjs_install.lock_hash()}") or \
        os.environ.get(tfjs_install.ENV_DIR)


@node_only
def test_install_is_idempotent():
    where = tfjs_install.installed_dir()
    assert tfjs_install.install_tfjs(quiet=True) == where  # returned untouched, npm not run


# -- the node worker -------------------------------------------------------------------------------
@node_only
def test_arrays_cross_exactly_and_float64_is_refused():
    from rnnparity.targets import tfjs_node

    a = np.random.RandomState(0).randn(2, 3).astype(np.float32)
    assert np.array_equal(tfjs_node.decode(tfjs_node.encode(a)), a)
    m = np.array([[True, False]])
    assert np.array_equal(tfjs_node.decode(tfjs_node.encode(m)), m)
    with pytest.raises(TypeError, match="float64 array cannot cross"):
        tfjs_node.encode(a.astype(np.float64))


@node_only
def test_a_dead_worker_is_a_clear_error_and_the_next_request_starts_a_fresh_one():
    from rnnparity.targets import tfjs_node

    w = tfjs_node.worker()
    assert w.request("versions", "versions")["backend"] == "cpu"
    w.proc.kill()
    w.proc.wait()
    with pytest.raises(tfjs_node.TfjsWorkerError, match=r"exited with code -9 \(versions\)"):
        w.request("versions", "versions")
    fresh = tfjs_node.worker()
    assert fresh is not w and fresh.request("versions", "versions")["backend"] == "cpu"


@node_only
def test_a_hung_worker_times_out_and_is_stopped(monkeypatch):
    from rnnparity.targets import tfjs_node

    monkeypatch.setenv("RNNPARITY_WORKER_TIMEOUT", "1")
    w = tfjs_node.worker()
    w.request("versions", "versions")
    os.kill(w.proc.pid, signal.SIGSTOP)  # alive, never answers
    with pytest.raises(tfjs_node.TfjsWorkerError, match="did not answer within 1 s"):
        w.request("versions", "versions")
    assert not w.alive()


@node_only
def test_a_tfjs_error_comes_back_with_its_type():
    from rnnparity.targets import tfjs_node

    with pytest.raises(tfjs_node.TfjsError, match="no layer with handle 12345"):
        tfjs_node.worker().request("reset", "reset", handle=12345)


@node_only
@pytest.mark.parametrize("dtype", ["float64", "float16", "mixed_float16", "mixed_bfloat16"])
def test_tfjs_loads_other_dtypes_and_computes_in_float32(dtype):
    """Why float64/float16/mixed cases are `cannot express` (forced through TF.js, not our refusal)."""
    from rnnparity.targets import tfjs_node

    layer = {"class_name": "SimpleRNN", "config": {"name": "r", "units": 2, "dtype": dtype}}
    w = tfjs_node.worker()
    reply = w.request("build", "build", model=tfjs_format.model_topology(layer, [1, None, 1]),
                      weights=[tfjs_node.encode(np.ones(s, np.float32)) for s in ((1, 2), (2, 2), (2,))])
    out = w.request("call", "call", handle=reply["handle"], x=tfjs_node.encode(np.ones((1, 2, 1), np.float32)))
    assert out["outputs"][0]["dtype"] == "float32"
    w.request("dispose", "dispose", handle=reply["handle"])


@node_only
def test_gru_reset_after_is_rejected_by_tfjs():
    """Why GRU(reset_after=True) is `cannot express` (tensorflow/tfjs#5728): the day it loads, this fails."""
    from rnnparity.targets import tfjs_node

    layer = {"class_name": "GRU", "config": {"name": "g", "units": 2, "reset_after": True}}
    with pytest.raises(tfjs_node.TfjsError, match="GRUCell does not support reset_after parameter set to true"):
        tfjs_node.worker().request("build", "build", model=tfjs_format.model_topology(layer, [1, None, 1]),
                                   weights=[])
    assert "tensorflow/tfjs#5728" in registry.cannot_express(Case(layer="gru", target="tfjs"))
    assert registry.cannot_express(Case(layer="gru_reset_before", target="tfjs")) is None


@node_only
@pytest.mark.parametrize("divergence", TFJS_DIVERGENCES, ids=lambda d: d.key)
def test_each_tfjs_divergence_repro_shows_it(divergence):
    """Each registered repro runs in node and prints what its comment says TF.js prints."""
    env = {**os.environ, "NODE_PATH": str(tfjs_install.installed_dir() / "node_modules")}
    done = subprocess.run([tfjs_install.node_executable(), "-e", divergence.repro], env=env,
                          capture_output=True, text=True, timeout=60)
    if divergence.key == "tfjs-bidirectional-of-rnn-cells-fails":
        assert done.returncode != 0 and "Improper config format" in done.stderr, done.stderr
        return
    if divergence.key == "tfjs-conv-lstm2d-mask-transpose":
        assert done.returncode != 0 and "Error in transpose" in done.stderr, done.stderr
        return
    assert done.returncode == 0, done.stderr
    expected = {
        "tfjs-stacked-cells-state-order-reversed": r"\[ 1, 5 \], \[ 1, 5 \], \[ 1, 5 \], \[ 1, 4 \], \[ 1, 4 \]",
        "tfjs-bidirectional-masked-steps-not-zeroed": r"\[0\.9426808, 0\s*\]\]\]",
        "tfjs-masked-step-outputs-state": r"\[\[\[1\s*, 1\s*\],",
        "tfjs-hard-sigmoid-is-keras2s": r"\[0\.7\]",
    }[divergence.key]
    assert re.search(expected, done.stdout), done.stdout


# -- live cases ------------------------------------------------------------------------------------
@live
@pytest.mark.parametrize("case_id", [
    "lstm-seq-state-f32-tfjs",
    "gru_reset_before-bidi_concat-seq-state-f32-tfjs",
    "simple_rnn-bidi_none-seq-state-f32-tfjs",
    "lstm-seq-mask_right-init-f32-tfjs",
    "gru_reset_before-seq-stateful-f32-tfjs",          # carried state, reset, chunks of 4 and 3 steps
    "lstm-bidi_ave-seq-state-stateful-f32-tfjs",      # Keras 3 itself fails here (the Keras 3 divergence)
    "simple_rnn-stacked-seq-mask_right-f32-tfjs",
])
def test_a_loaded_layer_agrees(case_id):
    rec = _check(case_id)
    assert rec.info["loaded_with"].startswith("tf.models.modelFromJSON")


@live
def test_outputs_come_back_in_the_keras_structure():
    rec = _check("lstm-state-f32-tfjs")
    (out,) = rec.outcome.outputs
    assert isinstance(out, tuple) and len(out) == 3  # (output, h, c), as Keras 3
    np.testing.assert_array_equal(out[0], out[1])
    assert np.abs(out[1] - out[2]).max() > 1e-3


@live
def test_stateful_state_is_carried_and_reset():
    case = Case(layer="lstm", return_sequences=True, stateful=True, target="tfjs")
    x1, x2 = (c.x for c in make_plan(case).calls[:2])
    plan = Plan([Call(x1), Call(x2), Reset(), Call(x2), Reset(), Call(x1), Call(x2)])
    rec = runner.record_spec("tfjs", case.layer_spec(), plan, case.seed, case.id, case.input_shape)
    assert rec.outcome.error is None, rec.outcome.error
    first, carried, fresh, first_again, carried_again = rec.outcome.outputs
    assert np.abs(carried - fresh).max() > 1e-2
    assert np.array_equal(first_again, first) and np.array_equal(carried_again, carried)


@live
def test_unroll_runs_and_says_tfjs_ignored_it():
    rec = _check("lstm-seq-bwd-unroll-f32-tfjs")
    assert "unroll=True" in rec.info["ignored_by_tfjs"]


@live
def test_a_tampered_weight_in_tfjs_is_caught(monkeypatch):
    from rnnparity.targets import tfjs_node

    encode = tfjs_node.encode
    monkeypatch.setattr(tfjs_node, "encode", lambda a: encode(a + 0.01 if np.ndim(a) == 2 and
                                                             np.shape(a)[0] == 5 else a))  # recurrent kernels
    _, problems = runner.check_live(case_from_id("gru_reset_before-f32-tfjs"))
    assert problems and problems[0].kind == "values"


@live
@pytest.mark.parametrize("divergence", TFJS_DIVERGENCES, ids=lambda d: d.key)
def test_each_tfjs_divergence_shows_on_a_matrix_case(divergence):
    case_id = {"tfjs-stacked-cells-state-order-reversed": "lstm-stacked-state-f32-tfjs",
               "tfjs-bidirectional-of-rnn-cells-fails": "simple_rnn-rnn_cell-bidi_concat-f32-tfjs",
               "tfjs-bidirectional-masked-steps-not-zeroed": "gru_reset_before-bidi_concat-seq-mask_right-f32-tfjs",
               "tfjs-masked-step-outputs-state": "simple_rnn-seq-mask_left-init-f32-tfjs",
               "tfjs-hard-sigmoid-is-keras2s": "lstm-ract_hard_sigmoid-f32-tfjs",
               # the runtime grid's 8 ConvLSTM cases hold no mask on tfjs: a full-tier case
               "tfjs-conv-lstm2d-mask-transpose": "conv_lstm2d-state-mask_right-f32-tfjs"}[divergence.key]
    from rnnparity.matrix.tiers import case_of  # matrix ids of every layer, ConvLSTM's too

    case = case_of(case_id)
    assert divergence_for(case) is divergence
    _, problems = runner.check_live(case)
    assert problems  # the day TF.js agrees, this fails and the entry goes


@live
def test_the_runtime_quick_grid_declares_what_it_cannot_express():
    from rnnparity.matrix import tiers

    grid = tiers.cases("quick", ("tfjs",))
    reasons = {registry.cannot_express(c) for c in grid} - {None}
    assert any("reset_after=True" in r for r in reasons)
    assert len(grid) == 28  # the runtime quick grid's 20 and 8 ConvLSTM cases
