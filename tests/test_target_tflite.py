"""The tflite target: Keras 3 layers converted with TFLiteConverter and run in the TFLite interpreter."""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.check import runner
from rnnparity.matrix.cases import Case, case_from_id
from rnnparity.matrix.data import make_plan
from rnnparity.plan import Call, Plan, Reset, seeded_weights
from rnnparity.targets import registry

pytestmark = pytest.mark.skipif(not registry.availability("tflite")[0],
                                reason=registry.availability("tflite")[1] or "tflite available")


def _check(case_id):
    rec, problems = runner.check_live(case_from_id(case_id))
    assert not problems, runner.failure_report(case_id, problems)
    return rec


def test_masked_case_with_initial_states_agrees_and_names_its_ops():
    rec = _check("simple_rnn-mask_holes-init-f32-tflite")
    assert rec.info["converter"] == "TFLiteConverter.from_keras_model"
    assert "WHILE" in rec.info["ops"]  # Keras 3's time loop becomes a TFLite WHILE ...
    assert {"FULLY_CONNECTED", "TANH", "SELECT_V2"} <= set(rec.info["loop_ops"])  # ... masked by SELECT_V2


def test_bidirectional_return_state_keeps_the_keras_structure():
    rec = _check("gru-bidi_none-seq-state-f32-tflite")
    out = rec.outcome.outputs[0]
    assert isinstance(out, tuple) and len(out) == 4  # (forward seq, backward seq, h fwd, h bwd)


def test_stateful_state_is_carried_between_calls_and_reset():
    case = Case(layer="lstm", return_sequences=True, stateful=True, target="tflite")
    x1, x2 = (c.x for c in make_plan(case).calls[:2])
    plan = Plan([Call(x1), Call(x2), Reset(), Call(x2), Reset(), Call(x1), Call(x2)])
    rec = runner.record_spec("tflite", case.layer_spec(), plan, case.seed, case.id, case.input_shape)
    assert rec.outcome.error is None, rec.outcome.error
    first, carried, fresh, first_again, carried_again = rec.outcome.outputs
    assert "ASSIGN_VARIABLE" in rec.info["ops"] + rec.info.get("loop_ops", [])
    assert np.abs(carried - fresh).max() > 1e-2  # the second call started from the first's state
    assert np.array_equal(first_again, first) and np.array_equal(carried_again, carried)  # reset
    # the whole case (carry, reset, chunked calls) agrees with the reference
    _check("gru-seq-stateful-f32-tflite")


def test_reset_all_variables_does_not_reset_the_resource_variables():
    """Why a reset is a fresh interpreter (divergences.SURPRISES); fails the day it does reset."""
    from rnnparity.targets.tflite import ADAPTER

    case = Case(layer="gru", stateful=True, target="tflite")
    call = make_plan(case).calls[0]
    layer = ADAPTER.keras.build(case.layer_spec(), case.input_shape)
    layer.set_weights(seeded_weights([w.shape for w in layer.get_weights()], case.seed))
    model = ADAPTER.convert(layer, call, 1, True)
    session = model.interpreter(ADAPTER.interpreter_class[0])
    first = model.run(session, call)
    second = model.run(session, call)
    assert np.abs(second - first).max() > 1e-2  # carried
    session.interpreter.reset_all_variables()
    assert np.abs(model.run(session, call) - first).max() > 1e-2  # still carried
    assert np.abs(model.run(model.interpreter(ADAPTER.interpreter_class[0]), call) - first).max() == 0


def test_a_tampered_weight_in_the_converted_model_is_caught(monkeypatch):
    from rnnparity.targets import tflite

    convert = tflite.TFLiteTarget.convert

    def tampered(self, layer, *args):
        weights = layer.get_weights()
        weights[1] = weights[1] + 0.01  # the recurrent kernel, after the reference was copied
        layer.set_weights(weights)
        return convert(self, layer, *args)

    monkeypatch.setattr(tflite.TFLiteTarget, "convert", tampered)
    _, problems = runner.check_live(case_from_id("gru-f32-tflite"))
    assert problems and problems[0].kind == "values"


def test_output_and_input_names_are_ordered_numerically():
    from rnnparity.targets.tflite import _ordered

    names = [f"output_{i}" for i in (10, 2, 0, 1)]
    assert _ordered(names) == ["output_0", "output_1", "output_2", "output_10"]


