"""rp.diagnose names the porting mistake behind a port's outputs, and only then.

The oracle is the framework: each scenario builds a live Keras layer, whose outputs on x are the
correct ones (a correct port agrees with them); the port's outputs come from the reference with one
catalogue mistake applied, and must differ from the framework's. Every catalogue entry has a
scenario here (a new mistake without one fails `test_every_mistake_has_a_scenario`)."""
from __future__ import annotations

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.check import mistakes
from rnnparity.check.diagnose import AGREES, EXPLAINED, UNEXPLAINED, diagnose_plan, run
from rnnparity.check.compare import as_list
from rnnparity.keras_to_reference import from_keras
from rnnparity.plan import Call, Reset
from rnnparity.targets import registry
from tests.saturation import needs

B, T, F, U = 3, 7, 3, 5
SEQ_STATE = {"return_sequences": True, "return_state": True}


def _mask():
    mask = np.ones((B, T), bool)
    mask[1, 5:] = False
    mask[2, 3:] = False
    return mask


# mistake name -> (target, layer class, config, options): options: wrapper=True (Bidirectional),
# mask, init (initial states), features, batches (consecutive calls), reset (stateful reset between)
SCENARIOS = {
    "recurrent_kernel_blocks_transposed": ("keras3", "LSTM", SEQ_STATE, {}),
    "kernel_and_recurrent_kernel_swapped": ("keras3", "LSTM", SEQ_STATE, {"features": U}),
    "bias_ignored": ("tf_keras", "SimpleRNN", {"return_sequences": True}, {}),
    "gru_bias_rows_swapped": ("keras3", "GRU", SEQ_STATE, {}),
    "gru_recurrent_bias_dropped": ("keras3", "GRU", SEQ_STATE, {}),
    "gru_input_bias_dropped": ("tf_keras", "GRU", SEQ_STATE, {}),
    "gru_biases_summed": ("keras3", "GRU", SEQ_STATE, {}),
    "lstm_forget_bias_added": ("keras3", "LSTM", SEQ_STATE, {}),
    "lstm_forget_bias_missing": ("tf_keras", "LSTM", SEQ_STATE, {}),
    "gru_reset_before_product": ("keras3", "GRU", SEQ_STATE, {}),
    "gru_reset_after_product": ("tf_keras", "GRU", {**SEQ_STATE, "reset_after": False}, {}),
    "lstm_returned_state_order_swapped": ("keras3", "LSTM", SEQ_STATE, {}),
    "bidi_state_order_swapped": ("keras3", "LSTM", SEQ_STATE, {"wrapper": True}),
    "bidi_states_interleaved": ("tf_keras", "LSTM", SEQ_STATE, {"wrapper": True}),
    "lstm_initial_state_order_swapped": ("keras3", "LSTM", SEQ_STATE, {"init": True}),
    "bidi_initial_state_halves_swapped": ("keras3", "GRU", SEQ_STATE, {"wrapper": True, "init": True}),
    "initial_state_ignored": ("tf_keras", "GRU", SEQ_STATE, {"init": True}),
    "go_backwards_ignored": ("keras3", "GRU", {**SEQ_STATE, "go_backwards": True}, {}),
    "bidi_backward_runs_forward": ("keras3", "LSTM", SEQ_STATE, {"wrapper": True}),
    "go_backwards_output_flipped_back": ("tf_keras", "LSTM", {**SEQ_STATE, "go_backwards": True}, {}),
    "bidi_backward_not_re_reversed": ("keras3", "GRU", SEQ_STATE, {"wrapper": True}),
    "time_major_output_not_swapped": ("tf_keras", "LSTM", {**SEQ_STATE, "time_major": True}, {}),
    "masked_steps_output_zeros": ("keras3", "LSTM", SEQ_STATE, {"mask": True}),
    "masked_steps_output_carried": ("keras3", "LSTM", SEQ_STATE, {"wrapper": True, "mask": True}),
    "mask_ignored": ("tf_keras", "GRU", SEQ_STATE, {"mask": True}),
    "masked_steps_update_state": ("keras3", "LSTM", SEQ_STATE, {"mask": True}),
    "mask_not_reversed_with_go_backwards": ("keras3", "GRU", {**SEQ_STATE, "go_backwards": True},
                                            {"mask": True}),
    "hard_sigmoid_keras3_formula": ("tf_keras", "LSTM", {**SEQ_STATE, "recurrent_activation": "hard_sigmoid"}, {}),
    "hard_sigmoid_keras2_formula": ("keras3", "GRU", {**SEQ_STATE, "recurrent_activation": "hard_sigmoid"}, {}),
    "recurrent_activation_hard_sigmoid": ("keras3", "LSTM", SEQ_STATE, {}),
    "recurrent_activation_sigmoid": ("tf_keras", "GRU", {**SEQ_STATE, "recurrent_activation": "hard_sigmoid"}, {}),
    "float16_arithmetic": ("keras3", "LSTM", SEQ_STATE, {}),
    "state_not_carried": ("keras3", "LSTM", {**SEQ_STATE, "stateful": True}, {"batches": 2}),
    "state_not_reset": ("tf_keras", "GRU", {**SEQ_STATE, "stateful": True}, {"batches": 2, "reset": True}),
    "state_carried_between_calls": ("keras3", "GRU", SEQ_STATE, {"batches": 2}),
}
for _m in mistakes.CATALOGUE:  # every gate order of its layer, on both frameworks in turn
    if _m.group.endswith("_gate_order"):
        _kind = _m.group.split("_")[0]
        SCENARIOS[_m.name] = ("keras3" if len(SCENARIOS) % 2 else "tf_keras", _kind, SEQ_STATE, {})


