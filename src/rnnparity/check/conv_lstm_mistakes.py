"""The porting mistakes particular to ConvLSTM1D/2D/3D, each a named transformation of the reference.

A hand port of a Keras ConvLSTM (a PyTorch ConvLSTM cell, a C inference kernel) can make the LSTM
mistakes (gate order, the two kernels swapped, state handling: mistakes.py covers those that apply)
and the convolution's own: a true convolution instead of Keras' cross-correlation, TF's 'same'
padding split the other way round, the recurrent convolution given the layer's padding, strides or
dilation (Keras' is always 'same', stride 1, no dilation), the data_format or the state's axes
confused. Each `Mistake` here computes what such a port computes from the unmodified reference: by
re-laying out its weights, by giving a copy's cells another convolution (`_with_convolutions`), or by
transforming the outputs around it.

rnnparity.check.diagnose runs them with the general catalogue (mistakes.CATALOGUE).
"""
from __future__ import annotations

import copy
import itertools
import types

import numpy as np

from ..reference.conv import cross_correlate, same_padding
from ..reference.conv_lstm import CONV_LSTM_GATES
from .mistakes import IO, VARIANT, WEIGHTS, Mistake, is_bidi, kind, sublayers


def is_conv_lstm(ref) -> bool:
    return kind(ref) == "ConvLSTM"


def _cell(ref):
    return sublayers(ref)[0].cell


def _each_cell(fn):
    """A `layer` transformation applying ``fn(cell)`` to the cells of a copy of the reference."""
    def layer(ref):
        ref = copy.deepcopy(ref)
        for sub in sublayers(ref):
            fn(sub.cell)
        return ref
    return layer


def _each_weights(fn):
    """A `layer` transformation rewriting each sublayer's weight list ``fn(cell, weights)``."""
    def layer(ref):
        ref = copy.deepcopy(ref)
        for sub in sublayers(ref):
            sub.set_weights(fn(sub.cell, [np.array(w) for w in sub.get_weights()]))
        return ref
    return layer


# -- gate order ------------------------------------------------------------------------------------
def _gate_order(order):
    source = [order.index(g) for g in CONV_LSTM_GATES]  # Keras block k holds what the port reads as k

    def permute(cell, weights):
        blocks = len(CONV_LSTM_GATES)
        return [np.concatenate([np.split(w, blocks, axis=-1)[j] for j in source], axis=-1)
                for w in weights]
    return Mistake(
        f"conv_lstm_gate_order_{''.join(order)}", "ConvLSTM_gate_order",
        f"read the gate blocks (last axis) of kernel, recurrent_kernel and bias in Keras' order "
        f"i, f, c, o; your port reads them as {', '.join(order)}",
        applies=lambda ref, ctx: is_conv_lstm(ref), layer=_each_weights(permute))


GATE_ORDERS = tuple(_gate_order(p) for p in itertools.permutations(CONV_LSTM_GATES) if p != CONV_LSTM_GATES)


# -- the kernels -----------------------------------------------------------------------------------
def _flipped(cell, weights):
    spatial = tuple(range(cell.rank))  # kernel (*kernel_size, channels, 4 filters)
    weights[0], weights[1] = np.flip(weights[0], spatial), np.flip(weights[1], spatial)
    return weights


def _has_wide_kernel(ref, ctx):
    return is_conv_lstm(ref) and max(_cell(ref).kernel_size) > 1


# -- the convolutions ------------------------------------------------------------------------------
def _convolve(x, kernel, strides, dilation, pads, matmul):
    """Keras' cross-correlation of conv.py on ``x`` zero-padded by ``pads`` [(before, after)] per
    spatial axis (channels_last)."""
    x = np.pad(x, [(0, 0), *pads, (0, 0)])
    return cross_correlate(x, kernel, strides, dilation, "valid", matmul)


def _into_state_shape(z, like):
    """A result smaller than the state, written from the first position of a zero state-sized array
    (a conv routine writing its own output size into the state's buffer)."""
    out = np.zeros(like.shape[:-1] + z.shape[-1:], z.dtype)
    out[tuple(slice(0, n) for n in z.shape)] = z
    return out


