"""The catalogue of known porting mistakes, each a named transformation of the reference.

A hand port of a Keras recurrent layer (to PyTorch, C, an inference engine) that disagrees with Keras
usually makes one of a few mistakes: gate blocks read in the wrong order, a bias row dropped, the
backward sequence not flipped back, the state order of another framework, masked steps zeroed... Each
`Mistake` here computes what such a port computes, from the unmodified reference: mostly by
re-laying out its weights, changing one option of a copy, or transforming the inputs or outputs
around it. The few mistakes that live inside the time loop are small named variants of one sublayer
(`_MaskNotReversed`, `_StatesIgnoreMask`), never a patched reference.

rnnparity.check.diagnose runs them (alone and in pairs) against a port's outputs.
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..reference.activations import hard_sigmoid_keras2, hard_sigmoid_keras3

KERAS_GATES = {"LSTM": ("i", "f", "c", "o"), "GRU": ("z", "r", "h")}
GATE_WORDS = {"LSTM": "i, f, c, o", "GRU": "z, r, h (update, reset, candidate)"}

# Stages: a pair applies the earlier stage first (a variant sublayer cannot be rebuilt afterwards).
WEIGHTS, REBUILD, VARIANT, IO = 0, 1, 2, 3


def _identity_layer(ref):
    return ref


def _identity_inputs(ref, x, mask, init):
    return x, mask, init


def _identity_outputs(ref, flat):
    return flat


@dataclass(frozen=True)
class Mistake:
    name: str
    group: str  # mistakes of one group are alternatives: a pair never takes two of a group
    says: str   # what to change in the port, one sentence
    applies: Callable = lambda ref, ctx: True  # (reference, Context) -> bool
    layer: Callable = _identity_layer  # reference -> the reference as the port computes
    inputs: Callable = _identity_inputs  # (ref, x, mask, initial_state) -> the port's reading of them
    outputs: Callable = _identity_outputs  # (ref, flat outputs of one call) -> the port's outputs
    stage: int = WEIGHTS
    ignores_resets: bool = False  # the port does not reset its state where the plan does
    tolerance_dtype: str | None = None  # compare in this precision's row (a float16 port)
    # what the port's outputs themselves must show (a float16 port's values are float16 numbers):
    # with a coarse tolerance row, a drift of 1% would otherwise pass for float16 arithmetic
    fits_port: Callable | None = None  # (flat port outputs per call) -> bool


@dataclass(frozen=True)
class Context:
    """What the diagnosed calls exercise (a mistake that needs a mask cannot show without one)."""
    mask: bool
    initial_state: bool
    calls: int
    resets: bool


# -- the reference's shape -------------------------------------------------------------------------
def is_bidi(ref) -> bool:
    return hasattr(ref, "forward_layer")


def sublayers(ref) -> list:
    return [ref.forward_layer, ref.backward_layer] if is_bidi(ref) else [ref]


def kind(ref) -> str:
    """SimpleRNN, LSTM or GRU: the cell's kind."""
    return type(sublayers(ref)[0].cell).__name__.removesuffix("Cell")


def _cfg(ref):
    return sublayers(ref)[0].get_config()


def _lead(ref) -> int:
    """How many outputs come before the states: 2 for Bidirectional(merge_mode=None), else 1."""
    return 2 if is_bidi(ref) and ref.merge_mode is None else 1


def _per_direction(ref) -> int:
    return len(sublayers(ref)[0].state_names)


def time_axis_of(ref) -> int:
    return 0 if sublayers(ref)[0].time_major else 1


def _returns(ref, attr) -> bool:
    return bool(getattr(sublayers(ref)[0], attr))


def _rebuilt(sub, **changes):
    """A copy of one sublayer with config ``changes``, its weights and (stateful) states."""
    new = type(sub).from_config({**sub.get_config(), **changes})
    new.set_weights(sub.get_weights())
    if sub.states is not None and new.stateful:
        new.states = [np.asarray(s).astype(new.compute_dtype) for s in sub.states]
    return new


