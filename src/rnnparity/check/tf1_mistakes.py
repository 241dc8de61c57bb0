"""The catalogue of known mistakes in ports of TF1 recurrent code (`tf.compat.v1.nn` functions with
the legacy cells), each a named transformation of the reference's run.

A port of TF1 code (a checkpoint loaded into Keras, PyTorch or C) usually gets one of a few things
wrong: the gate blocks of the fused kernel (TF1 packs i, j, f, o; Keras i, f, c, o), the forget_bias
TF adds at run time (dropped, or folded into the bias and added again), the state tuple (c, h) read
as Keras' (h, c), the ``sequence_length`` semantics (zero outputs past the length, the state frozen at
the last valid step, the backward direction reversed per row). Each `Tf1Mistake` computes what such a
port computes, from the unmodified reference: by re-laying out a cell's weights, rebuilding it with
one option changed, transforming the call's inputs, or the outputs around it. One mistake (GRU reset
applied after the product) lives inside the step: a small named cell variant.

rnnparity.check.tf1_diagnose runs them (alone and in pairs) against a port's outputs.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..reference.tf1_call import BIDIRECTIONAL, DYNAMIC, flatten_result
from ..reference import tf1_nn as ref
from ..reference.gates import split_gates

@dataclass(frozen=True)
class Problem:
    """One call of a TF1 function, as the reference runs it: ``x`` batch-major (batch, time,
    features) whatever the call's layout, ``init`` the initial state parts per cell in TF's order
    ((c, h) for LSTM cells), or None for zeros."""
    function: str
    cells: tuple
    x: np.ndarray
    lengths: np.ndarray | None = None
    init: tuple | None = None
    time_major: bool = False

    @property
    def steps(self) -> int:
        return int(self.x.shape[1])

    @property
    def bidirectional(self) -> bool:
        return self.function in BIDIRECTIONAL

    @property
    def cell(self):
        return self.cells[0]

    @property
    def ragged(self) -> bool:
        """Some row is shorter than the time axis: sequence_length has an effect."""
        return self.lengths is not None and bool((np.asarray(self.lengths) < self.steps).any())


def result(p: Problem):
    """The reference's result for the problem, in TF's structure."""
    states = None if p.init is None else [c.pack_state(list(parts)) for c, parts in zip(p.cells, p.init)]
    kwargs = {"dtype": None if states else p.cell.dtype.name, "sequence_length": p.lengths}
    x = p.x
    if p.function in DYNAMIC:
        kwargs["time_major"] = p.time_major
        x = np.swapaxes(x, 0, 1) if p.time_major else x
    else:
        x = [x[:, t] for t in range(x.shape[1])]
    fn = ref.FUNCTIONS[p.function]
    if p.bidirectional:
        if states:
            kwargs["initial_state_fw"], kwargs["initial_state_bw"] = states
        return fn(p.cells[0], p.cells[1], x, **kwargs)
    if states:
        kwargs["initial_state"] = states[0]
    return fn(p.cell, x, **kwargs)


def flat(p: Problem) -> list:
    """[(name, array)] of the reference's result, in TF's flattened order."""
    return flatten_result(p.function, result(p))


def _identity_problem(p):
    return p


def _identity_outputs(p, items):
    return items


@dataclass(frozen=True)
class Tf1Mistake:
    name: str
    group: str  # alternatives: a pair never takes two of one group
    says: str   # what to change in the port, one sentence
    applies: Callable = lambda p: True  # Problem -> bool
    problem: Callable = _identity_problem  # Problem -> the problem as the port runs it
    outputs: Callable = _identity_outputs  # (problem, [(name, array)]) -> the port's outputs
    runner: Callable | None = None  # Problem -> [(name, array)], instead of the reference's function

    def run(self, p: Problem) -> list:
        p = self.problem(p)
        return self.outputs(p, (self.runner or flat)(p))


# -- the cells' shape ------------------------------------------------------------------------------
def _kind(cell) -> str:
    return type(cell).__name__


def _lstm(p) -> bool:
    return isinstance(p.cell, ref.BasicLSTMCell)


def _gru(p) -> bool:
    return isinstance(p.cell, ref.GRUCell)


def _square_hc(p) -> bool:
    return _lstm(p) and p.cell.state_sizes["c"] == p.cell.state_sizes["h"]


def _rebuilt(cell, weights=None, cls=None, **changes):
    """A copy of a cell with config ``changes`` (and ``weights``: {name: array}, else its own)."""
    config = {**cell.get_config(), **changes}
    new = (cls or type(cell))(**config, name=cell.name)
    weights = dict(cell._weights) if weights is None else weights
    new.set_weights([weights[name] for name, _ in new.weight_specs(cell.input_depth)])
    return new


def _each_cell(fn):
    return lambda p: replace(p, cells=tuple(fn(c) for c in p.cells))


def _reweighted(fn):
    """A problem transformation rewriting each cell's weights ``fn(cell, {name: array}) -> dict``."""
    return _each_cell(lambda c: _rebuilt(c, fn(c, {k: np.array(v) for k, v in c._weights.items()})))