def _live(target, cls, config, options):
    needs(target)
    K = registry.get(target).K
    features = options.get("features", F)
    layer = getattr(K.layers, cls)(U, **config)
    if options.get("wrapper"):
        layer = K.layers.Bidirectional(layer)
    rng = np.random.RandomState(sum(map(ord, cls + target)))
    shape = (T, B, features) if config.get("time_major") else (B, T, features)
    layer.build(shape)
    layer.set_weights([rng.uniform(-0.6, 0.6, np.shape(w)).astype("float32") for w in layer.get_weights()])
    xs = [rng.normal(size=shape).astype("float32") for _ in range(options.get("batches", 1))]
    mask = _mask() if options.get("mask") else None
    init = None
    if options.get("init"):
        n = (2 if cls == "LSTM" else 1) * (2 if options.get("wrapper") else 1)
        init = [rng.uniform(-0.5, 0.5, (B, U)).astype("float32") for _ in range(n)]
    return layer, xs, mask, init


def _steps(xs, mask, init, reset):
    steps = []
    for k, x in enumerate(xs):
        if reset and k:
            steps.append(Reset())
        steps.append(Call(x, mask, init if k == 0 else None, f"batch {k + 1}"))
    return steps


def _keras_outputs(target, layer, steps):
    adapter = registry.get(target)
    out = []
    for s in steps:
        if isinstance(s, Reset):
            adapter.reset(layer)
        else:
            out.append([np.asarray(a) for a in as_list(adapter.call(layer, s.x, s.mask, s.initial_state))])
    return out


def test_every_mistake_has_a_scenario():
    assert sorted(SCENARIOS) == sorted(mistakes.BY_NAME)
    assert len(mistakes.CATALOGUE) >= 60


@pytest.mark.live
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_mistake_is_named(name):
    target, cls, config, options = SCENARIOS[name]
    layer, xs, mask, init = _live(target, cls, config, options)
    reference = from_keras(layer)  # before any call: a stateful layer's zero states
    steps = _steps(xs, mask, init, options.get("reset"))
    keras = _keras_outputs(target, layer, steps)
    assert run(reference, steps) and diagnose_plan(reference, steps, keras).verdict == AGREES
    port = run(reference, steps, mistakes.get(name))
    assert diagnose_plan(reference, steps, port, keras=keras, pairs=False).verdict != AGREES, \
        f"{name} has no effect on its scenario: the test would prove nothing"
    if options.get("reset"):
        diagnosis = diagnose_plan(reference, steps, port, keras=keras)
    else:
        live = layer if not config.get("stateful") else reference
        diagnosis = rp.diagnose(live, xs if len(xs) > 1 else xs[0],
                                port if len(xs) > 1 else port[0], mask=mask if len(xs) == 1 else None,
                                initial_state=init)
    assert diagnosis.verdict == EXPLAINED, str(diagnosis)
    assert diagnosis.names[0] == name, str(diagnosis)
    assert name in str(diagnosis) and mistakes.get(name).says in str(diagnosis)


