"""The rounding-aware verdict (rnnparity.check.rounding) and the atol/rtol overrides.

First the verdict's rules on arrays (a harness test, like tests/test_compare.py); then, live, a sweep
of saturated layers at T=2000 that fails on the tolerance table alone but must pass within rounding,
through the case runner and through assert_parity. tests/meta/test_planted_bugs_long.py shows the
verdict does not excuse a porting bug at that size.
"""
from __future__ import annotations

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.targets import registry
from rnnparity.check import rounding, runner
from rnnparity.check.compare import Mismatch, Stats, compare_array, compare_outputs
from rnnparity.plan import Call, LayerSpec, Plan, seeded_weights
from rnnparity.testing import _snapshot, assert_parity, float64_twin
from tests.saturation import SATURATED, SEEDS, STEPS, needs, saturated_check, saturated_layer

TARGETS = ("keras3", "tf_keras")


# -- the rules, on arrays ----------------------------------------------------------------------
def _values_problem(call=0, output=0, precision="float32"):
    return Mismatch("values", "output [0] = seq: 3 of 40 elements beyond tolerance", precision=precision,
                    call=call, output=output, label="output [0] = seq")


def test_only_low_precision_value_mismatches_are_eligible():
    assert rounding.eligible([_values_problem()])
    assert rounding.eligible([_values_problem(precision="float16")])
    assert not rounding.eligible([])
    assert not rounding.eligible([_values_problem(precision="float64")])
    assert not rounding.eligible([_values_problem(), Mismatch("structure", "structure: ...")])
    # a stateful chunking mismatch is the framework (or reference) against itself, not rounding
    assert not rounding.eligible([Mismatch("values", "framework: stateful chunking", precision="float32")])


def _runs(seed=0, ref_noise=1.0, high_offset=0.0):
    """(low, high): exact float64 results, and float32 runs with rounding-sized noise on each side."""
    rng = np.random.RandomState(seed)
    exact = rng.uniform(-1, 1, size=(2, 50, 3))
    fw_low = (exact + rng.normal(scale=1e-6, size=exact.shape)).astype(np.float32)
    ref_low = (exact + rng.normal(scale=1e-6 * ref_noise, size=exact.shape)).astype(np.float32)
    return ([fw_low], [ref_low]), ([exact], [exact + high_offset])


def test_verdict_passes_when_both_sides_are_equally_accurate():
    verdict = rounding.judge([_values_problem()], *_runs(), steps=[50])
    assert verdict.passed, verdict.report()
    assert "PASS within rounding" in verdict.report()
    assert "fw32 vs fw64 max" in verdict.report() and "ref32 vs ref64 max" in verdict.report()


def test_verdict_fails_a_reference_less_accurate_than_the_framework():
    verdict = rounding.judge([_values_problem()], *_runs(ref_noise=3.0), steps=[50])
    assert not verdict.passed
    assert any(r.startswith("(b)") for r in verdict.reasons), verdict.reasons
    assert "less accurate than the framework" in verdict.report()


def test_verdict_fails_when_the_float64_runs_disagree():
    verdict = rounding.judge([_values_problem()], *_runs(high_offset=1e-9), steps=[50])
    assert not verdict.passed
    assert any(r.startswith("(a)") for r in verdict.reasons), verdict.reasons
    assert "first diverging timestep: t=0" in verdict.report()


def test_verdict_fails_non_finite_values_and_failed_reruns():
    (fw, ref), high = _runs()
    fw[0][0, 3, 1] = np.nan
    assert "non-finite" in rounding.judge([_values_problem()], (fw, ref), high, steps=[50]).report()
    low, _ = _runs()
    failed = rounding.judge([_values_problem()], low, ([], []), steps=[50],
                            rerun_problems=[Mismatch("error", "the float64 re-run raised TypeError: x")])
    assert not failed.passed and "the float64 re-run raised TypeError" in failed.report()


def test_verdict_reads_nested_states_of_stacked_cells():
    """RNN([GRUCell(4), LSTMCell(5)], return_state=True) returns one state list per cell, of different
    widths: the verdict used to crash on them (TypeError: list - list, issue 21 item 3)."""
    rng = np.random.RandomState(1)
    exact = [rng.uniform(-1, 1, size=(2, 4)), [rng.uniform(-1, 1, size=(2, 4))],
             [rng.uniform(-1, 1, size=(2, 5)), rng.uniform(-1, 1, size=(2, 5))]]

    def noisy(tree, scale):
        if isinstance(tree, list):
            return [noisy(t, scale) for t in tree]
        return (tree + rng.normal(scale=scale, size=tree.shape)).astype(np.float32)

    low = ([noisy(exact, 1e-6)], [noisy(exact, 1e-6)])
    problem = Mismatch("values", "output [2] = states of cell 1: beyond tolerance", precision="float32",
                       call=0, output=2, label="output [2] = states of cell 1")
    verdict = rounding.judge([problem], low, ([exact], [exact]), steps=[1])
    assert verdict.passed, verdict.report()
    planted = ([noisy(exact, 1e-6)], [noisy(exact, 1e-3)])  # the reference far less accurate
    assert not rounding.judge([problem], planted, ([exact], [exact]), steps=[1]).passed