def _with_convolutions(input_conv=None, recurrent_conv=None):
    """A `layer` transformation giving a copy's cells other input / recurrent convolutions:
    ``input_conv(cell, x)`` and ``recurrent_conv(cell, h)`` replace the cell's own methods."""
    def change(cell):
        if input_conv is not None:
            cell.input_conv = types.MethodType(input_conv, cell)
        if recurrent_conv is not None:
            cell.recurrent_conv = types.MethodType(recurrent_conv, cell)
    return _each_cell(change)


def _extra_pad_at_start(cell, x, strides, dilation):
    """'same' padding with the odd zero before (TF: total // 2 before, the rest after)."""
    pads = [same_padding(n, k, s, d)[::-1]
            for n, k, s, d in zip(x.shape[1:-1], cell.kernel_size, strides, dilation)]
    return pads


def _input_conv_padded_at_start(cell, x):
    if cell.padding != "same":
        return type(cell).input_conv(cell, x)
    z = _convolve(x, cell.kernel, cell.strides, cell.dilation_rate,
                  _extra_pad_at_start(cell, x, cell.strides, cell.dilation_rate), cell.matmul)
    return z + cell.bias if cell.use_bias else z


def _recurrent_conv_padded_at_start(cell, h, then=None):
    ones = (1,) * cell.rank
    return _then(then, _convolve(h, cell.recurrent_kernel, ones, ones, _extra_pad_at_start(cell, h, ones, ones),
                                 cell.matmul))


def _recurrent_conv_valid(cell, h, then=None):
    ones = (1,) * cell.rank
    z = cross_correlate(h, cell.recurrent_kernel, ones, ones, "valid", cell.matmul)
    return _then(then, _into_state_shape(z, h))


def _recurrent_conv_strided(cell, h, then=None):
    ones = (1,) * cell.rank
    z = cross_correlate(h, cell.recurrent_kernel, cell.strides, ones, "same", cell.matmul)
    return _then(then, _into_state_shape(z, h))


def _recurrent_conv_dilated(cell, h, then=None):
    ones = (1,) * cell.rank
    return cross_correlate(h, cell.recurrent_kernel, ones, cell.dilation_rate, "same", cell.matmul, then=then)


def _then(then, z):
    """A recurrent convolution's ``then`` (see ConvLSTMCell.recurrent_conv) on the whole result at once."""
    if then is not None:
        then(z, (Ellipsis,))
    return z


def _same_split_matters(ref, ctx):
    """An odd total of 'same' zeros along some axis (an even kernel, or strides on the input):
    the recurrent convolution is 'same' whatever the layer's padding."""
    return is_conv_lstm(ref) and (any(k % 2 == 0 for k in _cell(ref).kernel_size)
                                  or _cell(ref).padding == "same")


def _strided(ref, ctx):
    return is_conv_lstm(ref) and max(_cell(ref).strides) > 1


def _dilated(ref, ctx):
    return is_conv_lstm(ref) and max(_cell(ref).dilation_rate) > 1 and max(_cell(ref).kernel_size) > 1


# -- layout of the outputs -------------------------------------------------------------------------
def _channel_axis(ref, a) -> int:
    """The channel axis of one output or state array of the layer (its data_format)."""
    return a.ndim - _cell(ref).rank - 1 if _cell(ref).data_format == "channels_first" else a.ndim - 1


def _other_format(ref, a):
    a = np.asarray(a)
    if _cell(ref).data_format == "channels_first":
        return np.moveaxis(a, _channel_axis(ref, a), -1)
    return np.moveaxis(a, -1, a.ndim - _cell(ref).rank - 1)


def _n_leading(ref) -> int:
    return 2 if is_bidi(ref) and ref.merge_mode is None else 1


def _returns_state(ref, ctx):
    return is_conv_lstm(ref) and bool(sublayers(ref)[0].return_state)


def _all_in_other_format(ref, flat):
    return [_other_format(ref, a) for a in flat]


def _states_in_other_format(ref, flat):
    lead = _n_leading(ref)
    return list(flat[:lead]) + [_other_format(ref, a) for a in flat[lead:]]