def _blocks(a, n):
    return np.split(a, n, axis=-1)


# -- gate order ------------------------------------------------------------------------------------
def _lstm_gate_order(order):
    source = [order.index(g) for g in ref.TF1_LSTM_GATES]

    def permute(cell, w):
        for name in ("kernel", "bias"):
            w[name] = np.concatenate([_blocks(w[name], 4)[j] for j in source], axis=-1)
        return w
    keras = order == ("i", "f", "j", "o")
    return Tf1Mistake(
        f"tf1_lstm_gate_order_{''.join(order)}", "tf1_lstm_gate_order",
        f"read the column blocks of the TF1 LSTM kernel and bias as i, j, f, o (input, candidate, forget, "
        f"output); your port reads them as {', '.join(order)}"
        + (" (Keras' i, f, c, o order)" if keras else ""),
        applies=_lstm, problem=_reweighted(permute))


def _gru_swap(cell, w):
    for name in ("gates_kernel", "gates_bias"):
        r, u = _blocks(w[name], 2)
        w[name] = np.concatenate([u, r], axis=-1)
    return w


def _gru_update_flipped(cell, w):
    # u -> 1 - u is sigmoid(-a): the negated update block
    for name in ("gates_kernel", "gates_bias"):
        r, u = _blocks(w[name], 2)
        w[name] = np.concatenate([r, -u], axis=-1)
    return w


class _GruResetAfter(ref.GRUCell):
    """GRUCell as a port computes it with Keras' reset_after=True habit: the reset gate scales the
    recurrent product, r * (h @ U_c), instead of the state before the product."""

    def step(self, x_t, states):
        (state,) = states
        value = ref.sigmoid(np.concatenate([x_t, state], 1) @ self.gates_kernel + self.gates_bias)
        g = split_gates(value, ref.TF1_GRU_GATES)
        n = x_t.shape[1]
        kernel = self.candidate_kernel
        c = self.activation(x_t @ kernel[:n] + g["r"] * (state @ kernel[n:]) + self.candidate_bias)
        new_h = g["u"] * state + (ref.constant_like(g["u"], 1) - g["u"]) * c
        return new_h, [new_h]


# -- weights and options ---------------------------------------------------------------------------
def _bias_zeroed(cell, w):
    for name in ("bias", "gates_bias", "candidate_bias"):
        if name in w:
            w[name] = np.zeros_like(w[name])
    return w


def _rows_swapped(cell, w):
    d = cell.input_depth
    for name in ("kernel", "gates_kernel", "candidate_kernel"):
        if name in w:
            w[name] = np.concatenate([w[name][d:], w[name][:d]], axis=0)
    return w


def _forget_bias(p) -> bool:
    return _lstm(p) and p.cell.forget_bias != 0


def _option(attr):
    return lambda p: getattr(p.cell, attr, None) is not None and getattr(p.cell, attr) is not False


# -- state layout ----------------------------------------------------------------------------------
def _state_hc_out(p, items):
    """Every LSTM state (c, h) returned as (h, c): the tuple's parts swapped, or concat([h, c])."""
    out = list(items)
    for k, (name, a) in enumerate(items):
        if name.startswith("outputs"):
            continue
        if name.endswith(".c"):
            out[k], out[k + 1] = (name, items[k + 1][1]), (items[k + 1][0], a)
        elif not p.cell.state_is_tuple:
            c, h = np.split(a, 2, axis=1)
            out[k] = (name, np.concatenate([h, c], axis=1))
    return out


def _init_hc(p):
    return replace(p, init=tuple(tuple(parts[::-1]) for parts in p.init))


# -- sequence_length and directions ----------------------------------------------------------------
def _outputs_not_zeroed(p):
    """The port runs every step, then takes the states at each row's last valid step."""
    full = flat(replace(p, lengths=None))
    frozen = flat(p)
    return [(n, f) if n.startswith("outputs") else s for (n, f), s in zip(full, frozen)]


def _bw_whole_axis(p):
    """Bidirectional with the backward input reversed along the whole time axis (tf.reverse), not
    row by row within sequence_length (tf.reverse_sequence)."""
    fw, bw = p.cells
    init = p.init or (None, None)
    outs, states = [], []
    for cell, parts, flip in ((fw, init[0], False), (bw, init[1], True)):
        x = np.flip(p.x, 1) if flip else p.x
        sub = Problem("dynamic_rnn", (cell,), x, p.lengths, None if parts is None else (parts,))
        out, state = result(sub)
        outs.append(np.flip(out, 1) if flip else out)
        states.append(state)
    return _assemble_bidi(p, outs, states)