def _each_sublayer(fn, only=None):
    """A `layer` transformation applying ``fn(sublayer) -> sublayer`` to a copy's sublayers
    (``only``: "backward" for the backward one alone)."""
    def layer(ref):
        ref = copy.deepcopy(ref)
        if not is_bidi(ref):
            return fn(ref)
        if only != "backward":
            ref.forward_layer = fn(ref.forward_layer)
        ref.backward_layer = fn(ref.backward_layer)
        return ref
    return layer


def _reweighted(fn):
    """A `layer` transformation rewriting each sublayer's weight list ``fn(sub, weights)``."""
    def apply(sub):
        sub.set_weights(fn(sub, [np.array(w) for w in sub.get_weights()]))
        return sub
    return _each_sublayer(apply)


def _blocks(a, n):
    return np.split(a, n, axis=-1)


# -- gate order ------------------------------------------------------------------------------------
def _gate_order(layer_kind, order):
    keras = KERAS_GATES[layer_kind]
    source = [order.index(g) for g in keras]  # Keras block k holds what the port reads as keras[k]

    def permute(sub, weights):
        return [np.concatenate([_blocks(w, len(keras))[j] for j in source], axis=-1) for w in weights]
    word = ", ".join(order)
    return Mistake(
        f"{layer_kind.lower()}_gate_order_{''.join(order)}", f"{layer_kind}_gate_order",
        f"read the gate blocks of kernel, recurrent_kernel and bias in Keras' order "
        f"{GATE_WORDS[layer_kind]}; your port reads them as {word}",
        applies=lambda ref, ctx, k=layer_kind: kind(ref) == k, layer=_reweighted(permute))


def _gate_orders():
    out = []
    for layer_kind, keras in KERAS_GATES.items():
        out += [_gate_order(layer_kind, p) for p in itertools.permutations(keras) if p != keras]
    return out


# -- weight layout ---------------------------------------------------------------------------------
def _blocks_transposed(sub, weights):
    n = len(sub.cell.GATES) if hasattr(sub.cell, "GATES") and sub.cell.GATES else 1
    weights[1] = np.concatenate([b.T for b in _blocks(weights[1], n)], axis=-1)
    return weights


def _kernels_swapped(sub, weights):
    weights[0], weights[1] = weights[1], weights[0]
    return weights


def _bias_zeroed(sub, weights):
    weights[2] = np.zeros_like(weights[2])
    return weights


def _gru_bias(fn):
    def rewrite(sub, weights):
        weights[2] = fn(np.array(weights[2]))
        return weights
    return rewrite


def _forget_shift(delta):
    def rewrite(sub, weights):
        blocks = _blocks(weights[2], 4)
        blocks[1] = blocks[1] + delta
        weights[2] = np.concatenate(blocks, axis=-1)
        return weights
    return rewrite


def _square(ref, ctx):
    sub = sublayers(ref)[0]
    return sub.cell.input_dim == sub.units


def _has_bias(ref):
    return sublayers(ref)[0].use_bias


def _gru(reset_after):
    return lambda ref, ctx: kind(ref) == "GRU" and sublayers(ref)[0].cell.reset_after == reset_after \
        and _has_bias(ref)


def _reset_before(sub):
    weights = sub.get_weights()
    if sub.use_bias:
        weights[2] = weights[2][0] + weights[2][1]
    new = type(sub).from_config({**sub.get_config(), "reset_after": False})
    new.set_weights(weights)
    new.states = sub.states
    return new


def _reset_after(sub):
    weights = sub.get_weights()
    if sub.use_bias:
        weights[2] = np.stack([weights[2], np.zeros_like(weights[2])])
    new = type(sub).from_config({**sub.get_config(), "reset_after": True})
    new.set_weights(weights)
    new.states = sub.states
    return new


# -- states ----------------------------------------------------------------------------------------
def _state_slices(ref):
    """[(start, stop)] of each direction's states in the flat outputs."""
    lead, n = _lead(ref), _per_direction(ref)
    return [(lead + d * n, lead + (d + 1) * n) for d in range(len(sublayers(ref)))]