CORRECT_AND_NOISY = [("keras3", "LSTM", SEQ_STATE, {"mask": True}),
                     ("tf_keras", "GRU", {**SEQ_STATE, "go_backwards": True}, {"init": True}),
                     ("keras3", "GRU", SEQ_STATE, {"wrapper": True}),
                     ("tf_keras", "SimpleRNN", {"return_sequences": True}, {})]


@pytest.mark.live
@pytest.mark.parametrize("scenario", CORRECT_AND_NOISY, ids=lambda s: f"{s[0]}-{s[1]}-{sorted(s[3])}")
def test_correct_port_agrees_and_noise_is_not_a_mistake(scenario):
    target, cls, config, options = scenario
    layer, (x,), mask, init = _live(target, cls, config, options)
    keras = [np.asarray(a) for a in as_list(registry.get(target).call(layer, x, mask, init))]
    agrees = rp.diagnose(layer, x, keras, mask=mask, initial_state=init)
    assert agrees.verdict == AGREES and agrees.line is None and "agrees with Keras" in str(agrees)
    rng = np.random.RandomState(3)
    noisy = [a + rng.normal(scale=0.05, size=a.shape).astype(a.dtype) for a in keras]
    diagnosis = rp.diagnose(layer, x, noisy, mask=mask, initial_state=init)  # singles and pairs
    assert diagnosis.verdict == UNEXPLAINED and not diagnosis.findings, str(diagnosis)
    assert "no known mistake explains it" in str(diagnosis)
    assert "first divergence from Keras: output [0]" in diagnosis.divergence
    assert "timestep t=0" in diagnosis.divergence and diagnosis.tried >= 5


@pytest.mark.live
def test_a_port_callable_is_called_with_x_mask_and_initial_state():
    layer, (x,), mask, init = _live("keras3", "LSTM", SEQ_STATE, {"mask": True, "init": True})
    reference, seen = from_keras(layer), []

    def port(x_, mask_, init_):  # a port that swaps the returned h and c
        seen.append((x_ is not None, mask_ is not None, init_ is not None))
        out = reference(x_, mask=mask_, initial_state=init_)
        return [out[0], out[2], out[1]]
    diagnosis = rp.diagnose(layer, x, port, mask=mask, initial_state=init)
    assert seen == [(True, True, True)]
    assert diagnosis.names == ["lstm_returned_state_order_swapped"], str(diagnosis)
    assert diagnosis.line.startswith("diagnosis: the port of LSTM") and "[h, c]" in diagnosis.line


# -- bad input ----------------------------------------------------------------------------------------
def _ref():
    ref = rp.LSTM(U, return_sequences=True, return_state=True)
    rng = np.random.RandomState(0)
    ref.set_weights([rng.uniform(-0.6, 0.6, s).astype("float32") for s in [(F, 4 * U), (U, 4 * U), (4 * U,)]])
    return ref, rng.normal(size=(B, T, F)).astype("float32")


