#!/usr/bin/env python
"""Mutation check: does the live conformance suite catch classic porting bugs?

For each mutant, the repository's package (src/rnnparity, plus tests/, pyproject.toml and conftest.py
so that pytest sees the same configuration) is copied to a temporary directory, one classic porting
bug is planted in the copy by text substitution, and a focused slice of the live suite (pytest -k,
-x, -n 2) runs with PYTHONPATH pointing at the copy. A mutant is *caught* when the slice fails.

A substitution whose target text is not found (exactly the expected number of times) is an error,
not a silent pass over an unmutated copy. With --control (on by default) every slice first runs on
the unmutated copy and must pass: a slice that fails without a bug proves nothing.

    python scripts/mutation_check.py                 # every mutant, prints the fraction caught
    python scripts/mutation_check.py --only lstm_gate_order,bidi_not_re_reversed --no-control
    python scripts/mutation_check.py --list
    python scripts/mutation_check.py --diagnose-only     # only: does `rnnparity diagnose` name each one?

Then (unless --no-diagnose) each mutant's outputs on its `diagnose_case`, computed by the mutated
reference, are fed to diagnose as a port's (the case recorded once on the live framework; the
mutated copies need no framework): it must name the mutant's catalogue mistake first.

The slices run the matrix (T <= 100). That the mutants are still caught on saturated T=2000
sequences, where the rounding verdict re-runs failures in float64, is checked by
tests/meta/test_planted_bugs_long.py (monkeypatched forms of 13 of these 15 mutants, plus a reference
that computes a float32 layer in float16).

Exit status: 0 when every selected mutant is caught (and the controls pass), 1 otherwise, 2 on a
usage or planting error.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = Path("src") / "rnnparity"
KERAS_SUITE = "src/rnnparity/suite/test_keras.py"
TF1_SUITE = "src/rnnparity/suite/test_tf1.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    what: str
    file: str  # relative to src/rnnparity
    edits: tuple  # ((old, new, expected count), ...)
    select: str  # pytest -k expression
    suite: str = KERAS_SUITE
    # the case whose outputs, computed by the mutated reference, are fed to `rnnparity diagnose` as a
    # port's, and the catalogue mistake (rnnparity.check.mistakes) it must name first
    diagnose_case: str | None = None
    named: str | None = None


def _e(old, new, count=1):
    return (old, new, count)


MUTANTS = (
    Mutant("lstm_gate_order", "LSTM gate order i, c, f, o instead of i, f, c, o",
           "reference/lstm.py", (_e('LSTM_GATES = ("i", "f", "c", "o")', 'LSTM_GATES = ("i", "c", "f", "o")'),),
           "lstm and not bidi and f64 and keras3",
           diagnose_case="lstm-seq-state-f32-keras3", named="lstm_gate_order_icfo"),
    Mutant("gru_gate_order", "GRU gate order r, z, h instead of z, r, h",
           "reference/gru.py", (_e('GRU_GATES = ("z", "r", "h")', 'GRU_GATES = ("r", "z", "h")'),),
           "gru and not bidi and f64 and tf_keras",
           diagnose_case="gru-seq-f32-tf_keras", named="gru_gate_order_rzh"),
    Mutant("transposed_kernel_blocks", "each (units, units) block of the recurrent kernel transposed",
           "reference/cell.py",
           (_e('self.recurrent_kernel = used["recurrent_kernel"]',
               'self.recurrent_kernel = np.concatenate([b.T for b in np.split(used["recurrent_kernel"], '
               'len(self.GATES), axis=-1)], axis=-1)'),),
           "simple_rnn and not bidi and f64 and keras3",
           diagnose_case="simple_rnn-seq-f32-keras3", named="recurrent_kernel_blocks_transposed"),
    Mutant("missing_go_backwards_reverse", "go_backwards does not reverse the time loop",
           "reference/scan.py",
           (_e("order = range(steps - 1, -1, -1) if go_backwards else range(steps)", "order = range(steps)"),),
           "gru and bwd and not bidi and keras3 and not t100",
           diagnose_case="gru-seq-bwd-f32-keras3", named="go_backwards_ignored"),
    Mutant("gru_reset_after_bias_rows_swapped", "GRU reset_after: input and recurrent bias rows swapped",
           "reference/gru.py",
           (_e("self.bias[1]", "self.bias[0]"),  # recurrent row first, then the input row
            _e("return self.bias[0] if self.reset_after", "return self.bias[1] if self.reset_after")),
           "gru and not gru_reset_before and not bidi and f64 and keras3",
           diagnose_case="gru-seq-f32-keras3", named="gru_bias_rows_swapped"),
    Mutant("hard_sigmoid_dialect_swapped", "Keras 2 hard_sigmoid computed with the Keras 3 formula",
           "reference/activations.py",
           (_e('"keras2": {**_COMMON, "hard_sigmoid": hard_sigmoid_keras2}',
               '"keras2": {**_COMMON, "hard_sigmoid": hard_sigmoid_keras3}'),),
           "hard_sigmoid and tf_keras and not bidi",
           diagnose_case="lstm-ract_hard_sigmoid-nobias-f32-tf_keras", named="hard_sigmoid_keras3_formula"),
    Mutant("zero_instead_of_carried_output", "masked steps output zeros instead of the previous output",
           "reference/scan.py",
           (_e("carried = 0 if zero_output_for_mask or k == 0 else outputs[:, k - 1]", "carried = 0"),),
           "mask and seq and not bidi and keras3",
           diagnose_case="lstm-seq-mask_right-f32-keras3", named="masked_steps_output_zeros"),
    Mutant("states_updated_at_masked_steps", "masked steps update the state",
           "reference/scan.py",
           (_e("new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]",
               "new_states = list(new_states)"),),
           "mask and not bidi and keras3",
           diagnose_case="lstm-state-mask_right-f32-keras3", named="masked_steps_update_state"),
    Mutant("bidi_state_order_swapped", "Bidirectional returns backward states before forward states",
           "reference/bidirectional.py",
           (_e("return seq(output + list(fw_states) + list(bw_states))",
               "return seq(output + list(bw_states) + list(fw_states))"),),
           "bidi_concat and state and not seq and tf_keras",
           diagnose_case="lstm-bidi_concat-state-f32-tf_keras", named="bidi_state_order_swapped"),
    Mutant("bidi_not_re_reversed", "Bidirectional backward sequence not flipped back before merging",
           "reference/bidirectional.py",
           (_e("return np.flip(y_rev, axis=axis)", "return y_rev"),),
           "bidi_concat and seq and keras3 and not t100",
           diagnose_case="gru-bidi_concat-seq-f32-keras3", named="bidi_backward_not_re_reversed"),
    Mutant("stateful_state_not_carried", "stateful layer does not keep its final state",
           "reference/layer.py",
           (_e("self.states = [s.copy() for s in final]",
               "self.states = self.cell.zero_states(x.shape[0])"),),
           "stateful and lstm and not bidi and keras3",
           diagnose_case="lstm-stateful-f32-keras3", named="state_not_carried"),
    Mutant("simple_rnn_bias_dropped", "SimpleRNN ignores its bias",
           "reference/simple_rnn.py",
           (_e("    DEFAULT_RECURRENT_ACTIVATION = None  # SimpleRNN has no gates\n",
               "    DEFAULT_RECURRENT_ACTIVATION = None  # SimpleRNN has no gates\n\n"
               "    def input_bias(self):\n        return self.bias * 0\n"),),
           "simple_rnn and not bidi and f64 and tf_keras",
           diagnose_case="simple_rnn-seq-f32-tf_keras", named="bias_ignored"),
    Mutant("initial_state_ignored", "initial_state is checked, then zeros are used",
           "reference/layer.py",
           (_e('return self._checked_arrays(flat, batch, "initial_state"), structure',
               'self._checked_arrays(flat, batch, "initial_state")\n'
               '            return self.cell.zero_states(batch), structure'),),
           "init and keras3",
           diagnose_case="lstm-seq-state-init-f32-keras3", named="initial_state_ignored"),
    Mutant("time_major_output_not_swapped", "time_major sequence output left batch-major",
           "reference/layer.py",
           (_e("output = np.swapaxes(outputs, 0, 1) if self.time_major else outputs", "output = outputs"),),
           "time_major and seq and tf_keras",
           diagnose_case="lstm-seq-state-time_major-f32-tf_keras", named="time_major_output_not_swapped"),
    Mutant("tf1_forget_bias_dropped", "TF1 BasicLSTMCell forget_bias not added",
           "reference/tf1_nn.py",
           (_e("new_c = c * sigmoid(f + constant_like(f, self.forget_bias)) + sigmoid(i) * self.activation(j)",
               "new_c = c * sigmoid(f) + sigmoid(i) * self.activation(j)"),),
           "basic_lstm", suite=TF1_SUITE,
           diagnose_case="tf1-dynamic_rnn-basic_lstm-seqlen_none-batch_major-zero_init-f32",
           named="tf1_forget_bias_missing"),
    Mutant("tf1_lstm_gate_order_keras", "TF1 LSTM kernel blocks read as i, f, j, o (Keras' order)",
           "reference/tf1_nn.py",
           (_e('TF1_LSTM_GATES = ("i", "j", "f", "o")', 'TF1_LSTM_GATES = ("i", "f", "j", "o")'),),
           "lstm_cell and dynamic_rnn", suite=TF1_SUITE,
           diagnose_case="tf1-dynamic_rnn-lstm_cell_peep-seqlen_ragged-batch_major-init-f32",
           named="tf1_lstm_gate_order_ifjo"),
    Mutant("tf1_state_order_hc", "TF1 LSTM state returned as (h, c), Keras' order",
           "reference/tf1_nn.py",
           (_e("return LSTMStateTuple(c, h) if self.state_is_tuple else np.concatenate([c, h], 1)",
               "return LSTMStateTuple(h, c) if self.state_is_tuple else np.concatenate([h, c], 1)"),),
           "basic_lstm and static_rnn", suite=TF1_SUITE,
           diagnose_case="tf1-static_rnn-lstm_cell-seqlen_none-batch_major-zero_init-f32",
           named="tf1_state_order_hc"),
    Mutant("tf1_gru_gate_order", "TF1 GRUCell gates/kernel read as u, r instead of r, u",
           "reference/tf1_nn.py", (_e('TF1_GRU_GATES = ("r", "u")', 'TF1_GRU_GATES = ("u", "r")'),),
           "gru_cell and dynamic_rnn", suite=TF1_SUITE,
           diagnose_case="tf1-dynamic_rnn-gru_cell_softsign-seqlen_full-batch_major-zero_init-f32",
           named="tf1_gru_gate_order_ur"),
    Mutant("tf1_sequence_length_ignored", "TF1 sequence_length ignored (every row run to the end)",
           "reference/tf1_nn.py",
           (_e("mask = None if lengths is None else np.arange(x.shape[1])[None, :] < lengths[:, None]",
               "mask = None"),),
           "dynamic_rnn and ragged and not bidirectional", suite=TF1_SUITE,
           diagnose_case="tf1-dynamic_rnn-gru_cell-seqlen_ragged-time_major-init-f64",
           named="tf1_sequence_length_ignored"),
    Mutant("tf1_backward_reversed_whole_axis", "TF1 backward direction reversed with tf.reverse, not "
           "tf.reverse_sequence", "reference/tf1_nn.py",
           (_e("_run(cell_bw, reverse_sequence(x, lengths), lengths, bw_states)",
               "_run(cell_bw, reverse_sequence(x, None), lengths, bw_states)"),
            _e("output_bw = reverse_sequence(tmp, lengths)", "output_bw = reverse_sequence(tmp, None)")),
           "bidirectional and ragged", suite=TF1_SUITE,
           diagnose_case="tf1-static_bidirectional_rnn-basic_lstm-seqlen_ragged-batch_major-zero_init-f32",
           named="tf1_backward_reversed_whole_axis"),
    # -- more of what ports get wrong (each named by `rnnparity diagnose` too) --
    Mutant("lstm_gate_order_fico", "LSTM gate order f, i, c, o instead of i, f, c, o",
           "reference/lstm.py", (_e('LSTM_GATES = ("i", "f", "c", "o")', 'LSTM_GATES = ("f", "i", "c", "o")'),),
           "lstm and not bidi and f64 and tf_keras",
           diagnose_case="lstm-seq-state-f32-tf_keras", named="lstm_gate_order_fico"),
    Mutant("lstm_gate_order_ifoc", "LSTM gate order i, f, o, c instead of i, f, c, o",
           "reference/lstm.py", (_e('LSTM_GATES = ("i", "f", "c", "o")', 'LSTM_GATES = ("i", "f", "o", "c")'),),
           "lstm and not bidi and f64 and keras3",
           diagnose_case="lstm-seq-state-f32-keras3", named="lstm_gate_order_ifoc"),
    Mutant("lstm_gate_order_cfio", "LSTM gate order c, f, i, o instead of i, f, c, o",
           "reference/lstm.py", (_e('LSTM_GATES = ("i", "f", "c", "o")', 'LSTM_GATES = ("c", "f", "i", "o")'),),
           "lstm and bidi_sum and keras3",
           diagnose_case="lstm-seq-state-f32-keras3", named="lstm_gate_order_cfio"),
    Mutant("lstm_states_returned_c_h", "LSTM returns its states as [c, h] instead of [h, c]",
           "reference/layer.py",
           (_e("return seq([output, *states])", "return seq([output, *states[::-1]])"),),
           "lstm and state and not bidi and keras3",
           diagnose_case="lstm-state-f32-keras3", named="lstm_returned_state_order_swapped"),
    Mutant("lstm_initial_state_read_c_h", "LSTM reads initial_state as [c, h]",
           "reference/layer.py",
           (_e('flat, structure = self._flatten_states(initial_state, "initial_state")',
               'flat, structure = self._flatten_states(initial_state, "initial_state")\n'
               '            flat = list(flat)[::-1]'),),
           "lstm and init and not bidi and tf_keras",
           diagnose_case="lstm-seq-state-init-f32-keras3", named="lstm_initial_state_order_swapped"),
    Mutant("go_backwards_output_flipped_back", "go_backwards sequence returned in input order (ONNX style)",
           "reference/layer.py",
           (_e("output = np.swapaxes(outputs, 0, 1) if self.time_major else outputs",
               "output = np.swapaxes(outputs, 0, 1) if self.time_major else "
               "(outputs[:, ::-1] if self.go_backwards else outputs)"),),
           "seq and bwd and not bidi and keras3 and not t100",
           diagnose_case="gru-seq-bwd-f32-keras3", named="go_backwards_output_flipped_back"),
    Mutant("mask_not_reversed_with_go_backwards", "go_backwards reverses the inputs, not the mask",
           "reference/scan.py", (_e("keep = mask[:, t].reshape(", "keep = mask[:, k].reshape("),),
           "mask and bwd and not bidi and keras3",
           diagnose_case="gru-seq-bwd-mask_right-f32-keras3", named="mask_not_reversed_with_go_backwards"),
    Mutant("hard_sigmoid_keras2_in_keras3", "Keras 3 hard_sigmoid computed with the Keras 2 formula",
           "reference/activations.py",
           (_e('**_COMMON, "hard_sigmoid": hard_sigmoid_keras3, "silu"',
               '**_COMMON, "hard_sigmoid": hard_sigmoid_keras2, "silu"'),),
           "hard_sigmoid and keras3 and not bidi",
           diagnose_case="lstm-ract_hard_sigmoid-nobias-f32-keras3", named="hard_sigmoid_keras2_formula"),
    Mutant("gates_hard_sigmoid", "gates use hard_sigmoid where recurrent_activation='sigmoid'",
           "reference/activations.py",
           (_e('**_COMMON, "hard_sigmoid": hard_sigmoid_keras3, "silu"',
               '**_COMMON, "sigmoid": hard_sigmoid_keras3, "hard_sigmoid": hard_sigmoid_keras3, "silu"'),),
           "lstm and not bidi and f64 and keras3",
           diagnose_case="lstm-seq-f32-keras3", named="recurrent_activation_hard_sigmoid"),
    Mutant("lstm_forget_bias_added", "LSTM adds a forget bias of 1 on top of Keras' bias (TF1 style)",
           "reference/lstm.py",
           (_e("        z += x_t\n", "        z += x_t\n        split_gates(z, LSTM_GATES)[\"f\"][...] += 1\n"),),
           "lstm and not bidi and f64 and tf_keras",
           diagnose_case="lstm-seq-f32-keras3", named="lstm_forget_bias_added"),
    Mutant("gru_recurrent_bias_dropped", "GRU reset_after ignores its recurrent bias row",
           "reference/gru.py", (_e("inner += self.bias[1]", "inner += 0 * self.bias[1]"),),
           "gru and not gru_reset_before and not bidi and f64 and tf_keras",
           diagnose_case="gru-seq-f32-keras3", named="gru_recurrent_bias_dropped"),
    Mutant("stateful_state_not_reset", "reset_states() keeps the stateful layer's states",
           "reference/layer.py",
           (_e("self.states = self.cell.zero_states(self.states[0].shape[0])", "pass"),),
           "stateful and gru and not bidi and keras3",
           diagnose_case="gru-seq-stateful-f32-keras3", named="state_not_reset"),
    Mutant("bidi_states_interleaved", "Bidirectional LSTM states as fw h, bw h, fw c, bw c (ONNX layout)",
           "reference/bidirectional.py",
           (_e("return seq(output + list(fw_states) + list(bw_states))",
               "return seq(output + [s for pair in zip(fw_states, bw_states) for s in pair])"),),
           "lstm and bidi_concat and state and not seq and keras3",
           diagnose_case="lstm-bidi_concat-state-f32-keras3", named="bidi_states_interleaved"),
)


class PlantError(RuntimeError):
    pass


def make_copy(dest: Path):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    shutil.copytree(ROOT / PKG, dest / PKG, ignore=ignore)
    shutil.copytree(ROOT / "tests", dest / "tests", ignore=ignore)
    for name in ("pyproject.toml", "conftest.py"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)


def plant(copy_root: Path, mutant: Mutant):
    """Apply the mutant's substitutions to the copy; raise PlantError if a target text is missing."""
    path = copy_root / PKG / mutant.file
    text = path.read_text()
    for old, new, count in mutant.edits:
        found = text.count(old)
        if found != count:
            raise PlantError(f"mutant {mutant.name}: expected {count} occurrence(s) of {old!r} in "
                             f"{PKG / mutant.file}, found {found}: the reference changed, update the "
                             f"mutant (refusing to test an unmutated copy)")
        text = text.replace(old, new)
    path.write_text(text)
    if path.read_text() == (ROOT / PKG / mutant.file).read_text():
        raise PlantError(f"mutant {mutant.name}: the copy is unchanged after planting")