def _hc_swapped_out(ref, flat):
    flat = list(flat)
    for a, b in _state_slices(ref):
        flat[a:b] = flat[a:b][::-1]
    return flat


def _directions_swapped_out(ref, flat):
    (a, b), (c, d) = _state_slices(ref)
    return list(flat[:a]) + list(flat[c:d]) + list(flat[a:b])


def _interleaved_out(ref, flat):
    (a, b), (c, d) = _state_slices(ref)
    fw, bw = flat[a:b], flat[c:d]
    return list(flat[:a]) + [s for pair in zip(fw, bw) for s in pair]


def _hc_swapped_in(ref, x, mask, init):
    if init is None:
        return x, mask, init
    init, n = list(init), _per_direction(ref)
    for d in range(len(sublayers(ref))):
        init[d * n:(d + 1) * n] = init[d * n:(d + 1) * n][::-1]
    return x, mask, init


def _halves_swapped_in(ref, x, mask, init):
    if init is None:
        return x, mask, init
    n = _per_direction(ref)
    return x, mask, list(init[n:]) + list(init[:n])


def _init_ignored(ref, x, mask, init):
    return x, mask, None


def _lstm_states(ref, ctx):
    return kind(ref) == "LSTM" and _returns(ref, "return_state")


def _bidi_states(ref, ctx):
    return is_bidi(ref) and _returns(ref, "return_state")


# -- time direction --------------------------------------------------------------------------------
def _sequence_flipped_out(ref, flat):
    return [np.flip(flat[0], axis=time_axis_of(ref))] + list(flat[1:])


def _batch_major_out(ref, flat):
    return [np.swapaxes(flat[0], 0, 1)] + list(flat[1:])


class _NotReReversed:
    """Bidirectional whose backward sequence is merged in processing order (not flipped back)."""

    def __init__(self, bidi):
        self.merge_mode = bidi.merge_mode
        self.inner = copy.deepcopy(bidi)
        self.inner.merge_mode = None  # the two sequences, then the states

    def __getattr__(self, name):
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __call__(self, x, mask=None, initial_state=None, training=None):
        from ..reference.bidirectional import merge_directions

        out = list(self.inner(x, mask=mask, initial_state=initial_state, training=training))
        y, y_rev = out[0], np.flip(out[1], axis=time_axis_of(self.inner))
        merged = [y, y_rev] if self.merge_mode is None else [merge_directions(self.merge_mode, y, y_rev)]
        if not self.inner.return_state:
            return merged[0] if self.merge_mode is not None else merged
        return merged + out[2:]


