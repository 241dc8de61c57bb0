"""The rounding envelope (check/mca.py, check/envelope.py) and its verdict (check/envelope_verdict.py).

First the parts on arrays and references (random rounding, the high-precision copy, another valid
computation inside the envelope, nested states, carried state); then live Keras 3 layers, the
framework as the oracle: exploding layers that fail the tolerance table pass, planted rounding-sized
bugs and a warm-state gap fail, a chaotic layer and an overflowing one are ill-conditioned with figures.
scripts/envelope_rates.py measures the rates behind K and THETA.
"""
from __future__ import annotations

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.check.compare import compare_outputs
from rnnparity.check.envelope import rounding_envelope, run_plan
from rnnparity.check.envelope_verdict import FAIL, ILL, PASS, computed_in, judge_envelope
from rnnparity.check.mca import PerturbedReference, cast_tree, high_precision, jitter, recast
from rnnparity.plan import Call, Plan, Reset, seeded_weights
from rnnparity.targets.keras_adapter import to_numpy
from tests.envelope_bugs import bias_twice, recurrence_one_precision_down


def _weights(ref, features, scale=1.0, seed=0, dtype="float32"):
    shapes = [s for layer in ([ref.forward_layer, ref.backward_layer] if hasattr(ref, "forward_layer")
                              else [ref]) for s in _shapes(layer, features)]
    ref.set_weights([w * scale for w in seeded_weights(shapes, seed, dtype)])
    return ref


def _shapes(layer, features):
    cells = layer.cell.cells if hasattr(layer.cell, "cells") else [layer.cell]
    shapes = []
    for cell in cells:
        shapes += [shape for _, shape in cell.weight_specs(features)]
        features = cell.units
    return shapes


def _x(shape, dtype="float32", seed=0):
    return np.random.RandomState(seed).normal(size=shape).astype(dtype)


def bias_twice_1e4(reference):
    return bias_twice(reference, 1e-4)


def _another_valid_run(ref, plan, seed=99):
    """A framework stand-in for the array tests: the same maths, rounded differently."""
    return run_plan(PerturbedReference(ref).start_run(np.random.default_rng(seed)), plan)


# -- random rounding and the high-precision copy -----------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_rounding_moves_values_by_at_most_two_ulps(dtype):
    a = np.concatenate([_x((1000,), dtype), np.zeros(10, dtype)])
    b = jitter(a, np.random.default_rng(0))
    assert b.dtype == a.dtype
    moved = np.abs(b - a) / np.spacing(np.abs(a))
    assert moved.max() <= 2 and 0.3 < np.mean(moved[:1000] > 0) < 0.95
    assert (b[1000:] == 0).all()  # exact zeros stay exact
    ints = np.arange(5)
    assert jitter(ints, np.random.default_rng(0)) is ints


def test_recast_computes_every_step_in_the_high_precision():
    ref = _weights(rp.Bidirectional(rp.LSTM(3, return_sequences=True, return_state=True)), 2)
    high = recast(ref, np.float64)
    out = high(_x((2, 5, 2)).astype(np.float64))
    assert all(np.asarray(o).dtype == np.float64 for o in out)
    low = ref(_x((2, 5, 2)))
    np.testing.assert_allclose(out[0], low[0], atol=1e-6)
    assert high_precision("float32") == np.float64 and high_precision("float16") == np.float64
    if np.finfo(np.longdouble).eps < np.finfo(np.float64).eps:
        assert high_precision("float64") == np.longdouble