def run_slice(copy_root: Path, mutant: Mutant, workers: int, timeout: float):
    """(passed, collected_any, seconds, tail of output) for the mutant's slice on a copy."""
    env = {**os.environ, "PYTHONPATH": str(copy_root / "src"), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", mutant.suite, "-k", mutant.select, "-x", "-q",
           "-p", "no:cacheprovider", "--rootdir", str(copy_root), "-W", "ignore"]
    if workers > 0:
        cmd += ["-n", str(workers)]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=copy_root, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - start
    out = proc.stdout + proc.stderr
    summary = [line for line in out.splitlines() if " passed" in line or " failed" in line]
    summary = summary[-1].strip() if summary else ""
    # pytest exit codes: 0 passed, 1 failures, 5 nothing collected; with -x, xdist reports the stop
    # as 2 (interrupted) after a failure. Anything else is a harness error, never "caught".
    if proc.returncode == 5:
        raise PlantError(f"mutant {mutant.name}: the slice -k {mutant.select!r} selects no test")
    failed = proc.returncode == 1 or (proc.returncode == 2 and " failed" in summary)
    if proc.returncode != 0 and not failed:
        raise PlantError(f"mutant {mutant.name}: pytest exited with {proc.returncode}:\n{out[-2000:]}")
    return proc.returncode == 0, seconds, summary


