"""rp.diagnose_tf1 names the mistake behind a port of tf.compat.v1.nn code, and only then.

The oracle is TF: each scenario is a tf1 matrix case run live (rnnparity.check.tf1_records.run_live),
whose outputs are the correct ones; the port's outputs come from the reference with one catalogue
mistake applied, and must differ from TF's. Every catalogue entry has a scenario here (a new mistake
without one fails `test_every_tf1_mistake_has_a_scenario`)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.check import tf1_mistakes as mistakes
from rnnparity.check.diagnose import AGREES, EXPLAINED, UNEXPLAINED
from rnnparity.check.tf1_diagnose import diagnose_problem
from rnnparity.check.tf1_records import case_problem, run_live
from rnnparity.matrix.tf1_cases import Tf1Case
from rnnparity.targets import registry
from tests.saturation import needs

pytestmark = pytest.mark.filterwarnings("ignore:`tf.nn.rnn_cell.*is deprecated:UserWarning")


def _case(function, cell, seqlen="none", time_major=False, init=False, dtype="float32"):
    return Tf1Case(function, cell, seqlen, time_major, init, dtype)


# mistake name -> the tf1 case (function, cell, seqlen, time_major, init, dtype) it shows on
SCENARIOS = {
    "tf1_gru_gate_order_ur": _case("dynamic_rnn", "gru_cell"),
    "tf1_gru_update_flipped": _case("static_rnn", "gru_cell_softsign", dtype="float64"),
    "tf1_gru_reset_after_product": _case("bidirectional_dynamic_rnn", "gru_cell", "ragged"),
    "tf1_forget_bias_missing": _case("dynamic_rnn", "basic_lstm"),
    "tf1_forget_bias_twice": _case("static_rnn", "lstm_cell_all_concat"),
    "tf1_bias_ignored": _case("dynamic_rnn", "basic_rnn_relu", "full"),
    "tf1_peepholes_ignored": _case("dynamic_rnn", "lstm_cell_peep", init=True),
    "tf1_cell_clip_ignored": _case("dynamic_rnn", "lstm_cell_clip", time_major=True),
    "tf1_proj_clip_ignored": _case("static_rnn", "lstm_cell_proj_clip"),
    "tf1_state_order_hc": _case("bidirectional_dynamic_rnn", "basic_lstm_fb0_concat"),
    "tf1_initial_state_hc": _case("dynamic_rnn", "basic_lstm", init=True, dtype="float64"),
    "tf1_initial_state_ignored": _case("static_bidirectional_rnn", "gru_cell", init=True),
    "tf1_sequence_length_ignored": _case("dynamic_rnn", "lstm_cell", "ragged"),
    "tf1_outputs_past_length_not_zeroed": _case("static_rnn", "basic_rnn", "ragged"),
    "tf1_backward_reversed_whole_axis": _case("bidirectional_dynamic_rnn", "basic_lstm", "ragged", True),
    "tf1_backward_not_re_reversed": _case("static_bidirectional_rnn", "lstm_cell_proj"),
    "tf1_directions_swapped": _case("bidirectional_dynamic_rnn", "gru_cell_softsign", "full"),
    "tf1_time_major_output_not_swapped": _case("dynamic_rnn", "basic_rnn", time_major=True),
}
# every LSTM gate order, rotating over the LSTM cells and the functions
_LSTM_CELLS = ("basic_lstm", "lstm_cell", "lstm_cell_peep", "lstm_cell_proj", "basic_lstm_fb0_concat")
_rotation = itertools.cycle(itertools.product(("dynamic_rnn", "static_rnn", "bidirectional_dynamic_rnn"),
                                              _LSTM_CELLS))
for _m in mistakes.CATALOGUE:
    if _m.group == "tf1_lstm_gate_order":
        _function, _cell = next(_rotation)
        SCENARIOS[_m.name] = _case(_function, _cell, dtype="float64" if len(SCENARIOS) % 2 else "float32")
# one mistake needs a square kernel (input_depth == num_units), which the matrix's cells are not
SQUARE_ONLY = {"tf1_kernel_rows_h_first"}


def _live(case):
    needs("tf1")
    record = run_live(case)
    return case_problem(case, record), record


def test_every_tf1_mistake_has_a_scenario():
    assert sorted([*SCENARIOS, *SQUARE_ONLY]) == sorted(mistakes.BY_NAME)
    assert len(mistakes.CATALOGUE) >= 40


@pytest.mark.live
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_tf1_mistake_is_named(name):
    p, record = _live(SCENARIOS[name])
    tf = record["outputs"]
    assert diagnose_problem(p, tf, tf=tf).verdict == AGREES  # the reference is a correct port
    port = [a for _, a in mistakes.get(name).run(p)]
    assert diagnose_problem(p, port, tf=tf, pairs=False).verdict != AGREES, \
        f"{name} has no effect on its scenario: the test would prove nothing"
    diagnosis = diagnose_problem(p, port, tf=tf)
    assert diagnosis.verdict == EXPLAINED, str(diagnosis)
    assert diagnosis.names[0] == name, str(diagnosis)
    assert name in str(diagnosis) and mistakes.get(name).says in str(diagnosis)
    assert "differs from TF" in str(diagnosis)


# -- through rp.diagnose_tf1, with live TF cells ----------------------------------------------------
def _tf_cells(cls, units, input_depth, n=1, config=None):
    needs("tf1")
    adapter = registry.get("tf1")
    rng = np.random.default_rng(units + input_depth)
    cells = []
    for k in range(n):
        cell = adapter.make_cell({"class": cls, "config": {"num_units": units, **(config or {})}},
                                 "float32", input_depth, name=f"c{k}")
        adapter.set_weights(cell, [rng.uniform(-0.7, 0.7, w.shape).astype("float32")
                                   for w in adapter.get_weights(cell)])
        cells.append(cell)
    return cells


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def numpy_basic_lstm_port(kernel, bias, forget_bias):
    """A hand-written port of dynamic_rnn(BasicLSTMCell): the kind of code diagnose is for."""
    def port(inputs, sequence_length=None, initial_state=None):
        batch, steps, _ = inputs.shape
        units = bias.shape[0] // 4
        c, h = (np.zeros((batch, units), "float32"),) * 2 if initial_state is None else initial_state
        lengths = np.full(batch, steps) if sequence_length is None else sequence_length
        outputs = []
        for t in range(steps):
            z = np.concatenate([inputs[:, t], h], 1) @ kernel + bias
            i, j, f, o = np.split(z, 4, axis=1)
            new_c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
            new_h = np.tanh(new_c) * _sigmoid(o)
            live = (t < lengths)[:, None]
            c, h = np.where(live, new_c, c), np.where(live, new_h, h)
            outputs.append(np.where(live, new_h, 0))
        return np.stack(outputs, 1), rp.tf1.LSTMStateTuple(c, h)
    return port


@pytest.mark.live
def test_a_hand_port_is_diagnosed_against_live_tf_cells():
    (cell,) = _tf_cells("BasicLSTMCell", 4, 3)
    kernel, bias = (np.asarray(w) for w in registry.get("tf1").get_weights(cell))
    x = np.random.default_rng(1).normal(size=(3, 6, 3)).astype("float32")
    lengths = np.array([6, 2, 4], np.int32)
    correct = numpy_basic_lstm_port(kernel, bias, forget_bias=1.0)
    d = rp.diagnose_tf1("dynamic_rnn", cell, x, correct, sequence_length=lengths)
    assert d.verdict == AGREES and "agrees with TF" in str(d), str(d)
    dropped = numpy_basic_lstm_port(kernel, bias, forget_bias=0.0)  # the classic TF1 porting slip
    d = rp.diagnose_tf1("dynamic_rnn", cell, x, dropped(x, sequence_length=lengths),
                        sequence_length=lengths)
    assert d.verdict == EXPLAINED and d.names == ["tf1_forget_bias_missing"], str(d)
    assert d.line.startswith("diagnosis: the port of dynamic_rnn behaves like TF with one known porting")
    noisy = correct(x, sequence_length=lengths)
    noisy = (noisy[0] * (1 + 1e-3 * np.random.default_rng(2).normal(size=noisy[0].shape)), noisy[1])
    d = rp.diagnose_tf1("dynamic_rnn", cell, x, noisy, sequence_length=lengths)
    assert d.verdict == UNEXPLAINED and "no known mistake explains it" in str(d), str(d)
    assert "first divergence from TF: output [0] = outputs" in str(d)


@pytest.mark.live
def test_kernel_rows_read_h_first_on_a_square_cell():
    (cell,) = _tf_cells("GRUCell", 3, 3)
    reference = rp.tf1.cell_from_tf(cell)
    x = np.random.default_rng(3).normal(size=(2, 5, 3)).astype("float32")
    p = mistakes.Problem("dynamic_rnn", (reference,), x)
    port = [a for _, a in mistakes.get("tf1_kernel_rows_h_first").run(p)]
    d = rp.diagnose_tf1(rp.tf1.dynamic_rnn, cell, x, port)
    assert d.verdict == EXPLAINED and d.names[0] == "tf1_kernel_rows_h_first", str(d)


@pytest.mark.live
def test_a_pair_of_mistakes_is_named_when_no_single_one_explains_it():
    p, record = _live(_case("dynamic_rnn", "basic_lstm", "ragged", init=True))
    pair = mistakes.combined([mistakes.get("tf1_forget_bias_missing"), mistakes.get("tf1_initial_state_hc")])
    port = [a for _, a in pair.run(p)]
    d = diagnose_problem(p, port, tf=record["outputs"])
    assert d.verdict == EXPLAINED and d.names[0] == pair.name, str(d)
    assert diagnose_problem(p, port, tf=record["outputs"], pairs=False).verdict == UNEXPLAINED


def test_bad_calls_are_refused_naming_what_is_expected():
    cell = rp.tf1.BasicLSTMCell(4)
    cell.set_weights([np.zeros((7, 16), "float32"), np.zeros(16, "float32")])
    x = np.zeros((2, 5, 3), "float32")
    with pytest.raises(ValueError, match="function must be one of static_rnn, dynamic_rnn"):
        rp.diagnose_tf1("raw_rnn", cell, x, [])
    with pytest.raises(ValueError, match="the bidirectional functions need cell_bw"):
        rp.diagnose_tf1("bidirectional_dynamic_rnn", cell, x, [])
    with pytest.raises(ValueError, match="takes initial_state_fw and initial_state_bw"):
        rp.diagnose_tf1("bidirectional_dynamic_rnn", cell, x, [], cell_bw=cell, initial_state=(x, x))
    with pytest.raises(ValueError, match="must be a list of T"):
        rp.diagnose_tf1("static_rnn", cell, x, [])
    with pytest.raises(ValueError, match=r"must hold 3 array\(s\) in TF's order"):
        rp.diagnose_tf1("dynamic_rnn", cell, x, [np.zeros((2, 5, 4), "float32")])
    with pytest.raises(ValueError, match="has no weights"):
        rp.diagnose_tf1("dynamic_rnn", rp.tf1.GRUCell(4), x, [])
    with pytest.raises(ValueError, match="is a TF1 cell; diagnose a port of tf.compat.v1.nn code with "
                                         "rp.diagnose_tf1"):
        rp.diagnose(cell, x, [])


@pytest.mark.live
def test_the_suite_failure_report_of_a_tf1_case_names_the_one_mistake(monkeypatch):
    from rnnparity.check.runner import failure_report
    from rnnparity.check.tf1_records import compare_to_reference, diagnosis_mismatch
    from rnnparity.reference import tf1_nn as ref

    case = _case("dynamic_rnn", "lstm_cell")
    needs("tf1")
    record = run_live(case)
    monkeypatch.setattr(ref, "TF1_LSTM_GATES", ("i", "f", "j", "o"))  # a reference with Keras' order
    problems = compare_to_reference(case, record)
    line = diagnosis_mismatch(case, record, record["outputs"])
    assert problems and line is not None
    report = failure_report(case.id, problems + [line])
    assert ("diagnosis: tf1's output behaves like the reference with one known porting mistake "
            "[tf1_lstm_gate_order_ifjo]") in report, report


# -- the command ----------------------------------------------------------------------------------
@pytest.mark.live
def test_cli_diagnoses_a_tf1_case_from_the_port_outputs_npz(tmp_path, capsys):
    from rnnparity.cli import main
    from rnnparity.cli.diagnose import write_outputs

    case = _case("static_bidirectional_rnn", "basic_lstm", "ragged")
    p, record = _live(case)
    assert main(["diagnose", "--case", case.id, "--write-inputs", str(tmp_path / "in.npz")]) == 0
    said = capsys.readouterr().out
    assert "call0_output<i> in this order: outputs[0], outputs[1]" in said, said
    inputs = np.load(tmp_path / "in.npz")
    assert inputs["call0_x"].shape == (4, 5, 3) and list(inputs["call0_sequence_length"]) == [5, 2, 0, 3]
    assert list(inputs["output_names"]) == record["output_names"]
    port = [a for _, a in mistakes.get("tf1_backward_reversed_whole_axis").run(p)]
    write_outputs(tmp_path / "port.npz", [port])
    assert main(["diagnose", "--case", case.id, "--outputs", str(tmp_path / "port.npz")]) == 1
    assert "[tf1_backward_reversed_whole_axis]" in capsys.readouterr().out
    write_outputs(tmp_path / "tf.npz", [record["outputs"]])
    assert main(["diagnose", "--case", case.id, "--outputs", str(tmp_path / "tf.npz")]) == 0
    write_outputs(tmp_path / "short.npz", [record["outputs"][:-1]])
    assert main(["diagnose", "--case", case.id, "--outputs", str(tmp_path / "short.npz")]) == 2
    assert "missing call0_output" in capsys.readouterr().err