# -- the verdict on arrays ---------------------------------------------------------------------
def _stacked(dialect="keras3", dtype="float32", stateful=False):
    cells = [rp.GRUCell(3, dtype=dtype, dialect=dialect), rp.LSTMCell(4, dtype=dtype, dialect=dialect)]
    return _weights(rp.RNN(cells, return_sequences=True, return_state=True, stateful=stateful,
                           dtype=dtype), 2, scale=2.0, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_another_valid_computation_passes_with_nested_states_and_a_reset(dtype):
    ref = _stacked(dtype=dtype, stateful=True)
    init = [[_x((2, 3), dtype, 1)], [_x((2, 4), dtype, 2), _x((2, 4), dtype, 3)]]
    plan = Plan([Call(_x((2, 12, 2), dtype), None, init, "batch 1"),
                 Call(_x((2, 12, 2), dtype, 4), None, None, "batch 2 (state carried)"), Reset(),
                 Call(_x((2, 12, 2), dtype, 5), None, None, "batch 3 (after reset)")])
    env = rounding_envelope(ref, plan)
    assert [o.path for o in env.for_call(0)] == [(0,), (1, 0), (2, 0), (2, 1)]
    assert env.carried == [False, True, False]
    verdict = judge_envelope(env, _another_valid_run(ref, plan))
    assert verdict.status == PASS, verdict.report()
    assert "call 2 of 3 (batch 2 (state carried)): output [2][1]" in verdict.report()


def test_time_major_layers_are_judged_along_their_time_axis():
    ref = _weights(rp.GRU(3, return_sequences=True, time_major=True, dialect="keras2"), 2, scale=2.0)
    plan = Plan([Call(_x((15, 2, 2)))])  # (time, batch, features)
    env = rounding_envelope(ref, plan)
    assert env.outputs[0].time_axis == 0 and env.steps == [15]
    assert judge_envelope(env, _another_valid_run(ref, plan)).status == PASS
    verdict = judge_envelope(env, run_plan(bias_twice_1e4(ref), plan))
    assert verdict.status == FAIL and verdict.outputs[0].worst["step"] == verdict.outputs[0].worst["index"][0]


def test_structure_mismatch_is_refused():
    ref = _weights(rp.GRU(3, return_sequences=True), 2)
    plan = Plan([Call(_x((1, 4, 2)))])
    env = rounding_envelope(ref, plan)
    with pytest.raises(ValueError, match="structure"):
        judge_envelope(env, [[np.zeros((1, 4, 3), np.float32)] * 2])


# (bugs of a few ulps per step, e.g. bias_twice at 1e-6, are rounding-sized: a sound verdict passes
# part of them; scripts/envelope_rates.py measures how many)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # float16 overflows in the planted bug
@pytest.mark.parametrize("bug", [recurrence_one_precision_down, bias_twice_1e4])
def test_planted_bug_in_an_exploding_layer_fails_naming_output_and_step(bug):
    ref = _weights(rp.LSTM(4, activation="linear", recurrent_activation="softsign",
                           return_sequences=True), 3, scale=1.4 / 0.6, seed=5)
    plan = Plan([Call(_x((2, 50, 3), seed=5))])
    verdict = judge_envelope(rounding_envelope(ref, plan), run_plan(bug(ref), plan))
    assert verdict.status == FAIL, verdict.report()
    report = verdict.report()
    assert "FAIL, not rounding" in report and "output [0]" in report
    assert "first step outside: t=" in report and "x the envelope" in report


def test_float32_rounding_inside_a_float64_layer_fails():
    ref = _stacked(dtype="float64")
    plan = Plan([Call(_x((2, 20, 2), "float64"))])
    verdict = judge_envelope(rounding_envelope(ref, plan), run_plan(recurrence_one_precision_down(ref), plan))
    assert verdict.status == FAIL and verdict.worst_ratio > 1e4, verdict.report()


@pytest.mark.parametrize("dialect", ["keras2", "keras3"])
def test_a_float32_wrapper_rounds_the_input_of_every_run(dialect):
    """Bidirectional (float32 unless given) rounds the input to float32 before its float64 layers:
    that is the case's input, so the centre and the randomly rounded runs start from it too. Before,
    the long double centre took the unrounded input, and the reference's own float64 run (and any
    valid computation) lay ~1e7 radii away (an exploding ConvLSTM1D found by rnnparity explore)."""
    layer = rp.SimpleRNN(5, activation="linear", return_sequences=True, dtype="float64", dialect=dialect)
    ref = _weights(rp.Bidirectional(layer, merge_mode="mul"), 3, scale=1.5, dtype="float64")
    plan = Plan([Call(_x((2, 25, 3), "float64"))])
    env = rounding_envelope(ref, plan)
    assert abs(env.outputs[0].low).max() > 1e3  # it grows: the input's rounding is amplified
    verdict = judge_envelope(env, _another_valid_run(ref, plan))
    assert verdict.status == PASS, verdict.report()


def test_a_float64_layer_computed_in_float32_is_named_by_the_float32_hypothesis():
    ref = _stacked(dtype="float64")
    plan = Plan([Call(_x((2, 20, 2), "float64"))])
    as_float32 = recast(ref, np.float32)  # a framework that runs this float64 layer in float32
    out = cast_tree(run_plan(as_float32, [Call(_x((2, 20, 2)))]), np.float64)
    assert judge_envelope(rounding_envelope(ref, plan), out).status == FAIL
    hypothesis = computed_in("float32", ref, plan, out)
    assert hypothesis.status == PASS, hypothesis.report()
    # float64 rounding is within float32 rounding; weights off by 1e-4 are not
    assert computed_in("float32", ref, plan, _another_valid_run(ref, plan)).status == PASS
    other = _stacked(dtype="float64")
    other.set_weights([w * (1 + 1e-4) for w in other.get_weights()])
    assert computed_in("float32", ref, plan, run_plan(other, plan)).status == FAIL


def test_chaos_in_a_carried_state_makes_the_next_call_undecidable():
    ref = _weights(rp.SimpleRNN(16, return_sequences=True, stateful=True), 4, scale=3.0)
    plan = Plan([Call(_x((2, 120, 4)), label="batch 1"), Call(_x((2, 5, 4), seed=1), label="batch 2")])
    verdict = judge_envelope(rounding_envelope(ref, plan), _another_valid_run(ref, plan))
    assert verdict.status == ILL, verdict.report()
    first, second = verdict.outputs
    assert first.first_undecidable > 10 and second.first_undecidable == 0
    assert "the state carried from the previous call is undecidable" in verdict.report()


def test_convlstm_sequences_are_judged_along_time_and_its_states_as_final_values():
    """A ConvLSTM1D's states (batch, positions, filters) have the rank of an LSTM's sequence: the
    envelope takes the input's rank for a sequence's, and names the position and filter where a
    chaotic layer becomes undecidable (both used to crash: a state's positions read as steps)."""
    ref = _weights(rp.ConvLSTM1D(3, 3, padding="same", activation="tanh", recurrent_activation="tanh",
                                 return_sequences=True, return_state=True), 2, scale=4.0)
    plan = Plan([Call(_x((2, 30, 5, 2)), label="call")])
    envelope = rounding_envelope(ref, plan)
    assert [o.time_axis for o in envelope.outputs] == [1, None, None]
    verdict = judge_envelope(envelope, _another_valid_run(ref, plan))
    assert verdict.status == ILL, verdict.report()
    sequence = verdict.outputs[0]
    assert 5 < sequence.first_undecidable < 30 and sequence.undecidable["step"] == sequence.first_undecidable
    assert len(sequence.undecidable["unit"]) == 2  # (position, filter)
    assert f"unit {sequence.undecidable['unit']}" in verdict.report()


# -- live Keras 3: the framework is the oracle -------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _live(keras, layer, x, scale, seed, warm=None):
    """(pristine reference, plan, the framework's outputs) for a live layer with seeded weights."""
    layer.build(x.shape)
    shapes = [w.shape for w in layer.get_weights()]
    layer.set_weights([w * scale for w in seeded_weights(shapes, seed, "float64")])
    if warm is not None:
        layer(warm)  # the user's own call before the check: a stateful layer is now warm
    ref = rp.from_keras(layer) if warm is None else None
    return ref, Plan([Call(x)]), [to_numpy(layer(x))]


def test_live_exploding_layer_failing_the_table_passes(keras):
    layer = keras.layers.LSTM(4, activation="linear", recurrent_activation="softsign",
                              return_sequences=True)
    ref, plan, out = _live(keras, layer, _x((2, 50, 3), seed=5), 1.4 / 0.6, 5)
    assert np.abs(out[0]).max() > 1e10
    assert compare_outputs(out[0], run_plan(ref, plan)[0], precision="float32", steps=50)  # the table fails
    verdict = judge_envelope(rounding_envelope(ref, plan), out)
    assert verdict.status == PASS, verdict.report()


def test_live_warm_state_gap_never_passes(keras):
    layer = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True, stateful=True))
    x = _x((2, 10, 3))
    _, plan, out = _live(keras, layer, x, 1.0, 0, warm=_x((2, 10, 3), seed=1))
    cold = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True, stateful=True))
    cold.build(x.shape)
    cold.set_weights(layer.get_weights())
    ref = rp.from_keras(cold)  # what a reset live layer computes
    verdict = judge_envelope(rounding_envelope(ref, plan), out)
    assert verdict.status == FAIL and verdict.outputs[0].worst["diff"] > 0.05, verdict.report()
    assert "first step outside: t=" in verdict.report()