def check(mutants, workers=2, control=True, timeout=1800.0, out=print):
    """Run the check; return (caught, total, rows). Raises PlantError on a planting problem."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="rnnparity-mutants-") as tmp:
        tmp = Path(tmp)
        for m in mutants:  # every plant first: a stale substitution fails before any long run
            make_copy(tmp / m.name)
            plant(tmp / m.name, m)
        if control:
            base = tmp / "control"
            make_copy(base)
            for m in mutants:
                passed, seconds, summary = run_slice(base, m, workers, timeout)
                if not passed:
                    raise PlantError(f"control: the slice for {m.name} (-k {m.select!r}) fails without "
                                     f"any bug planted ({summary}); it cannot show the bug is caught")
                out(f"control ok   {m.name:<36} {seconds:6.1f}s  {summary}")
        for m in mutants:
            dest = tmp / m.name
            passed, seconds, summary = run_slice(dest, m, workers, timeout)
            rows.append((m, not passed, seconds, summary))
            out(f"{'CAUGHT' if not passed else 'MISSED':<12} {m.name:<36} {seconds:6.1f}s  {summary}")
    caught = sum(1 for _, c, _, _ in rows if c)
    return caught, len(rows), rows


# In the unmutated checkout, once: record every diagnose case on its framework (the oracle).
_RECORD = ("import json, sys; from rnnparity.cli.diagnose import write_case_recordings; "
           "write_case_recordings(json.loads(sys.argv[1]), sys.argv[2])")
# In a mutated copy (no framework needed): the mutated reference's outputs for the recorded case are
# the outputs of a port with that bug.
_PORT_OUTPUTS = ("import sys; from rnnparity.cli.diagnose import write_reference_outputs; "
                 "write_reference_outputs(sys.argv[1], sys.argv[2])")
# In the unmutated checkout, once: what `rnnparity diagnose --case ID --outputs F` reports (the same
# functions, on the recorded framework outputs), per mutant.
_DIAGNOSE = """
import json, sys
from rnnparity.cli.diagnose import diagnose_recorded
for recording, path in json.loads(sys.argv[1]):
    try:
        d = diagnose_recorded(recording, path)
        said = {"verdict": d.verdict, "names": d.names}
    except Exception as exc:
        said = {"verdict": f"error: {type(exc).__name__}: {exc}", "names": []}
    print(json.dumps({"path": path, **said}), flush=True)