def _assemble_bidi(p, outs, states):
    """[(name, array)] of a bidirectional function from batch-major outputs and per-cell states."""
    fw, bw = outs
    if p.function == "static_bidirectional_rnn":
        value = ([np.concatenate([fw[:, t], bw[:, t]], 1) for t in range(p.steps)], states[0], states[1])
    else:
        if p.time_major:
            fw, bw = np.swapaxes(fw, 0, 1), np.swapaxes(bw, 0, 1)
        value = ((fw, bw), (states[0], states[1]))
    return flatten_result(p.function, value)


def _bidi_outputs(p, items):
    """(batch-major fw, bw outputs, the per-cell state items) of a bidirectional result."""
    outs = [a for n, a in items if n.startswith("outputs")]
    states = [(n, a) for n, a in items if not n.startswith("outputs")]
    if p.function == "static_bidirectional_rnn":
        seq = np.stack(outs, axis=1)
        width = p.cells[0].output_size
        return seq[..., :width], seq[..., width:], states
    fw, bw = outs
    if p.time_major:
        fw, bw = np.swapaxes(fw, 0, 1), np.swapaxes(bw, 0, 1)
    return fw, bw, states


def _rebuild_bidi(p, fw, bw, states):
    if p.function == "static_bidirectional_rnn":
        seq = np.concatenate([fw, bw], axis=-1)
        outs = [(f"outputs[{t}]", seq[:, t]) for t in range(p.steps)]
    else:
        if p.time_major:
            fw, bw = np.swapaxes(fw, 0, 1), np.swapaxes(bw, 0, 1)
        outs = [("outputs[0]", fw), ("outputs[1]", bw)]
    return outs + states


def _bw_not_re_reversed(p, items):
    fw, bw, states = _bidi_outputs(p, items)
    return _rebuild_bidi(p, fw, ref.reverse_sequence(bw, p.lengths), states)


def _directions_swapped(p, items):
    fw, bw, states = _bidi_outputs(p, items)
    return _rebuild_bidi(p, bw, fw, states)


def _batch_major_out(p, items):
    return [(n, np.swapaxes(a, 0, 1) if n.startswith("outputs") else a) for n, a in items]


def _lstm_gate_orders():
    return [_lstm_gate_order(p) for p in itertools.permutations(ref.TF1_LSTM_GATES)
            if p != ref.TF1_LSTM_GATES]