def test_bad_port_outputs_are_refused_naming_what_is_expected():
    ref, x = _ref()
    good = [np.asarray(a) for a in ref(x)]
    with pytest.raises(ValueError, match=r"must hold 3 array\(s\) in Keras' order"):
        rp.diagnose(ref, x, good[:2])
    with pytest.raises(ValueError, match=r"port_outputs \[1\] must have shape \(3, 5\), got \(3, 4\)"):
        rp.diagnose(ref, x, [good[0], good[1][:, :4], good[2]])
    with pytest.raises(ValueError, match="x must have rank 3"):
        rp.diagnose(ref, x[0], good)
    with pytest.raises(ValueError, match=r"mask must be one array per batch \(2\), got 1"):
        rp.diagnose(ref, [x, x], [good, good], mask=[np.ones((B, T), bool)])
    with pytest.raises(ValueError, match="must be numeric"):
        rp.diagnose(ref, x, [good[0], good[1].astype(str), good[2]])
    stacked = rp.RNN([rp.LSTMCell(2), rp.LSTMCell(2)])
    with pytest.raises(ValueError, match="diagnose: layer must be a SimpleRNN, LSTM or GRU"):
        rp.diagnose(stacked, x, good)


def test_the_reference_itself_is_a_correct_port():
    ref, x = _ref()
    assert rp.diagnose(ref, x, ref(x)).verdict == AGREES


def test_npz_outputs_with_wrong_keys_or_shapes_are_refused(tmp_path):
    from rnnparity.cli.diagnose import read_outputs, write_outputs

    expected = [[np.zeros((3, 7, 5)), np.zeros((3, 5))]]
    good = tmp_path / "good.npz"
    write_outputs(good, expected)
    assert [a.shape for a in read_outputs(good, expected)[0]] == [(3, 7, 5), (3, 5)]
    np.savez(tmp_path / "keys.npz", output0=np.zeros((3, 7, 5)), call0_output1=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="missing call0_output0; unexpected output0"):
        read_outputs(tmp_path / "keys.npz", expected)
    np.savez(tmp_path / "shape.npz", call0_output0=np.zeros((3, 7, 5)), call0_output1=np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"call0_output1 must have shape \(3, 5\).*got \(3, 4\)"):
        read_outputs(tmp_path / "shape.npz", expected)
    (tmp_path / "text.npz").write_text("not an npz")
    with pytest.raises(ValueError, match="corrupt or not an .npz file"):
        read_outputs(tmp_path / "text.npz", expected)


# -- the diagnosis line in failure reports ------------------------------------------------------------
DIAGNOSIS = "behaves like the reference with one known porting mistake [lstm_gate_order_icfo]"


@pytest.fixture
def reference_reads_icfo(monkeypatch):
    """A reference that reads the LSTM gate blocks as i, c, f, o: every LSTM check fails."""
    from rnnparity.reference import lstm

    monkeypatch.setattr(lstm, "LSTM_GATES", ("i", "c", "f", "o"))


@pytest.mark.live
def test_failure_report_of_the_runner_names_the_one_mistake(reference_reads_icfo):
    from rnnparity.check import runner
    from rnnparity.matrix.cases import case_from_id

    needs("keras3")
    rec, problems = runner.check_live(case_from_id("lstm-seq-state-f32-keras3"))
    report = runner.failure_report(rec.case_id, problems)
    assert f"diagnosis: keras3's output {DIAGNOSIS}" in report, report
    assert "(2 problem(s))" in report or "(3 problem(s))" in report  # the diagnosis is not counted


@pytest.mark.live
def test_assert_parity_and_check_model_failures_name_the_one_mistake(reference_reads_icfo):
    from rnnparity.testing import assert_parity

    layer, (x,), _, _ = _live("tf_keras", "LSTM", SEQ_STATE, {})
    with pytest.raises(AssertionError, match=r"diagnosis: tf_keras's output behaves like the reference "
                                             r"with one known porting mistake \[lstm_gate_order_icfo\]"):
        assert_parity(layer, x)
    K = registry.get("keras3").K
    model = K.Sequential([K.Input((T, F)), K.layers.LSTM(U, return_sequences=True)])
    report = rp.check_model(model, np.asarray(x))
    assert report.layers[0].status == "fail" and DIAGNOSIS in report.layers[0].message