"""


def _python(code, args, src, timeout):
    env = {**os.environ, "PYTHONPATH": str(src), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise PlantError(f"{code.splitlines()[-1][:60]!r} {args[:1]} exited {proc.returncode}:\n"
                         f"{proc.stderr[-1500:]}")
    return proc.stdout


def check_names(mutants, timeout=1800.0, out=print, workers=2):
    """Feed each mutant's outputs, as a port's, to diagnose; return (named, total, rows) with rows of
    (mutant, named correctly, what diagnose said). Mutants without a diagnose_case are left out."""
    from concurrent.futures import ThreadPoolExecutor

    mutants = [m for m in mutants if m.diagnose_case]
    rows = []
    with tempfile.TemporaryDirectory(prefix="rnnparity-named-") as tmp:
        tmp = Path(tmp)
        for m in mutants:
            make_copy(tmp / m.name)
            plant(tmp / m.name, m)

        cases = sorted({m.diagnose_case for m in mutants})
        _python(_RECORD, [json.dumps(cases), str(tmp)], ROOT / "src", timeout)

        def port_outputs(m):
            path, recording = tmp / f"{m.name}.npz", str(tmp / f"{m.diagnose_case}.npz")
            _python(_PORT_OUTPUTS, [recording, str(path)], tmp / m.name / "src", timeout)
            return [recording, str(path)]
        with ThreadPoolExecutor(max(1, workers)) as pool:
            jobs = list(pool.map(port_outputs, mutants))
        said = [json.loads(line) for line in
                _python(_DIAGNOSE, [json.dumps(jobs)], ROOT / "src", timeout).splitlines() if line.startswith("{")]
        for m, d in zip(mutants, said):
            named = d["verdict"] == "explained" and d["names"][:1] == [m.named]
            rows.append((m, named, d))
            out(f"{'NAMED' if named else 'MISNAMED':<12} {m.name:<36} -> {', '.join(d['names'][:3]) or d['verdict']}"
                f"{'' if named else f'  (expected {m.named})'}")
    return sum(1 for _, n, _ in rows if n), len(rows), rows


def table(rows):
    lines = [f"| {'mutant':<36} | {'planted bug':<66} | caught | slice (-k) |",
             f"|{'-' * 38}|{'-' * 68}|--------|------------|"]
    for m, caught, seconds, _ in rows:
        lines.append(f"| {m.name:<36} | {m.what:<66} | {'yes' if caught else 'NO':<6} | {m.select} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated mutant names")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("-n", "--workers", type=int, default=2, help="pytest-xdist workers (0: none)")
    parser.add_argument("--no-control", dest="control", action="store_false",
                        help="skip the runs on the unmutated copy")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per slice")
    parser.add_argument("--diagnose-only", action="store_true",
                        help="only check that diagnose names each mutant (no pytest slices: minutes, not tens)")
    parser.add_argument("--no-diagnose", dest="diagnose", action="store_false",
                        help="skip the naming check")
    args = parser.parse_args(argv)
    by_name = {m.name: m for m in MUTANTS}
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:<36} {m.what}  [-k {m.select!r}]")
        return 0
    selected = list(MUTANTS)
    if args.only:
        unknown = [n for n in args.only.split(",") if n not in by_name]
        if unknown:
            parser.error(f"unknown mutant(s) {unknown}; see --list")
        selected = [by_name[n] for n in args.only.split(",")]
    start = time.monotonic()
    caught = total = named = diagnosed = 0
    try:
        if not args.diagnose_only:
            caught, total, rows = check(selected, args.workers, args.control, args.timeout)
            print()
            print(table(rows))
        if args.diagnose or args.diagnose_only:
            named, diagnosed, _ = check_names(selected, args.timeout, workers=max(1, args.workers))
    except PlantError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    if not args.diagnose_only:
        print(f"\ncaught {caught}/{total} mutants ({100.0 * caught / total:.0f}%)")
    if args.diagnose or args.diagnose_only:
        print(f"named {named}/{diagnosed} mutants by `rnnparity diagnose`"
              + (f" ({len(selected) - diagnosed} without a diagnose case)" if len(selected) > diagnosed else ""))
    print(f"{time.monotonic() - start:.0f} s")
    return 0 if caught == total and named == diagnosed else 1


if __name__ == "__main__":
    sys.exit(main())