@pytest.mark.parametrize("dtype", ["f64", "f16", "mixed_f16", "mixed_bf16"])
def test_dtypes_the_converter_rejects_are_named(dtype):
    reason = registry.cannot_express(Case(dtype=dtype, target="tflite"))
    assert reason and reason.startswith({"f64": "float64", "f16": "float16", "mixed_f16": "mixed_float16",
                                         "mixed_bf16": "mixed_bfloat16"}[dtype])
    assert registry.cannot_express(Case(dtype=dtype, target="keras3")) is None


@pytest.mark.parametrize("dtype,says", [("f64", "tf.AddV2' op is neither a custom op nor a flex op"),
                                        ("mixed_bf16", "tf.TensorListReserve' op requires element_dtype")])
def test_the_declared_dtypes_really_fail_to_convert(dtype, says):
    """The day the converter accepts them, this fails: then remove them from DTYPE_REASONS."""
    from rnnparity.targets.tflite import ADAPTER

    case = Case(layer="simple_rnn", dtype=dtype, target="tflite")
    layer = ADAPTER.keras.build(case.layer_spec(), case.input_shape)
    with pytest.raises(Exception) as exc:
        ADAPTER.convert(layer, make_plan(case).calls[0], 1, False)
    assert type(exc.value).__name__ == "ConverterError" and says in str(exc.value)


def test_unroll_is_expressed_but_not_with_stateful_chunks_of_different_lengths():
    assert registry.cannot_express(case_from_id("gru-state-bwd-unroll-f32-tflite")) is None
    assert "unroll" in registry.cannot_express(case_from_id("lstm-stateful-unroll-f32-tflite"))
    # a stateful unrolled layer not fed in chunks (go_backwards: no chunking check) is expressed
    assert registry.cannot_express(case_from_id("lstm-bwd-stateful-unroll-f32-tflite")) is None


def test_litert_is_preferred_and_tf_lite_is_the_fallback(monkeypatch):
    import sys

    from rnnparity.targets.tflite import TFLiteTarget

    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # not installed: TF's (deprecated) one
    cls, name = TFLiteTarget().interpreter_class
    assert name.startswith("tf.lite.Interpreter") and cls.__module__.startswith("tensorflow")


def test_the_default_tier_runs_the_runtime_grid_and_full_runs_everything():
    from rnnparity.matrix import cases as cm, tiers

    default = [c.id for c in tiers.cases("default", ("tflite",))]
    # the runtime grid, then its 8 ConvLSTM cases
    recurrent = [i for i in default if not i.startswith("conv_lstm")]
    assert recurrent == [c.id for c in tiers.runtime_cases(("tflite",))] and len(default) - len(recurrent) == 8
    assert len(tiers.cases("full", ("tflite",))) > 10 * len(default)
    flags = {(c.layer, c.wrapper, tuple(getattr(c, f) for f in cm.FLAGS)) for c in tiers.cases("default", ("tflite",))}
    assert len(flags & {(la, w, f) for la in cm.LAYERS for w in ("none", "bidi_concat")
                        for f in cm.flag_product()}) == 128


def test_check_case_prints_how_it_ran_and_names_what_it_cannot_express(capfd):
    from rnnparity.cli.check import check_one

    assert check_one("simple_rnn-f32-tflite") == 0
    out, err = capfd.readouterr()
    assert "ran as: converter TFLiteConverter.from_keras_model; runtime " in out and "WHILE" in out
    # the export's endpoints (stdout) and the runtime's delegate line (fd 2) are silenced
    assert "Saved artifact" not in out and "XNNPACK" not in err
    assert check_one("simple_rnn-f64-tflite") == 0
    assert "SKIP: tflite cannot express this case: float64: TFLite's builtin kernels" in capfd.readouterr().out


def test_the_rounding_verdict_judges_tflite_without_a_float64_run():
    """A float32 values mismatch (here: a tolerance of 0) gets the rounding envelope, which needs no
    float64 run of the target (TFLite cannot express float64): TFLite's float32 result is a valid
    float32 computation of the layer."""
    rec, problems = runner.check_live(case_from_id("simple_rnn-seq-f32-tflite"), atol=0.0, rtol=0.0)
    assert problems == [] and rec.rounding is not None and rec.rounding.status == "pass"
    assert rec.verdict.within_rounding