def test_float64_widening_follows_the_growth_seen_in_low_precision():
    eps32, eps64 = np.finfo(np.float32).eps, np.finfo(np.float64).eps
    assert rounding.float64_bound(0.0, 2000) == {"atol": 1e-11, "rtol": 1e-11}  # the table's long row
    assert rounding.float64_bound(1e-2 / eps32, 2000)["atol"] == pytest.approx(
        rounding.GROWTH_SLACK * 1e-2 / eps32 * eps64)


def test_float64_spec_sets_every_dtype_and_leaves_the_spec_alone():
    spec = LayerSpec("LSTM", {"units": 3, "dtype": "float16"},
                     wrapper={"merge_mode": "sum", "backward_config": {"units": 3, "go_backwards": True}})
    spec64 = rounding.float64_spec(spec)
    assert spec64.config["dtype"] == spec64.wrapper["dtype"] == "float64"
    assert spec64.wrapper["backward_config"]["dtype"] == "float64"
    assert spec.config["dtype"] == "float16" and "dtype" not in spec.wrapper
    plan = rounding.float64_plan(Plan([Call(np.ones((1, 2, 3), np.float16), np.ones((1, 2), bool),
                                            [np.ones((1, 3), np.float32)])]))
    call = plan.calls[0]
    assert call.x.dtype == call.initial_state[0].dtype == np.float64 and call.mask.dtype == bool


# -- atol / rtol overrides ---------------------------------------------------------------------
A = np.linspace(-1, 1, 24, dtype=np.float32).reshape(2, 4, 3)


def test_atol_rtol_override_the_table():
    off = A + np.float32(1e-4)
    assert compare_array(A, off, "out") is not None  # the float32 table: atol 1e-6
    assert compare_array(A, off, "out", atol=1e-3) is None
    assert compare_outputs([A], [off], atol=1e-3) == []
    p = compare_outputs([A], [A + np.float32(1e-7)], atol=0, rtol=0)[0]
    assert "(atol=0, rtol=0, float32, as given)" in p.message
    assert compare_array(A, A * np.float32(1 + 1e-4), "out", atol=0, rtol=1e-3) is None  # rtol alone


@pytest.mark.live
def test_tf1_check_takes_the_overrides():
    from rnnparity.check.tf1_records import compare_to_reference, run_live
    from rnnparity.matrix.tf1_cases import tf1_cases

    needs("tf1")
    case = tf1_cases()[0]
    record = run_live(case)
    assert compare_to_reference(case, record) == []
    shifted = {**record, "outputs": [np.asarray(o) + np.float32(1e-4) for o in record["outputs"]]}
    assert compare_to_reference(case, shifted)  # 1e-4 is beyond the float32 table
    assert compare_to_reference(case, shifted, atol=1e-3) == []


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), "1e-3", True])
def test_bad_overrides_are_refused_naming_the_argument(bad):
    with pytest.raises(ValueError, match="atol must be a"):
        compare_array(A, A, "out", atol=bad)
    with pytest.raises(ValueError, match="rtol must be a"):
        compare_outputs([A], [A], rtol=bad)