# -- masks -----------------------------------------------------------------------------------------
class _Variant:
    """One sublayer whose time loop differs from the reference's in one named place; everything
    else (weights, states, config) is the wrapped reference sublayer's."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __call__(self, x, mask=None, initial_state=None, training=None):
        output, states = self.run(x, mask=mask, initial_state=initial_state, training=training)
        return [output, *states] if self.inner.return_state else output


class _MaskNotReversed(_Variant):
    """go_backwards reverses the inputs but reads the mask in input order: at processing step k the
    port uses mask[:, k] (the reference, given the flipped mask, reads mask[:, T-1-k] there)."""

    def run(self, x, mask=None, initial_state=None, training=None):
        if mask is not None:
            mask = np.flip(np.asarray(mask), axis=0 if self.inner.time_major else 1)
        return self.inner.run(x, mask=mask, initial_state=initial_state, training=training)


class _StatesIgnoreMask(_Variant):
    """Masked steps still update the states; only the output is masked (carried or zeroed)."""

    def run(self, x, mask=None, initial_state=None, training=None):
        inner = self.inner
        if mask is None:
            return inner.run(x, initial_state=initial_state, training=training)
        seq = _rebuilt(inner, return_sequences=True)
        outputs, states = seq.run(x, initial_state=initial_state, training=training)
        if inner.stateful:
            inner.states = seq.states
        mask = np.asarray(mask).astype(bool)
        if mask.ndim == 3:
            mask = mask[..., 0]
        if inner.time_major:
            outputs, mask = np.swapaxes(outputs, 0, 1), mask.T
        if inner.go_backwards:
            mask = mask[:, ::-1]  # the outputs are in processing order
        out = np.array(outputs)
        for k in range(out.shape[1]):
            carried = 0 if inner.zero_output_for_mask or k == 0 else out[:, k - 1]
            out[:, k] = np.where(mask[:, k, None], outputs[:, k], carried)
        if not inner.return_sequences:
            return out[:, -1], states
        return (np.swapaxes(out, 0, 1) if inner.time_major else out), states


def _masked(ref, ctx):
    return ctx.mask


def _zero_output(value):
    def applies(ref, ctx):
        return ctx.mask and any(s.zero_output_for_mask == value for s in sublayers(ref))
    return applies


def _mask_ignored(ref, x, mask, init):
    return x, None, init


# -- activations -----------------------------------------------------------------------------------
def _uses_hard_sigmoid(ref):
    c = _cfg(ref)
    return "hard_sigmoid" in (c.get("activation"), c.get("recurrent_activation"))


def _hard_sigmoid_formula(fn):
    def swap(sub):
        cfg, cell = sub.get_config(), sub.cell
        if cfg.get("activation") == "hard_sigmoid":
            cell.activation = cell.activation_ = cell.activation_kept = fn
        if cfg.get("recurrent_activation") == "hard_sigmoid":
            cell.recurrent_activation = cell.recurrent_activation_ = fn
        return sub
    return _each_sublayer(swap)


def _recurrent_activation(now, becomes):
    def applies(ref, ctx):
        return kind(ref) != "SimpleRNN" and _cfg(ref).get("recurrent_activation") == now
    return applies, _each_sublayer(lambda sub: _rebuilt(sub, recurrent_activation=becomes))


# -- precision -------------------------------------------------------------------------------------
def _float16_applies(ref, ctx):
    return str(sublayers(ref)[0].compute_dtype) in ("float32", "float64")


def _float16_inputs(ref, x, mask, init):
    if init is not None:
        init = [np.asarray(s).astype(np.float16) for s in init]
    return np.asarray(x).astype(np.float16), mask, init


def _float16_values(port) -> bool:
    return all(np.array_equal(np.asarray(a, np.float64), np.asarray(a).astype(np.float16).astype(np.float64),
                              equal_nan=True) for call in port for a in call)


def _float16_outputs(ref, flat):
    dtype = sublayers(ref)[0].compute_dtype
    return [np.asarray(a).astype(dtype) for a in flat]


# -- state across calls ----------------------------------------------------------------------------
def _stateful(value):
    return lambda ref, ctx: _returns(ref, "stateful") == value


CATALOGUE: tuple = tuple(_gate_orders()) + (
    Mistake("recurrent_kernel_blocks_transposed", "kernel_layout",
            "transpose each (units, units) gate block of the recurrent kernel back: Keras computes "
            "h_tm1 @ recurrent_kernel with recurrent_kernel of shape (units, gates*units); your port "
            "uses each block transposed (a PyTorch-style weight_hh read without .T per gate)",
            layer=_reweighted(_blocks_transposed)),
    Mistake("kernel_and_recurrent_kernel_swapped", "kernel_layout",
            "multiply the input by kernel (weights[0]) and the previous state by recurrent_kernel "
            "(weights[1]); your port swaps them", applies=_square, layer=_reweighted(_kernels_swapped)),
    Mistake("bias_ignored", "bias", "add the bias (weights[2]); your port computes without it",
            applies=lambda ref, ctx: _has_bias(ref), layer=_reweighted(_bias_zeroed)),
    Mistake("gru_bias_rows_swapped", "bias",
            "GRU reset_after=True: bias[0] is the input bias and bias[1] the recurrent bias (the one "
            "multiplied by the reset gate); your port uses them the other way round",
            applies=_gru(True), layer=_reweighted(_gru_bias(lambda b: b[::-1].copy()))),
    Mistake("gru_recurrent_bias_dropped", "bias",
            "GRU reset_after=True has two biases: add bias[1] to the recurrent projection h_tm1 @ "
            "recurrent_kernel (inside the reset gate's product); your port uses only bias[0]",
            applies=_gru(True), layer=_reweighted(_gru_bias(lambda b: np.stack([b[0], 0 * b[1]])))),
    Mistake("gru_input_bias_dropped", "bias",
            "GRU reset_after=True has two biases: add bias[0] to the input projection x @ kernel; "
            "your port uses only bias[1]",
            applies=_gru(True), layer=_reweighted(_gru_bias(lambda b: np.stack([0 * b[0], b[1]])))),
    Mistake("gru_biases_summed", "bias",
            "GRU reset_after=True: keep the recurrent bias bias[1] inside the reset gate's product "
            "r * (h_tm1 @ U_h + b_rec_h); your port adds one bias bias[0] + bias[1] to the input "
            "projection", applies=_gru(True),
            layer=_reweighted(_gru_bias(lambda b: np.stack([b[0] + b[1], 0 * b[1]])))),
    Mistake("lstm_forget_bias_added", "bias",
            "do not add a forget_bias of 1 to the forget gate: Keras' bias already holds it "
            "(unit_forget_bias initialises it; TF1's BasicLSTMCell adds forget_bias=1.0 on top)",
            applies=lambda ref, ctx: kind(ref) == "LSTM", layer=_reweighted(_forget_shift(1.0))),
    Mistake("lstm_forget_bias_missing", "bias",
            "your port's forget gate is 1 lower than Keras': a TF1 forget_bias=1.0 was not folded "
            "into the forget-gate bias (or the port subtracts it)",
            applies=lambda ref, ctx: kind(ref) == "LSTM", layer=_reweighted(_forget_shift(-1.0))),
    Mistake("gru_reset_before_product", "gru_reset",
            "GRU reset_after=True applies the reset gate after the recurrent product, r * (h_tm1 @ "
            "U_h + b_rec_h); your port applies it before, (r * h_tm1) @ U_h (the reset_after=False "
            "formula, e.g. PyTorch-less C ports of the original GRU)",
            applies=lambda ref, ctx: kind(ref) == "GRU" and sublayers(ref)[0].cell.reset_after,
            layer=_each_sublayer(_reset_before), stage=REBUILD),
    Mistake("gru_reset_after_product", "gru_reset",
            "GRU reset_after=False applies the reset gate before the recurrent product, (r * h_tm1) "
            "@ U_h; your port applies it after, r * (h_tm1 @ U_h) (the cuDNN / PyTorch formula)",
            applies=lambda ref, ctx: kind(ref) == "GRU" and not sublayers(ref)[0].cell.reset_after,
            layer=_each_sublayer(_reset_after), stage=REBUILD),
    Mistake("lstm_returned_state_order_swapped", "state_order",
            "return the LSTM states as [h, c] (Keras); your port returns [c, h] (TF1's "
            "LSTMStateTuple order)", applies=_lstm_states, outputs=_hc_swapped_out, stage=IO),
    Mistake("bidi_state_order_swapped", "state_order",
            "return Bidirectional states forward first, then backward; your port returns the backward "
            "states first", applies=_bidi_states, outputs=_directions_swapped_out, stage=IO),
    Mistake("bidi_states_interleaved", "state_order",
            "return Bidirectional LSTM states as fw h, fw c, bw h, bw c; your port returns fw h, bw h, "
            "fw c, bw c (the ONNX Y_h / Y_c layout)",
            applies=lambda ref, ctx: _bidi_states(ref, ctx) and kind(ref) == "LSTM",
            outputs=_interleaved_out, stage=IO),
    Mistake("lstm_initial_state_order_swapped", "initial_state",
            "read initial_state as [h, c] (Keras); your port reads it as [c, h]",
            applies=lambda ref, ctx: kind(ref) == "LSTM" and ctx.initial_state,
            inputs=_hc_swapped_in, stage=IO),
    Mistake("bidi_initial_state_halves_swapped", "initial_state",
            "Bidirectional initial_state is forward states then backward states; your port gives the "
            "second half to the forward layer", applies=lambda ref, ctx: is_bidi(ref) and ctx.initial_state,
            inputs=_halves_swapped_in, stage=IO),
    Mistake("initial_state_ignored", "initial_state",
            "start from the given initial_state; your port starts from zeros",
            applies=lambda ref, ctx: ctx.initial_state, inputs=_init_ignored, stage=IO),
    Mistake("go_backwards_ignored", "direction",
            "go_backwards=True: process the sequence from its last step to its first; your port "
            "runs forward in time",
            applies=lambda ref, ctx: not is_bidi(ref) and ref.go_backwards,
            layer=_each_sublayer(lambda sub: _rebuilt(sub, go_backwards=False)), stage=REBUILD),
    Mistake("bidi_backward_runs_forward", "direction",
            "the backward layer of Bidirectional must process the sequence from its last step to its "
            "first; your port runs it forward in time", applies=lambda ref, ctx: is_bidi(ref),
            layer=_each_sublayer(lambda sub: _rebuilt(sub, go_backwards=not sub.go_backwards),
                                 only="backward"), stage=REBUILD),
    Mistake("go_backwards_output_flipped_back", "direction",
            "with go_backwards=True Keras returns the sequence in processing order (last input step "
            "first); your port flips it back to input order (the ONNX convention)",
            applies=lambda ref, ctx: not is_bidi(ref) and ref.go_backwards and ref.return_sequences,
            outputs=_sequence_flipped_out, stage=IO),
    Mistake("bidi_backward_not_re_reversed", "direction",
            "flip the backward layer's sequence back to input order before merging it with the "
            "forward one; your port merges it in processing order",
            applies=lambda ref, ctx: is_bidi(ref) and ref.return_sequences,
            layer=lambda ref: _NotReReversed(ref), stage=VARIANT),
    Mistake("time_major_output_not_swapped", "direction",
            "time_major=True returns the sequence as (time, batch, units); your port returns it "
            "batch-major", applies=lambda ref, ctx: _returns(ref, "time_major") and _returns(
                ref, "return_sequences"), outputs=_batch_major_out, stage=IO),
    Mistake("masked_steps_output_zeros", "mask_output",
            "at a masked step Keras outputs the previous step's output (zero_output_for_mask=False); "
            "your port outputs zeros", applies=_zero_output(False),
            layer=_each_sublayer(lambda sub: _rebuilt(sub, zero_output_for_mask=True)), stage=REBUILD),
    Mistake("masked_steps_output_carried", "mask_output",
            "at a masked step this layer outputs zeros (zero_output_for_mask=True, which "
            "Bidirectional with return_sequences forces); your port repeats the previous output",
            applies=_zero_output(True),
            layer=_each_sublayer(lambda sub: _rebuilt(sub, zero_output_for_mask=False)), stage=REBUILD),
    Mistake("mask_ignored", "mask_states",
            "apply the mask: at a masked step keep the state and output as described in Keras' "
            "backend.rnn; your port ignores the mask", applies=_masked, inputs=_mask_ignored, stage=IO),
    Mistake("masked_steps_update_state", "mask_states",
            "at a masked step keep the previous states; your port masks the output but updates the "
            "states", applies=_masked, layer=_each_sublayer(_StatesIgnoreMask), stage=VARIANT),
    Mistake("mask_not_reversed_with_go_backwards", "mask_states",
            "when the layer runs backwards reverse the mask with the inputs; your port reads the "
            "mask in input order while processing the inputs reversed",
            applies=lambda ref, ctx: ctx.mask and any(s.go_backwards for s in sublayers(ref)),
            layer=lambda ref: _each_sublayer(
                lambda sub: _MaskNotReversed(sub) if sub.go_backwards else sub)(ref), stage=VARIANT),
    Mistake("hard_sigmoid_keras3_formula", "activation_formula",
            "Keras 2 (tf_keras) hard_sigmoid is clip(0.2 * x + 0.5, 0, 1); your port uses Keras 3's "
            "relu6(x + 3) / 6",
            applies=lambda ref, ctx: _uses_hard_sigmoid(ref) and _cfg(ref)["dialect"] == "keras2",
            layer=_hard_sigmoid_formula(hard_sigmoid_keras3), stage=VARIANT),
    Mistake("hard_sigmoid_keras2_formula", "activation_formula",
            "Keras 3 hard_sigmoid is relu6(x + 3) / 6; your port uses Keras 2's clip(0.2 * x + 0.5, "
            "0, 1)", applies=lambda ref, ctx: _uses_hard_sigmoid(ref) and _cfg(ref)["dialect"] == "keras3",
            layer=_hard_sigmoid_formula(hard_sigmoid_keras2), stage=VARIANT),
    Mistake("recurrent_activation_hard_sigmoid", "recurrent_activation",
            "the gates use recurrent_activation='sigmoid'; your port uses hard_sigmoid",
            *_recurrent_activation("sigmoid", "hard_sigmoid"), stage=REBUILD),
    Mistake("recurrent_activation_sigmoid", "recurrent_activation",
            "the gates use recurrent_activation='hard_sigmoid'; your port uses sigmoid",
            *_recurrent_activation("hard_sigmoid", "sigmoid"), stage=REBUILD),
    Mistake("float16_arithmetic", "precision",
            "compute in the layer's dtype (float32: accumulate the products in float32); your port's "
            "outputs match a float16 computation",
            applies=_float16_applies,
            layer=_each_sublayer(lambda sub: _rebuilt(sub, dtype="float16")), inputs=_float16_inputs,
            outputs=_float16_outputs, stage=REBUILD, tolerance_dtype="float16",
            fits_port=_float16_values),
    Mistake("state_not_carried", "stateful",
            "stateful=True: start each batch from the previous batch's final states; your port "
            "starts every batch from zeros", applies=_stateful(True),
            layer=_each_sublayer(lambda sub: _rebuilt(sub, stateful=False)), stage=REBUILD),
    Mistake("state_not_reset", "stateful",
            "reset the states to zeros at reset_states(); your port keeps carrying them",
            applies=lambda ref, ctx: _returns(ref, "stateful") and ctx.resets, ignores_resets=True),
    Mistake("state_carried_between_calls", "stateful",
            "this layer is not stateful: every call starts from zeros (or its initial_state); your "
            "port carries the final states of one call into the next",
            applies=lambda ref, ctx: not _returns(ref, "stateful") and ctx.calls > 1,
            layer=_each_sublayer(lambda sub: _rebuilt(sub, stateful=True)), stage=REBUILD),
)

BY_NAME = {m.name: m for m in CATALOGUE}
assert len(BY_NAME) == len(CATALOGUE), "mistake names must be unique"


def get(name) -> Mistake:
    if name not in BY_NAME:
        raise ValueError(f"unknown mistake {name!r}; known: {', '.join(BY_NAME)}")
    return BY_NAME[name]


def combined(mistakes) -> Mistake:
    """One Mistake applying several (stage order: weights, rebuilds, variants, inputs/outputs)."""
    mistakes = sorted(mistakes, key=lambda m: m.stage)
    if len(mistakes) == 1:
        return mistakes[0]

    def layer(ref):
        for m in mistakes:
            ref = m.layer(ref)
        return ref

    def inputs(ref, x, mask, init):
        for m in mistakes:
            x, mask, init = m.inputs(ref, x, mask, init)
        return x, mask, init

    def outputs(ref, flat):
        for m in mistakes:
            flat = m.outputs(ref, flat)
        return flat
    coarse = [m.tolerance_dtype for m in mistakes if m.tolerance_dtype]
    checks = [m.fits_port for m in mistakes if m.fits_port]
    return Mistake(" + ".join(m.name for m in mistakes), "+".join(m.group for m in mistakes),
                   "; and ".join(m.says for m in mistakes), layer=layer, inputs=inputs,
                   outputs=outputs, stage=max(m.stage for m in mistakes),
                   ignores_resets=any(m.ignores_resets for m in mistakes),
                   tolerance_dtype=coarse[0] if coarse else None,
                   fits_port=(lambda port: all(c(port) for c in checks)) if checks else None)
