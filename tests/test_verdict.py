"""The one verdict pipeline (rnnparity.check.verdict) and the ways of checking that use it.

First the pipeline on recordings whose "framework" outputs come from planted copies of the reference
(a harness test: another valid computation must pass, a planted bug must fail and be diagnosed, the
reference's own precision is checked too); then, live, the same verdict through check_live, replay,
assert_parity and check_model: the saturated T=2000 sweep never fails (it passes, or it is
ill-conditioned with figures), ill-conditioned layers warn or fail as asked, a float64 layer that
computes in float32 is named, nested initial states of stacked cells are taken.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.check import runner, verdict as verdicts
from rnnparity.check.compare import Mismatch, Stats, compare_array, compare_outputs
from rnnparity.check.envelope import run_plan
from rnnparity.plan import Call, LayerSpec, Outcome, Plan, Recording, Reset, seeded_weights
from rnnparity.targets import registry
from rnnparity.testing import IllConditionedWarning, assert_parity
from tests.test_envelope import _another_valid_run, _weights
from tests.saturation import SATURATED, SEEDS, STEPS, needs, saturated_check, saturated_layer

TARGETS = ("keras3", "tf_keras")


# -- the pipeline on planted recordings ----------------------------------------------------------
def _reference(cls=rp.GRU, scale=1.0, dtype="float32", features=3, seed=0, **config):
    ref = cls(units=4, return_sequences=True, return_state=True, dtype=dtype, **config)
    return _weights(ref, features, scale, seed, dtype)


def _mapped(out, fn):
    """``fn`` on every array of an output structure, keeping its containers (tuple or list)."""
    if isinstance(out, (list, tuple)):
        return type(out)(_mapped(o, fn) for o in out)
    return fn(out)


def _recording(reference, plan, outputs, dtype="float32"):
    spec = LayerSpec(type(reference).__name__, {"units": getattr(reference, "units", 4), "dtype": dtype,
                                                "return_sequences": reference.return_sequences,
                                                "return_state": reference.return_state})
    return Recording("planted", spec, plan, None, Outcome(outputs), reference.dialect)


def _plan(shape=(2, 30, 3), dtype="float32", seed=0):
    x = np.random.RandomState(seed).normal(size=shape).astype(dtype)
    return Plan([Call(x, None, None, "call")])


def _judge(reference, plan, outputs, **kwargs):
    rec = _recording(reference, plan, outputs)
    return verdicts.judge(rec, lambda: copy.deepcopy(reference), pristine=reference, **kwargs)


def test_agreeing_outputs_pass_within_the_table_and_feed_the_stats():
    ref, plan = _reference(), _plan()
    verdict = _judge(ref, plan, run_plan(copy.deepcopy(ref), plan))
    assert verdict.status == verdicts.PASS and verdict.rounding is None and verdict.problems == []
    assert verdict.stats.elements > 0 and verdict.stats.within_rounding == 0
    assert verdict.summary() == "agrees within the tolerance table"


def test_another_valid_computation_beyond_the_table_passes_within_rounding():
    """An exploding layer rounded differently (a randomly rounded float32 run: the same maths) exceeds
    the 1e-6 table but lies within the envelope."""
    ref, plan = _reference(rp.SimpleRNN, scale=1.6, activation="linear"), _plan((2, 40, 3))
    outs = _another_valid_run(ref, plan)
    plain = runner.verify(_recording(ref, plan, outs), lambda: copy.deepcopy(ref))
    assert plain, "the other computation must exceed the table, or the test proves nothing"
    verdict = _judge(ref, plan, outs)
    assert verdict.status == verdicts.PASS and verdict.within_rounding, verdict.problems
    assert verdict.stats.within_rounding == 1 and verdict.stats.elements == 0
    assert verdict.summary().startswith("agrees within rounding")


def test_a_planted_bug_fails_with_the_envelope_figures_and_a_diagnosis():
    ref, plan = _reference(rp.LSTM), _plan()
    bugged = copy.deepcopy(ref)
    kernel, recurrent, bias = bugged.get_weights()
    u = 4  # gates i, f, c, o: f and i swapped, a classic porting mistake
    swap = lambda w: np.concatenate([w[..., u:2 * u], w[..., :u], w[..., 2 * u:]], axis=-1)  # noqa: E731
    bugged.set_weights([swap(kernel), swap(recurrent), swap(bias)])
    verdict = _judge(ref, plan, run_plan(bugged, plan))
    assert verdict.status == verdicts.FAIL
    kinds = [p.kind for p in verdict.problems]
    assert "values" in kinds and "rounding" in kinds
    report = runner.failure_report("planted", verdict.problems)
    assert "rounding verdict: FAIL, not rounding" in report and "x the rounding envelope" in report


def test_a_known_bug_is_an_xfail_naming_the_entry():
    ref, plan = _reference(), _plan()
    outs = [_mapped(run_plan(copy.deepcopy(ref), plan)[0], lambda o: o + np.float32(0.1))]
    known = type("Known", (), {"key": "some-registered-bug"})()
    verdict = _judge(ref, plan, outs, known=known)
    assert verdict.status == verdicts.XFAIL and verdict.known is known
    assert verdict.fails() and verdict.summary().startswith("known framework bug [some-registered-bug]")


def test_nested_states_of_stacked_cells_are_judged_not_crashed():
    """RNN([GRUCell(4), LSTMCell(5)], return_state=True) returns one state list per cell (issue 21
    item 3: the old verdict raised TypeError: list - list)."""
    ref = _weights(rp.RNN([rp.GRUCell(4), rp.LSTMCell(5)], return_sequences=True, return_state=True),
                   3, scale=2.0, seed=1)
    plan = _plan((2, 40, 3))
    outs = run_plan(copy.deepcopy(ref), plan)
    seq, cell0, cell1 = outs[0]
    nudged = [type(outs[0])([seq, cell0, _mapped(cell1, lambda s: s * np.float32(1 + 3e-7))])]
    verdict = _judge(ref, plan, nudged)
    assert verdict.status in (verdicts.PASS, verdicts.ILL_CONDITIONED), verdict.problems
    wrong = [type(outs[0])([seq, cell0, _mapped(cell1, lambda s: s + np.float32(1e-2))])]
    assert _judge(ref, plan, wrong).status == verdicts.FAIL


def test_a_reference_computing_below_its_precision_fails_its_own_envelope():
    """The envelope's runs compute in float64 and round at float32's ulp (a virtual precision), so a
    reference that carries its recurrence in float16 cannot widen its own envelope: its own run lies
    outside, and the verdict says so, although the (correct) framework agrees with the centre."""
    ref, plan = _reference(scale=1.5), _plan((2, 60, 3))
    correct = copy.deepcopy(ref)
    outs = run_plan(correct, plan)
    sloppy = copy.deepcopy(ref)
    step = sloppy.cell.step

    def float16_step(x_t, states):  # float32 only: a code path of the low precision
        out, new = step(x_t, states)
        if out.dtype != np.float32:
            return out, new
        out = out.astype(np.float16).astype(np.float32)
        return out, [out] + [s.astype(np.float16).astype(np.float32) for s in new[1:]]
    sloppy.cell.step = float16_step
    verdict = verdicts.judge(_recording(sloppy, plan, outs), lambda: copy.deepcopy(sloppy), pristine=sloppy)
    assert verdict.status == verdicts.FAIL, verdict.problems
    assert verdict.rounding.reference_outside
    assert "the reference computes less accurately than valid float32 computations" in \
        verdict.rounding.report()


def _chaotic_recording():
    """A chaotic SimpleRNN at T=150 and another valid float32 computation of it: they separate."""
    ref = _weights(rp.SimpleRNN(16, return_sequences=True), 4, scale=3.0)
    plan = _plan((2, 150, 4))
    return ref, plan, _another_valid_run(ref, plan)


def test_a_chaotic_layer_is_ill_conditioned_and_warns_or_fails_as_asked():
    verdict = _judge(*_chaotic_recording())
    assert verdict.status == verdicts.ILL_CONDITIONED, verdict.problems
    assert verdict.stats.ill_conditioned == 1 and verdict.stats.elements == 0
    assert not verdict.fails() and verdict.fails("fail")
    assert "agreement is proven up to there" in verdict.summary()
    assert "agreement proven up to step t=" in runner.failure_report("c", verdict.problems)
    with pytest.raises(ValueError, match="ill_conditioned must be one of"):
        verdict.fails("ignore")


def test_a_tf1_recording_keeps_the_plain_verdict():
    assert not verdicts.eligible([Mismatch("values", "x", precision="bfloat16", call=0, output=0)])
    assert verdicts.eligible([Mismatch("values", "x", precision="float64", call=0, output=0)])
    assert not verdicts.eligible([Mismatch("values", "framework: stateful chunking", precision="float32")])


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


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), "1e-3", True])
def test_bad_overrides_are_refused_naming_the_argument(bad):
    with pytest.raises(ValueError, match="atol must be a"):
        compare_array(A, A, "out", atol=bad)
    with pytest.raises(ValueError, match="rtol must be a"):
        compare_outputs([A], [A], rtol=bad)


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


# -- live: saturated layers at T=2000 ----------------------------------------------------------
# Three seeds a layer in the test command (the envelope of a T=2000 layer costs 1-2 s; the framework
# run more): every one passes or is ill-conditioned, and some need the verdict.
SWEEP_SEEDS = SEEDS[:3]


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("key", list(SATURATED))
def test_saturated_t2000_sweep_never_fails(target, key):
    """No seed fails: it passes (outright or within rounding), or it is ill-conditioned with the
    step up to which agreement is proven; some seed of every layer needs the verdict (the table
    alone would fail it), so the sweep proves the feature."""
    needs(target)
    needed = []
    for seed in SWEEP_SEEDS:
        rec, problems = saturated_check(target, key, seed)
        assert rec.verdict.status in (verdicts.PASS, verdicts.ILL_CONDITIONED), \
            runner.failure_report(rec.case_id, problems)
        if rec.verdict.status == verdicts.ILL_CONDITIONED:
            assert "agreement proven up to step t=" in rec.rounding.report()
        if rec.rounding is not None:
            needed.append(seed)
    assert needed, (f"no seed of {key} at T={STEPS} exceeded the tolerance table: the sweep no longer "
                    f"exercises the rounding verdict for this layer (raise its scale in tests/saturation.py)")


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_runner_counts_within_rounding_apart_replays_alike_and_takes_rounding_off(target):
    needs(target)
    rec, problems = saturated_check(target, "gru", 0)
    assert problems == [] and rec.rounding is not None and rec.rounding.passed  # seed 0 needs it
    stats = Stats()
    runner.check_spec_live(target, rec.spec, rec.plan, 0, rec.case_id, rec.plan.calls[0].x.shape,
                           stats=stats, weights=rec.weights)
    # counted, but its beyond-the-table errors stay out of the summary's per-precision rows
    assert stats.within_rounding == 1 and stats.by_precision == {} and stats.max_abs == 0
    assert stats.as_property(target)["within_rounding"] == 1
    # a replay of the recording gets the same verdict, with no framework
    replayed = runner.replay(rec)
    assert replayed.status == verdicts.PASS and replayed.within_rounding
    assert runner.replay(rec, rounding=False).status == verdicts.FAIL
    plain = runner.check_spec_live(target, rec.spec, rec.plan, 0, rec.case_id, rec.plan.calls[0].x.shape,
                                   weights=rec.weights, rounding=False)[1]
    assert plain and "beyond tolerance" in plain[0].message
    loose = runner.check_spec_live(target, rec.spec, rec.plan, 0, rec.case_id, rec.plan.calls[0].x.shape,
                                   weights=rec.weights, rounding=False, atol=1e-2)[1]
    assert loose == []


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_assert_parity_passes_a_saturated_layer_within_rounding(target):
    needs(target)
    layer, x = saturated_layer(target, "gru", 0)
    strict = compare_outputs(registry.get(target).call(layer, x), rp.from_keras(layer)(x), steps=STEPS)
    assert strict, "this seed must exceed the table, or the test proves nothing"
    with pytest.raises(AssertionError, match="beyond tolerance"):
        assert_parity(layer, x, rounding=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IllConditionedWarning)
        out = assert_parity(layer, x)
    assert len(out) == 2  # the sequence, then h
    with pytest.raises(AssertionError, match=r"atol=0, rtol=0, float32, as given"):
        assert_parity(layer, x, atol=0, rtol=0, rounding=False)
    assert_parity(layer, x, atol=1e-2, rounding=False)
    with pytest.raises(ValueError, match="atol must be a finite number"):
        assert_parity(layer, x, atol=-1)
    with pytest.raises(ValueError, match="ill_conditioned must be one of"):
        assert_parity(layer, x, ill_conditioned="ignore")


def _keras(target):
    import importlib

    return importlib.import_module("keras" if target == "keras3" else "tf_keras")


def _chaotic(keras, target):
    layer = keras.layers.SimpleRNN(16, return_sequences=True)
    x = np.random.RandomState(0).normal(size=(2, 150, 4)).astype("float32")
    layer.build(x.shape)
    layer.set_weights([w * 3.0 for w in seeded_weights([w.shape for w in layer.get_weights()], 0)])
    return layer, x


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_assert_parity_on_a_chaotic_layer_warns_or_fails_with_the_figures(target):
    needs(target)
    keras = _keras(target)
    layer, x = _chaotic(keras, target)
    with pytest.warns(IllConditionedWarning, match=r"agreement proven up to step t=\d+ of 150"):
        out = assert_parity(layer, x)
    assert np.shape(out) == (2, 150, 16)
    with pytest.raises(AssertionError, match="ill-conditioned: not decidable beyond rounding"):
        assert_parity(layer, x, ill_conditioned="fail")


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_check_model_reports_an_ill_conditioned_row_and_gates_as_asked(target):
    from rnnparity.report.model_report import junit_xml

    needs(target)
    keras = _keras(target)
    layer, x = _chaotic(keras, target)
    model = keras.Sequential([keras.Input((150, 4)), layer])
    report = rp.check_model(model, x)
    (row,) = report.layers
    assert row.status == "ill-conditioned", row.message
    assert "agreement proven up to step" in row.message and row.first_diverging_step is not None
    assert report.passed  # warn: shown, not failing
    assert "ILL-CONDITIONED" in report.table()
    assert 'name="verdict" value="ill-conditioned"' in junit_xml(report)
    strict = rp.check_model(model, x, ill_conditioned="fail")
    assert not strict.passed and 'failures="1"' in junit_xml(strict)


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_assert_parity_takes_nested_per_cell_initial_states(target):
    """tf_keras (and Keras 3) accept one list of states per cell for stacked cells; assert_parity
    used to refuse them ("initial_state must hold 3 array(s))."""
    needs(target)
    keras = _keras(target)
    layer = keras.layers.RNN([keras.layers.GRUCell(3), keras.layers.LSTMCell(2)], return_state=True)
    rng = np.random.RandomState(0)
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    states = [[rng.normal(size=(2, 3)).astype("float32")],
              [rng.normal(size=(2, 2)).astype("float32"), rng.normal(size=(2, 2)).astype("float32")]]
    layer.build(x.shape)
    assert_parity(layer, x, initial_state=states)
    with pytest.raises(ValueError, match="initial_state must hold 3 array"):
        assert_parity(layer, x, initial_state=states[:1])


def test_summary_counts_within_rounding_and_ill_conditioned_apart():
    """The plugin's end-of-run summary keeps within-rounding and ill-conditioned cases out of the
    per-precision rows, and counts each."""
    from rnnparity.plugin import RunState

    state = RunState(config=None)
    state.suite_seen = {"a", "b", "c"}
    state.stats = [{"target": "keras3", "precisions": {"float32": [1e-7, 1e-6]}, "within_rounding": 0},
                   {"target": "keras3", "precisions": {}, "within_rounding": 1},
                   {"target": "keras3", "precisions": {}, "within_rounding": 0, "ill_conditioned": 1}]
    lines = []
    reporter = type("Reporter", (), {"write_sep": lambda self, *a, **k: None,
                                     "write_line": lambda self, line, **k: lines.append(line)})()
    state.pytest_terminal_summary(reporter)
    assert lines[0] == "agreeing cases per target: keras3 3"
    assert lines[1].startswith("float32 outputs: max abs error 1e-07, max rel error 1e-06 over 1 cases")
    assert lines[2].startswith("1 cases passed within rounding")
    assert lines[3].startswith("1 cases ill-conditioned")


def test_a_suite_case_that_is_ill_conditioned_warns_or_fails_with_its_report():
    """suite.conclude: the end of every suite test, from its verdict."""
    from rnnparity.plugin import ILL_REPORT_KEY, VERDICT_KEY
    from rnnparity.suite import IllConditionedWarning as SuiteWarning, conclude

    verdict = _judge(*_chaotic_recording())
    assert verdict.status == verdicts.ILL_CONDITIONED

    def config(mode):
        return type("Config", (), {"getoption": lambda self, name: mode})()
    props = []
    with pytest.warns(SuiteWarning, match="ill-conditioned: not decidable beyond rounding"):
        conclude("some-case", verdict, lambda k, v: props.append((k, v)), config("warn"), Stats(), "keras3")
    assert (VERDICT_KEY, "ill-conditioned") in props
    assert any(k == ILL_REPORT_KEY and "ILL-CONDITIONED" in v for k, v in props)
    with pytest.raises(pytest.fail.Exception, match="ill-conditioned"):
        conclude("some-case", verdict, lambda k, v: None, config("fail"), Stats(), "keras3")


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_float64_stacked_cells_computing_in_float32_are_named_and_registered(target):
    """RNN([cells], dtype='float64') builds a float32 StackedRNNCells (both dialects): the verdict
    names "float32 rounding inside a float64 run", the registry names the bug; with the wrapper's
    dtype given the same layer agrees (so the entry stays strict: the day it is fixed, this fails)."""
    from rnnparity.testing import KnownFrameworkBug

    needs(target)
    keras = _keras(target)
    L = keras.layers
    cells = lambda: [L.GRUCell(4, dtype="float64"), L.LSTMCell(4, dtype="float64")]  # noqa: E731
    x = np.random.RandomState(0).normal(size=(2, 6, 3))
    layer = L.RNN(cells(), dtype="float64", return_sequences=True)
    layer.build(x.shape)
    with pytest.raises(KnownFrameworkBug, match="float64-stacked-cells-compute-in-float32") as caught:
        assert_parity(layer, x)
    assert "float32 rounding inside a float64 run" in str(caught.value)
    fixed = L.RNN(L.StackedRNNCells(cells(), dtype="float64"), dtype="float64", return_sequences=True)
    fixed.build(x.shape)
    fixed.set_weights(layer.get_weights())
    assert_parity(fixed, x)
    mask = np.array([[1, 1, 1, 0, 0, 0], [1] * 6], bool)
    key = ("keras3-stacked-cells-own-dtype-masked-select" if target == "keras3"
           else "float64-stacked-cells-compute-in-float32")
    with pytest.raises(KnownFrameworkBug, match=key):
        assert_parity(layer, x, mask=mask)


def test_the_cli_offers_the_verdicts_ill_conditioned_modes():
    """The CLI spells --ill-conditioned's choices without importing the verdict (NumPy): the same."""
    from rnnparity.cli.common import ILL_CONDITIONED_MODES

    assert ILL_CONDITIONED_MODES == verdicts.ILL_CONDITIONED_MODES