# -- live: saturated layers at T=2000 ----------------------------------------------------------
@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("key", list(SATURATED))
def test_saturated_t2000_sweep_has_no_false_failures(target, key):
    """Every seed passes, outright or within rounding; some seeds of every layer need the verdict
    (the table alone would fail them), so the sweep proves the feature."""
    needs(target)
    needed = []
    for seed in SEEDS:
        rec, problems = saturated_check(target, key, seed)
        assert problems == [], runner.failure_report(rec.case_id, problems)
        if rec.rounding is not None:
            assert rec.rounding.passed
            needed.append(seed)
    assert needed, (f"no seed of {key} at T={STEPS} exceeded the tolerance table: the sweep no longer "
                    f"exercises the rounding verdict for this layer (raise its scale in tests/saturation.py)")


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_runner_counts_within_rounding_apart_and_takes_rounding_off_and_overrides(target):
    needs(target)
    rec, problems = saturated_check(target, "gru", 0)
    assert problems == [] and rec.rounding.passed  # seed 0 needs the verdict (see the sweep)
    stats = Stats()
    runner.check_spec_live(target, rec.spec, rec.plan, 0, rec.case_id, rec.plan.calls[0].x.shape,
                           stats=stats, weights=rec.weights)
    # counted, but its beyond-the-table errors stay out of the summary's per-precision rows
    assert stats.within_rounding == 1 and stats.by_precision == {} and stats.max_abs == 0
    assert stats.as_property(target)["within_rounding"] == 1
    plain = runner.check_spec_live(target, rec.spec, rec.plan, 0, rec.case_id, rec.plan.calls[0].x.shape,
                                   weights=rec.weights, rounding=False)[1]
    assert plain and "beyond tolerance" in plain[0].message
    loose = runner.check_spec_live(target, rec.spec, rec.plan, 0, rec.case_id, rec.plan.calls[0].x.shape,
                                   weights=rec.weights, rounding=False, atol=1e-2)[1]
    assert loose == []


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("key", ["gru", "bidi_lstm"])
def test_assert_parity_passes_saturated_layers_within_rounding(target, key):
    """The issue's case: assert_parity on a saturated float32 layer at T=2000 used to fail."""
    needs(target)
    layer, x = saturated_layer(target, key, 0)
    strict = compare_outputs(registry.get(target).call(layer, x), rp.from_keras(layer)(x), steps=STEPS)
    assert strict, "this seed must exceed the table, or the test proves nothing"
    with pytest.raises(AssertionError, match="beyond tolerance"):
        assert_parity(layer, x, rounding=False)
    out = assert_parity(layer, x)
    assert len(out) == (2 if key == "gru" else 5)  # the sequence, then h (GRU) or 4 states
    with pytest.raises(AssertionError, match=r"atol=0, rtol=0, float32, as given"):
        assert_parity(layer, x, atol=0, rtol=0, rounding=False)
    assert_parity(layer, x, atol=1e-2, rounding=False)
    with pytest.raises(ValueError, match="atol must be a finite number"):
        assert_parity(layer, x, atol=-1)


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_float64_twin_of_a_stateful_layer_starts_from_the_states_before_the_call(target):
    needs(target)
    # return_sequences only: Keras 3 Bidirectional(stateful, return_state) is a registered bug
    layer, x = saturated_layer(target, "bidi_gru", 1, stateful=True, config={"return_state": False})
    registry.get(target).call(layer, x[:, :40])  # advance the states
    saved = _snapshot(layer)
    assert all(s is not None and np.abs(s[0]).max() > 0 for s in saved["states"])
    twin = float64_twin(layer, saved, x.shape)
    for sub, states in zip((twin.forward_layer, twin.backward_layer), saved["states"]):
        np.testing.assert_array_equal(np.asarray(sub.states[0]), states[0].astype(np.float64))
        assert np.asarray(sub.states[0]).dtype == np.float64
    assert twin.compute_dtype == twin.forward_layer.compute_dtype == "float64"
    for a, b in zip(twin.get_weights(), layer.get_weights()):
        np.testing.assert_array_equal(a, b.astype(np.float64))
    assert_parity(layer, x[:, 40:400])  # and the stateful layer still passes through it


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_long_sequences_run_traced_and_agree_with_eager(target, monkeypatch):
    """The adapter traces calls of COMPILED_FROM_STEPS steps or more (eager Keras runs the loop from
    Python, 25-50x slower); the traced call must see the mask and initial states and agree with eager."""
    from rnnparity.targets.keras_adapter import COMPILED_FROM_STEPS, to_numpy

    needs(target)
    adapter = registry.get(target)
    spec = {"class": "SimpleRNN", "config": {"units": 4, "return_sequences": True, "return_state": True},
            "wrapper": {"merge_mode": "concat"}}
    rng = np.random.RandomState(3)
    x = rng.normal(size=(2, COMPILED_FROM_STEPS, 3)).astype("float32")
    mask = rng.uniform(size=x.shape[:2]) < 0.8
    states = [rng.uniform(-0.5, 0.5, size=(2, 4)).astype("float32") for _ in range(2)]
    layer = adapter.build(spec, x.shape)
    adapter.set_weights(layer, seeded_weights([w.shape for w in adapter.get_weights(layer)], 3))
    traced = []
    original = adapter.tf.function
    monkeypatch.setattr(adapter.tf, "function", lambda fn: traced.append(fn) or original(fn))
    compiled = adapter.call(layer, x, mask, states)
    assert len(traced) == 1
    adapter.call(layer, x[:, :COMPILED_FROM_STEPS - 1], mask[:, :COMPILED_FROM_STEPS - 1], states)
    assert len(traced) == 1, "a shorter sequence runs eagerly"
    eager = to_numpy(layer(adapter.tf.constant(x), mask=adapter.tf.constant(mask),
                           initial_state=[adapter.tf.constant(s) for s in states], training=False))
    assert compare_outputs(eager, compiled, steps=x.shape[1]) == []
    without_mask = adapter.call(layer, x, None, states)
    assert compare_outputs(without_mask, compiled, steps=x.shape[1]), "the mask must reach the traced call"


def test_summary_counts_cases_within_rounding_apart():
    """The plugin's end-of-run summary keeps within-rounding cases out of the per-precision rows."""
    from rnnparity.plugin import RunState

    state = RunState(config=None)
    state.suite_seen = {"a", "b"}
    state.stats = [{"target": "keras3", "precisions": {"float32": [1e-7, 1e-6]}, "within_rounding": 0},
                   {"target": "keras3", "precisions": {}, "within_rounding": 1}]
    lines = []
    reporter = type("Reporter", (), {"write_sep": lambda self, *a, **k: None,
                                     "write_line": lambda self, line, **k: lines.append(line)})()
    state.pytest_terminal_summary(reporter)
    assert lines[0] == "agreeing cases per target: keras3 2"
    assert lines[1].startswith("float32 outputs: max abs error 1e-07, max rel error 1e-06 over 1 cases")
    assert lines[2].startswith("1 cases passed within rounding")