@pytest.mark.live
def test_no_diagnosis_line_when_no_single_mistake_explains_the_failure(monkeypatch):
    from rnnparity.check import runner
    from rnnparity.matrix.cases import case_from_id
    from rnnparity.reference import lstm

    needs("keras3")
    original = lstm.LSTMCell.step

    def noisy_step(self, x_t, states):  # not a porting mistake of the catalogue: a drift
        h, (h_, c) = original(self, x_t, states)
        return h * 1.01, [h * 1.01, c]
    monkeypatch.setattr(lstm.LSTMCell, "step", noisy_step)
    rec, problems = runner.check_live(case_from_id("lstm-seq-state-f32-keras3"))
    report = runner.failure_report(rec.case_id, problems)
    assert problems and "diagnosis:" not in report, report


@pytest.mark.live
def test_the_worked_example_port_gets_its_planted_mistake_named(capsys):
    needs("keras3")
    from examples.ports.numpy_lstm_port import main

    diagnosis = main()
    assert diagnosis.names == ["lstm_gate_order_icfo"]
    assert "your port reads them as i, c, f, o" in capsys.readouterr().out


# -- the command ----------------------------------------------------------------------------------
@pytest.mark.live
def test_cli_diagnoses_a_case_from_the_port_outputs_npz(tmp_path, capsys):
    from rnnparity.cli import main
    from rnnparity.cli.diagnose import case_plan, write_outputs

    needs("tf_keras")
    case = "gru-bidi_concat-seq-state-f32-tf_keras"
    assert main(["diagnose", "--case", case, "--write-inputs", str(tmp_path / "in.npz")]) == 0
    inputs = np.load(tmp_path / "in.npz")
    assert list(inputs["plan"]) == ["call"] and inputs["call0_x"].shape == (3, 7, 3)
    reference, steps, keras, _ = case_plan(case)
    write_outputs(tmp_path / "port.npz", run(reference, steps, mistakes.get("bidi_state_order_swapped")))
    capsys.readouterr()
    assert main(["diagnose", "--case", case, "--outputs", str(tmp_path / "port.npz"),
                 "--json", str(tmp_path / "d.json")]) == 1
    assert "[bidi_state_order_swapped]" in capsys.readouterr().out
    import json

    assert json.loads((tmp_path / "d.json").read_text())["findings"][0]["name"] == "bidi_state_order_swapped"
    write_outputs(tmp_path / "keras.npz", keras)
    assert main(["diagnose", "--case", case, "--outputs", str(tmp_path / "keras.npz")]) == 0


def test_cli_refuses_bad_arguments_in_one_line(capsys):
    from rnnparity.cli import main

    assert main(["diagnose", "--outputs", "port.npz"]) == 2
    assert "give either --case ID or --model PATH --layer NAME" in capsys.readouterr().err
    assert main(["diagnose", "--model", "m.keras", "--outputs", "port.npz"]) == 2
    assert "--model needs --layer NAME" in capsys.readouterr().err
    assert main(["diagnose", "--case", "lstm-nosuch-f32-keras3", "--outputs", "p.npz"]) == 2
    assert "is not a known case id" in capsys.readouterr().err


@pytest.mark.live
def test_cli_diagnoses_a_model_layer_on_the_inputs_it_really_receives(tmp_path, capsys):
    """masked_series' lstm_1 gets its mask from the model's Masking layer: the port that lets the
    states move at masked steps is named from the captured call."""
    from pathlib import Path

    from rnnparity.cli import main
    from rnnparity.cli.diagnose import model_plan, write_outputs

    needs("keras3")
    path = str(Path(__file__).resolve().parent.parent / "examples" / "built" / "masked_series.keras3.keras")
    args = ["diagnose", "--model", path, "--layer", "lstm_1"]
    from rnnparity.cli import parser

    reference, steps, keras, _ = model_plan(parser().parse_args(args + ["--outputs", "x"]))
    assert steps[0].mask is not None  # the model's mask reached the layer
    write_outputs(tmp_path / "port.npz", run(reference, steps, mistakes.get("masked_steps_update_state")))
    assert main(args + ["--outputs", str(tmp_path / "port.npz")]) == 1
    assert "[masked_steps_update_state]" in capsys.readouterr().out