def _spatial_reversed(ref, a):
    """The spatial axes of one state array in reverse order ((H, W) -> (W, H))."""
    rank, a = _cell(ref).rank, np.asarray(a)
    first = 2 if _cell(ref).data_format == "channels_first" else 1
    axes = list(range(a.ndim))
    axes[first:first + rank] = axes[first:first + rank][::-1]
    return np.transpose(a, axes)


def _states_transposed(ref, flat):
    lead = _n_leading(ref)
    return list(flat[:lead]) + [_spatial_reversed(ref, a) for a in flat[lead:]]


def _initial_states_transposed(ref, x, mask, init):
    if init is None:
        return x, mask, init
    return x, mask, [_spatial_reversed(ref, s) for s in init]


def _states_of_rank_2_plus(ref, ctx):
    return _returns_state(ref, ctx) and _cell(ref).rank >= 2


CATALOGUE: tuple = GATE_ORDERS + (
    Mistake("conv_kernel_flipped", "conv_kernel",
            "Keras' convolution is a cross-correlation: apply kernel and recurrent_kernel as stored; "
            "your port flips them along every spatial axis (a true convolution, as "
            "scipy.signal.convolve or a transposed convolution computes)",
            applies=_has_wide_kernel, layer=_each_weights(_flipped), stage=WEIGHTS),
    Mistake("conv_same_padding_extra_at_start", "conv_padding",
            "padding 'same' as TensorFlow pads: total // 2 zeros before and the rest after (an odd "
            "zero at the end); your port puts the odd zero at the start (a symmetric padding of "
            "kernel_size // 2 cropped to the first positions), in the input and the recurrent "
            "convolution", applies=_same_split_matters,
            layer=_with_convolutions(_input_conv_padded_at_start, _recurrent_conv_padded_at_start),
            stage=VARIANT),
    Mistake("conv_recurrent_padding_valid", "conv_recurrent",
            "the recurrent convolution U * h_tm1 is always padding 'same' (h_tm1 zero-padded, one "
            "result per state position); your port's is 'valid', its smaller result written from the "
            "first position of a zero state-sized array", applies=_has_wide_kernel,
            layer=_with_convolutions(recurrent_conv=_recurrent_conv_valid), stage=VARIANT),
    Mistake("conv_recurrent_strided", "conv_recurrent",
            "the recurrent convolution U * h_tm1 always has stride 1; your port applies the layer's "
            "strides to it too (its smaller result written from the first position of a zero "
            "state-sized array)", applies=_strided,
            layer=_with_convolutions(recurrent_conv=_recurrent_conv_strided), stage=VARIANT),
    Mistake("conv_recurrent_dilated", "conv_recurrent",
            "the recurrent convolution U * h_tm1 has no dilation; your port applies the layer's "
            "dilation_rate to it too", applies=_dilated,
            layer=_with_convolutions(recurrent_conv=_recurrent_conv_dilated), stage=VARIANT),
    Mistake("conv_outputs_in_other_data_format", "conv_data_format",
            "return every output and state in the layer's data_format (channels_last: (batch, [time,] "
            "*spatial, filters); channels_first: (batch, [time,] filters, *spatial)); your port "
            "returns them in the other layout",
            applies=lambda ref, ctx: is_conv_lstm(ref), outputs=_all_in_other_format, stage=IO),
    Mistake("conv_states_in_other_data_format", "conv_data_format",
            "return the states h and c in the layer's data_format, like its output; your port returns "
            "them in the other layout (channels first / last confused for the states)",
            applies=_returns_state, outputs=_states_in_other_format, stage=IO),
    Mistake("conv_states_spatially_transposed", "conv_state_layout",
            "return the states h and c with their spatial axes in the input's order (e.g. (batch, "
            "rows, cols, filters)); your port returns them transposed (cols before rows)",
            applies=_states_of_rank_2_plus, outputs=_states_transposed, stage=IO),
    Mistake("conv_initial_state_spatially_transposed", "conv_initial_state",
            "read initial_state with its spatial axes in the input's order; your port reads them "
            "transposed (cols before rows)",
            applies=lambda ref, ctx: is_conv_lstm(ref) and ctx.initial_state and _cell(ref).rank >= 2,
            inputs=_initial_states_transposed, stage=IO),
)

BY_NAME = {m.name: m for m in CATALOGUE}
assert len(BY_NAME) == len(CATALOGUE), "mistake names must be unique"
