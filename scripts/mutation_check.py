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

The slices run the matrix (T <= 100). That the mutants are still caught on saturated T=2000
sequences, where the rounding verdict re-runs failures in float64, is checked by
tests/meta/test_planted_bugs_long.py (monkeypatched forms of 13 of these 15 mutants, plus a reference
that computes a float32 layer in float16).

Exit status: 0 when every selected mutant is caught (and the controls pass), 1 otherwise, 2 on a
usage or planting error.
"""
from __future__ import annotations

import argparse
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


def _e(old, new, count=1):
    return (old, new, count)


MUTANTS = (
    Mutant("lstm_gate_order", "LSTM gate order i, c, f, o instead of i, f, c, o",
           "reference/lstm.py", (_e('LSTM_GATES = ("i", "f", "c", "o")', 'LSTM_GATES = ("i", "c", "f", "o")'),),
           "lstm and not bidi and f64 and keras3"),
    Mutant("gru_gate_order", "GRU gate order r, z, h instead of z, r, h",
           "reference/gru.py", (_e('GRU_GATES = ("z", "r", "h")', 'GRU_GATES = ("r", "z", "h")'),),
           "gru and not bidi and f64 and tf_keras"),
    Mutant("transposed_kernel_blocks", "each (units, units) block of the recurrent kernel transposed",
           "reference/cell.py",
           (_e('self.recurrent_kernel = used["recurrent_kernel"]',
               'self.recurrent_kernel = np.concatenate([b.T for b in np.split(used["recurrent_kernel"], '
               'len(self.GATES), axis=-1)], axis=-1)'),),
           "simple_rnn and not bidi and f64 and keras3"),
    Mutant("missing_go_backwards_reverse", "go_backwards does not reverse the time loop",
           "reference/scan.py",
           (_e("order = range(steps - 1, -1, -1) if go_backwards else range(steps)", "order = range(steps)"),),
           "gru and bwd and not bidi and keras3 and not t100"),
    Mutant("gru_reset_after_bias_rows_swapped", "GRU reset_after: input and recurrent bias rows swapped",
           "reference/gru.py",
           (_e("self.bias[1]", "self.bias[0]"),  # recurrent row first, then the input row
            _e("return self.bias[0] if self.reset_after", "return self.bias[1] if self.reset_after")),
           "gru and not gru_reset_before and not bidi and f64 and keras3"),
    Mutant("hard_sigmoid_dialect_swapped", "Keras 2 hard_sigmoid computed with the Keras 3 formula",
           "reference/activations.py",
           (_e('"keras2": {**_COMMON, "hard_sigmoid": hard_sigmoid_keras2}',
               '"keras2": {**_COMMON, "hard_sigmoid": hard_sigmoid_keras3}'),),
           "hard_sigmoid and tf_keras and not bidi"),
    Mutant("zero_instead_of_carried_output", "masked steps output zeros instead of the previous output",
           "reference/scan.py",
           (_e("carried = 0 if zero_output_for_mask or k == 0 else outputs[:, k - 1]", "carried = 0"),),
           "mask and seq and not bidi and keras3"),
    Mutant("states_updated_at_masked_steps", "masked steps update the state",
           "reference/scan.py",
           (_e("new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]",
               "new_states = list(new_states)"),),
           "mask and not bidi and keras3"),
    Mutant("bidi_state_order_swapped", "Bidirectional returns backward states before forward states",
           "reference/bidirectional.py",
           (_e("return seq(output + list(fw_states) + list(bw_states))",
               "return seq(output + list(bw_states) + list(fw_states))"),),
           "bidi_concat and state and not seq and tf_keras"),
    Mutant("bidi_not_re_reversed", "Bidirectional backward sequence not flipped back before merging",
           "reference/bidirectional.py",
           (_e("return np.flip(y_rev, axis=axis)", "return y_rev"),),
           "bidi_concat and seq and keras3 and not t100"),
    Mutant("stateful_state_not_carried", "stateful layer does not keep its final state",
           "reference/layer.py",
           (_e("self.states = [s.copy() for s in final]",
               "self.states = self.cell.zero_states(x.shape[0])"),),
           "stateful and lstm and not bidi and keras3"),
    Mutant("simple_rnn_bias_dropped", "SimpleRNN ignores its bias",
           "reference/simple_rnn.py",
           (_e("    DEFAULT_RECURRENT_ACTIVATION = None  # SimpleRNN has no gates\n",
               "    DEFAULT_RECURRENT_ACTIVATION = None  # SimpleRNN has no gates\n\n"
               "    def input_bias(self):\n        return self.bias * 0\n"),),
           "simple_rnn and not bidi and f64 and tf_keras"),
    Mutant("initial_state_ignored", "initial_state is checked, then zeros are used",
           "reference/layer.py",
           (_e('return self._checked_arrays(flat, batch, "initial_state"), structure',
               'self._checked_arrays(flat, batch, "initial_state")\n'
               '            return self.cell.zero_states(batch), structure'),),
           "init and keras3"),
    Mutant("time_major_output_not_swapped", "time_major sequence output left batch-major",
           "reference/layer.py",
           (_e("output = np.swapaxes(outputs, 0, 1) if self.time_major else outputs", "output = outputs"),),
           "time_major and seq and tf_keras"),
    Mutant("tf1_forget_bias_dropped", "TF1 BasicLSTMCell forget_bias not added",
           "reference/tf1.py",
           (_e("new_c = c * _sigmoid(f + _c(f, self.forget_bias)) + _sigmoid(i) * self.activation(j)",
               "new_c = c * _sigmoid(f) + _sigmoid(i) * self.activation(j)"),),
           "basic_lstm", suite=TF1_SUITE),
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
    try:
        caught, total, rows = check(selected, args.workers, args.control, args.timeout)
    except PlantError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    print()
    print(table(rows))
    print(f"\ncaught {caught}/{total} mutants ({100.0 * caught / total:.0f}%)")
    return 0 if caught == total else 1


if __name__ == "__main__":
    sys.exit(main())