CATALOGUE = tuple(_lstm_gate_orders()) + (
    Tf1Mistake("tf1_gru_gate_order_ur", "tf1_gru_gate_order",
               "GRUCell's gates/kernel holds the reset gate r, then the update gate u; your port reads "
               "them as u, r", applies=_gru, problem=_reweighted(_gru_swap)),
    Tf1Mistake("tf1_gru_update_flipped", "tf1_gru_update",
               "GRUCell keeps u of the old state: h = u * h_prev + (1 - u) * c; your port computes "
               "(1 - u) * h_prev + u * c", applies=_gru, problem=_reweighted(_gru_update_flipped)),
    Tf1Mistake("tf1_gru_reset_after_product", "tf1_gru_reset",
               "GRUCell applies the reset gate to the state before the candidate product, "
               "[x, r * h] @ candidate_kernel; your port applies it after, r * (h @ U) (Keras' "
               "reset_after=True)", applies=_gru,
               problem=_each_cell(lambda c: _rebuilt(c, cls=_GruResetAfter))),
    Tf1Mistake("tf1_forget_bias_missing", "tf1_forget_bias",
               "TF1 LSTM cells add forget_bias to the forget gate at run time (it is not in the bias "
               "variable); your port leaves it out", applies=_forget_bias,
               problem=_each_cell(lambda c: _rebuilt(c, forget_bias=0.0))),
    Tf1Mistake("tf1_forget_bias_twice", "tf1_forget_bias",
               "add forget_bias once: it is not in the checkpoint's bias; your port folds it into the "
               "bias and adds it again at run time", applies=_forget_bias,
               problem=_each_cell(lambda c: _rebuilt(c, forget_bias=2 * c.forget_bias))),
    Tf1Mistake("tf1_bias_ignored", "tf1_bias",
               "add the cell's bias variable(s); your port leaves them out",
               problem=_reweighted(_bias_zeroed)),
    Tf1Mistake("tf1_kernel_rows_h_first", "tf1_kernel_rows",
               "the TF1 kernel multiplies concat([x, h]): its first input_depth rows are the input "
               "weights; your port reads the recurrent rows first",
               applies=lambda p: p.cell.input_depth == p.cell.h_depth, problem=_reweighted(_rows_swapped)),
    Tf1Mistake("tf1_peepholes_ignored", "tf1_peepholes",
               "use_peepholes=True: add w_f_diag * c and w_i_diag * c to the forget and input gates and "
               "w_o_diag * new c to the output gate; your port leaves the peepholes out",
               applies=_option("use_peepholes"), problem=_each_cell(lambda c: _rebuilt(c, use_peepholes=False))),
    Tf1Mistake("tf1_cell_clip_ignored", "tf1_cell_clip",
               "clip the cell state to [-cell_clip, cell_clip] at every step; your port does not clip",
               applies=_option("cell_clip"), problem=_each_cell(lambda c: _rebuilt(c, cell_clip=None))),
    Tf1Mistake("tf1_proj_clip_ignored", "tf1_proj_clip",
               "clip the projected output to [-proj_clip, proj_clip]; your port does not clip it",
               applies=_option("proj_clip"), problem=_each_cell(lambda c: _rebuilt(c, proj_clip=None))),
    Tf1Mistake("tf1_state_order_hc", "tf1_state_order",
               "a TF1 LSTM state is LSTMStateTuple(c, h) (or concat([c, h], 1)); your port returns "
               "(h, c), Keras' order", applies=_square_hc, outputs=_state_hc_out),
    Tf1Mistake("tf1_initial_state_hc", "tf1_initial_state",
               "read the initial state as (c, h), LSTMStateTuple's order; your port reads it as (h, c)",
               applies=lambda p: p.init is not None and _square_hc(p), problem=_init_hc),
    Tf1Mistake("tf1_initial_state_ignored", "tf1_initial_state",
               "start from the given initial state; your port starts from zeros",
               applies=lambda p: p.init is not None, problem=lambda p: replace(p, init=None)),
    Tf1Mistake("tf1_sequence_length_ignored", "tf1_sequence_length",
               "apply sequence_length: outputs are zeros from each row's length on and the state is "
               "the one at its last valid step; your port runs every row to the end",
               applies=lambda p: p.ragged, problem=lambda p: replace(p, lengths=None)),
    Tf1Mistake("tf1_outputs_past_length_not_zeroed", "tf1_sequence_length",
               "outputs at t >= sequence_length are zeros; your port returns the cell's outputs on the "
               "padding (its states are right)",
               applies=lambda p: p.ragged and not p.bidirectional, runner=_outputs_not_zeroed),
    Tf1Mistake("tf1_backward_reversed_whole_axis", "tf1_backward",
               "with sequence_length the backward direction reverses each row within its length "
               "(tf.reverse_sequence); your port reverses the whole time axis (tf.reverse)",
               applies=lambda p: p.bidirectional and p.ragged, runner=_bw_whole_axis),
    Tf1Mistake("tf1_backward_not_re_reversed", "tf1_backward",
               "the backward outputs are returned in input time order (reversed back); your port "
               "returns them in processing order", applies=lambda p: p.bidirectional,
               outputs=_bw_not_re_reversed),
    Tf1Mistake("tf1_directions_swapped", "tf1_directions",
               "the bidirectional outputs are forward, then backward; your port has them the other "
               "way round", applies=lambda p: p.bidirectional, outputs=_directions_swapped),
    Tf1Mistake("tf1_time_major_output_not_swapped", "tf1_layout",
               "time_major=True returns the outputs as (time, batch, units); your port returns them "
               "batch-major", applies=lambda p: p.time_major, outputs=_batch_major_out),
)

BY_NAME = {m.name: m for m in CATALOGUE}
assert len(BY_NAME) == len(CATALOGUE), "mistake names must be unique"


def get(name) -> Tf1Mistake:
    if name not in BY_NAME:
        raise ValueError(f"unknown TF1 mistake {name!r}; known: {', '.join(BY_NAME)}")
    return BY_NAME[name]


def combined(mistakes) -> Tf1Mistake | None:
    """One mistake applying several (their problem transformations, then outputs), or None when two
    replace the run itself."""
    if len(mistakes) == 1:
        return mistakes[0]
    runners = [m.runner for m in mistakes if m.runner]
    if len(runners) > 1:
        return None

    def problem(p):
        for m in mistakes:
            p = m.problem(p)
        return p

    def outputs(p, items):
        for m in mistakes:
            items = m.outputs(p, items)
        return items
    return Tf1Mistake(" + ".join(m.name for m in mistakes), "+".join(m.group for m in mistakes),
                      "; and ".join(m.says for m in mistakes), problem=problem, outputs=outputs,
                      runner=runners[0] if runners else None)