def test_live_chaotic_layer_is_ill_conditioned_with_figures(keras):
    layer = keras.layers.SimpleRNN(16, return_sequences=True, return_state=True)
    ref, plan, out = _live(keras, layer, _x((2, 150, 4)), 3.0, 0)
    verdict = judge_envelope(rounding_envelope(ref, plan), out)
    assert verdict.status == ILL, verdict.report()
    seq = verdict.outputs[0]
    assert 10 < seq.first_undecidable < 150
    assert f"agreement proven up to step t={seq.first_undecidable - 1} of 150" in verdict.report()
    assert "the rounding envelope reaches" in verdict.report()


def test_live_overflow_on_both_sides_is_ill_conditioned_not_fail(keras):
    layer = keras.layers.SimpleRNN(4, activation="linear", return_sequences=True)
    ref, plan, out = _live(keras, layer, _x((1, 60, 3)), 6.0, 0)
    assert not np.isfinite(out[0]).all()
    env = rounding_envelope(ref, plan)
    verdict = judge_envelope(env, out, table=False)  # every element judged by the envelope alone
    assert verdict.status == ILL, verdict.report()
    assert "not finite (overflow or NaN)" in verdict.report()
    assert verdict.outputs[0].first_undecidable > 20
    # infinities at the same places agree, as in the plain check: nothing left to decide
    assert judge_envelope(env, out).status == PASS
    # a framework that overflows where valid runs do not is a failure, not ill-conditioning
    early = [np.where(np.arange(60)[None, :, None] == 10, np.float32(np.inf), out[0])]
    assert judge_envelope(env, early).status == FAIL
