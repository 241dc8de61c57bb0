"""ConvLSTM1D / ConvLSTM2D / ConvLSTM3D (Shi et al. 2015), Keras layout: an LSTM whose input and
recurrent transformations are convolutions.

keras/src/layers/rnn/conv_lstm.py (ConvLSTMCell.call), tf_keras/src/layers/rnn/base_conv_lstm.py and
base_conv_rnn.py. With * the cross-correlation of conv.py (input convolution: the layer's strides,
padding and dilation_rate; recurrent convolution: always padding 'same', stride 1, no dilation):

    i = recurrent_activation(W_i * x_t + b_i + U_i * h_tm1)
    f = recurrent_activation(W_f * x_t + b_f + U_f * h_tm1)
    c = f . c_tm1 + i . activation(W_c * x_t + b_c + U_c * h_tm1)
    o = recurrent_activation(W_o * x_t + b_o + U_o * h_tm1)
    h = o . activation(c)

Weights: kernel (*kernel_size, channels, 4 filters), recurrent_kernel (*kernel_size, filters,
4 filters), bias (4 filters,), gate blocks along the last axis in CONV_LSTM_GATES order. States h and c
have the shape of one output step: (batch, *out_spatial, filters) (channels_first: (batch, filters,
*out_spatial)). Inside the cell everything is channels_last; the layer's inputs, outputs and states
are in the layer's data_format.

What differs between the dialects (checked on keras 3.15 and tf_keras 2.21):
- default recurrent_activation: 'sigmoid' (Keras 3), 'hard_sigmoid' (tf_keras, Keras 2's meaning);
- strides > 1 with dilation_rate > 1: Keras 3 refuses it at construction, tf_keras at the first call;
- unroll=True: Keras 3 accepts it (same maths), tf_keras raises TypeError at construction;
- zero_output_for_mask (which Bidirectional forces to return_sequences): Keras 3 honours it, and so
  does the reference in both dialects; tf_keras' ConvRNN.call never passes it to backend.rnn, so a
  masked step repeats the previous output there (tf_keras' own LSTM zeroes it): a registered
  divergence, tf_keras-conv-lstm-ignores-zero-output-for-mask (check/divergences.py);
- time_major: Keras 3 has no such argument; tf_keras accepts it and ignores it (ConvRNN.call never
  passes it on), which the reference refuses rather than imitates.
"""
from __future__ import annotations

import functools

import numpy as np

from . import activations
from .cell import Cell, checked_weights, leading_kernel
from .conv import PADDINGS, cross_correlate, output_length
from .gates import split_gates
from .layer import RecurrentLayer
from .lstm import LSTM_GATES
from .precision import is_float

# Blocks of the last axis of kernel, recurrent_kernel and bias: input, forget, cell candidate, output.
CONV_LSTM_GATES = LSTM_GATES
DATA_FORMATS = ("channels_last", "channels_first")
DEFAULT_RECURRENT_ACTIVATION = {"keras3": "sigmoid", "keras2": "hard_sigmoid"}


def _tuple(value, rank, name, owner):
    """An int or a sequence of ``rank`` positive ints as a tuple (Keras' standardize_tuple)."""
    values = (value,) * rank if isinstance(value, (int, np.integer)) else tuple(value)
    if (len(values) != rank or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                                   for v in values)):
        raise ValueError(f"{owner}: the `{name}` argument must be an int or a tuple of {rank} ints, "
                         f"got {value!r}")
    if any(v < 1 for v in values):
        # Keras 3 and tf_keras accept strides=0 at construction and fail at the first call
        raise ValueError(f"{owner}: every `{name}` value must be >= 1, got {value!r}")
    return tuple(int(v) for v in values)


def strides_and_dilation_error(owner, strides, dilation_rate):
    return ValueError(f"{owner}: Specifying `strides > 1` is not compatible with `dilation_rate > 1`. "
                      f"Received: strides={strides} and dilation_rate={dilation_rate}")


def in_channels_first(fn, rank, a):
    """``fn`` applied to the channels_last array ``a`` as Keras applies it: to its channels_first
    layout (batch, channels, *spatial)."""
    axis = a.ndim - rank - 1
    return np.moveaxis(fn(np.moveaxis(a, -1, axis)), axis, -1)


class ConvLSTMCell(Cell):
    GATES = CONV_LSTM_GATES
    STATE_NAMES = ("h", "c")

    def __init__(self, rank, filters, kernel_size, *, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation=None, dialect="keras3",
                 **options):
        owner = f"ConvLSTM{rank}D"
        if recurrent_activation is None:
            recurrent_activation = DEFAULT_RECURRENT_ACTIVATION.get(dialect, "sigmoid")
        super().__init__(filters, activation=activation, recurrent_activation=recurrent_activation,
                         dialect=dialect, **options)
        self.rank = rank
        self.filters = self.units
        self.kernel_size = _tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = _tuple(strides, rank, "strides", owner)
        self.dilation_rate = _tuple(dilation_rate, rank, "dilation_rate", owner)
        self.padding = str(padding).lower()
        if self.padding not in PADDINGS:
            raise ValueError(f"{owner}: The `padding` argument must be one of {PADDINGS} (Keras' "
                             f"ConvLSTM has no 'causal' padding). Received: {padding!r}")
        self.data_format = "channels_last" if data_format is None else str(data_format).lower()
        if self.data_format not in DATA_FORMATS:
            raise ValueError(f"{owner}: The `data_format` argument must be one of {DATA_FORMATS}. "
                             f"Received: {data_format!r}")
        # Keras 3 refuses the pair here; tf_keras only when it runs (see ConvLSTM._prepare_inputs)
        self.strided_and_dilated = max(self.strides) > 1 and max(self.dilation_rate) > 1
        if self.strided_and_dilated and dialect == "keras3":
            raise strides_and_dilation_error(owner, self.strides, self.dilation_rate)
        elementwise = activations.is_elementwise(activations.get(activation, dialect, "activation"))
        # elementwise activations (all but softmax & co.): every output position is computed on its own
        self.positions_independent = elementwise and self._gates_elementwise
        if self.data_format == "channels_first":
            # Keras applies the activations to channels_first arrays: a row-wise one (softmax & co.)
            # normalises along the last *spatial* axis there, not along the filters (found by explore)
            for name, is_elementwise in (("activation", elementwise), ("activation_kept", elementwise),
                                         ("recurrent_activation", self._gates_elementwise)):
                if not is_elementwise:
                    setattr(self, name, functools.partial(in_channels_first, getattr(self, name), rank))
        self.state_shape = None  # (*out_spatial, filters) in data_format order, set from the input
        self._config = {"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                        "padding": self.padding, "data_format": self.data_format,
                        "dilation_rate": self.dilation_rate, **self._config}
        del self._config["units"]

    # -- layout: the cell computes channels_last --------------------------------------------------
    def to_channels_last(self, a):
        """(batch, [time,] channels, *spatial) -> (batch, [time,] *spatial, channels) for channels_first."""
        return a if self.data_format == "channels_last" else np.moveaxis(a, a.ndim - self.rank - 1, -1)

    def from_channels_last(self, a):
        return a if self.data_format == "channels_last" else np.moveaxis(a, -1, a.ndim - self.rank - 1)

    def output_spatial(self, spatial):
        """The spatial shape of h, c and each output step for an input of spatial shape ``spatial``."""
        return tuple(output_length(n, k, s, d, self.padding) for n, k, s, d
                     in zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    # -- weights -------------------------------------------------------------------------------
    def bias_shape(self):
        return (len(self.GATES) * self.filters,)

    def weight_specs(self, input_dim):
        n = len(self.GATES) * self.filters
        specs = [("kernel", (*self.kernel_size, input_dim, n)),
                 ("recurrent_kernel", (*self.kernel_size, self.filters, n))]
        if self.use_bias:
            specs.append(("bias", self.bias_shape()))
        return specs

    def set_weights(self, weights, owner="layer"):
        weights, kernel = leading_kernel(weights, owner)
        if kernel.ndim != self.rank + 2:
            raise ValueError(f"{owner}: kernel must have rank {self.rank + 2} (*kernel_size, channels, "
                             f"{len(self.GATES)}*filters), got shape {kernel.shape}")
        arrays = checked_weights(weights, self.weight_specs(kernel.shape[-2]), owner, self.variable_dtype)
        self._variables = list(arrays.values())
        used = {name: a.astype(self.dtype) for name, a in arrays.items()}  # autocast at use
        self.kernel, self.recurrent_kernel = used["kernel"], used["recurrent_kernel"]
        self.bias = used.get("bias")

    @property
    def input_dim(self):
        return None if self.kernel is None else self.kernel.shape[-2]

    def zero_states(self, batch):
        return [np.zeros((batch, *self.state_shape), self.dtype) for _ in self.STATE_NAMES]

    # -- maths ---------------------------------------------------------------------------------
    def input_conv(self, x):
        """W * x + b for all four gates: x (n, *spatial, channels) -> (n, *out, 4 filters)."""
        return cross_correlate(x, self.kernel, self.strides, self.dilation_rate, self.padding, self.matmul,
                               bias=self.bias if self.use_bias else None)

    def recurrent_conv(self, h, then=None):
        """U * h for all four gates: padding 'same', stride 1, no dilation, whatever the layer's.
        ``then(z, where)``: see conv.cross_correlate."""
        ones = (1,) * self.rank
        return cross_correlate(h, self.recurrent_kernel, ones, ones, "same", self.matmul, then=then)

    def project_inputs(self, x):
        """The input convolution of every timestep at once, before the time loop:
        (batch, time, ...) in data_format -> (batch, time, *out, 4 filters), channels_last."""
        x = self.to_channels_last(x)
        batch, steps = x.shape[:2]
        z = self.input_conv(x.reshape(batch * steps, *x.shape[2:]))
        return z.reshape(batch, steps, *z.shape[1:])

    def step(self, x_t, states):
        h_tm1, c_tm1 = (self.to_channels_last(s) for s in states)
        if not self.positions_independent:  # softmax & co. act along an axis: the arrays whole
            h, c = self._equations(self.recurrent_conv(h_tm1), x_t, c_tm1)
        else:  # every output position on its own: each block of U * h_tm1 as soon as it is computed
            h, c = np.empty(c_tm1.shape, x_t.dtype), np.empty(c_tm1.shape, x_t.dtype)
            self.recurrent_conv(h_tm1, then=lambda z, where: self._equations(
                z, x_t[where], c_tm1[where], h[where], c[where]))
        h, c = self.from_channels_last(h), self.from_channels_last(c)
        return h, [h, c]

    def _equations(self, z, x_t, c_tm1, h=None, c=None):
        """The LSTM equations from ``z`` = U * h_tm1 (..., 4 filters), this step's scratch (overwritten),
        and ``x_t`` = W * x_t + b; into ``h`` and ``c`` when given."""
        z += x_t
        candidate = self.activation_kept(split_gates(z, CONV_LSTM_GATES)["c"])  # kept: z is overwritten next
        gates = split_gates(self.gate_activation_(z), CONV_LSTM_GATES)  # i, f, o (the c block is unused)
        i, f, o = gates["i"], gates["f"], gates["o"]
        c_new = f * c_tm1 + i * candidate
        h_new = o * self.activation(c_new)
        if h is None:
            return h_new, c_new
        if h_new.dtype != h.dtype or c_new.dtype != c.dtype:  # an activation changed the dtype
            raise TypeError(f"ConvLSTM{self.rank}D: the step computed h {h_new.dtype}, c {c_new.dtype} "
                            f"from {z.dtype} gates; not modelled")
        h[...], c[...] = h_new, c_new


class ConvLSTM(RecurrentLayer):
    """Base of ConvLSTM1D/2D/3D: the LSTM layer semantics (flags, masks, states, stateful,
    Bidirectional) around a ConvLSTMCell; inputs (batch, time, *spatial, channels) (channels_last) or
    (batch, time, channels, *spatial) (channels_first)."""

    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation=None, use_bias=True,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 dialect="keras3", dtype="float32", **options):
        name = type(self).__name__
        if self._check_options(options, dialect):
            raise ValueError(f"{name}: time_major=True is not modelled: tf_keras accepts it for a "
                             f"ConvLSTM but its ConvRNN.call never uses it (the input is read as "
                             f"(batch, time, ...) anyway); leave time_major out")
        if unroll and dialect == "keras2":
            raise TypeError(f"{name}: Unrolling is not possible with convolutional RNNs. "
                            f"Received: unroll={unroll}")
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{name}: filters must be a positive integer, got {filters!r}")
        cell = ConvLSTMCell(self.rank, int(filters), kernel_size, strides=strides, padding=padding,
                            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                            recurrent_activation=recurrent_activation, use_bias=use_bias,
                            dropout=dropout, recurrent_dropout=recurrent_dropout, dialect=dialect,
                            dtype=dtype)
        self._setup(cell, return_sequences=return_sequences, return_state=return_state,
                    go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                    zero_output_for_mask=zero_output_for_mask, time_major=False, dialect=dialect,
                    dtype=cell.policy.name)
        self.dropout, self.recurrent_dropout = cell.dropout, cell.recurrent_dropout
        self._config = {**cell.get_config(), "return_sequences": self.return_sequences,
                        "return_state": self.return_state, "go_backwards": self.go_backwards,
                        "stateful": self.stateful, "unroll": self.unroll,
                        "zero_output_for_mask": bool(zero_output_for_mask)}

    @property
    def filters(self):
        return self.cell.filters

    @property
    def data_format(self):
        return self.cell.data_format

    def _channel_axis(self):
        return 2 if self.data_format == "channels_first" else -1

    def _spatial_axes(self):
        return slice(3, None) if self.data_format == "channels_first" else slice(2, -1)

    # -- inputs and states -----------------------------------------------------------------------
    def reset_states(self, states=None):
        if states is None and self.stateful and self.states is not None:
            self.states = [np.zeros_like(s) for s in self.states]  # the shapes they already have
            return
        super().reset_states(states)

    reset_state = reset_states

    def _prepare_inputs(self, x, mask):
        name, cell = type(self).__name__, self.cell
        if not cell.built:
            raise ValueError(f"{name}: weights are not set; call set_weights(...) or build the "
                             f"reference with rnnparity.from_keras(layer) from a built layer")
        x = np.asarray(x)
        layout = ("(batch, time, channels, *spatial)" if self.data_format == "channels_first"
                  else "(batch, time, *spatial, channels)")
        if x.ndim != self.rank + 3:
            raise ValueError(f"{name}: expected input of rank {self.rank + 3} {layout}, got shape {x.shape}")
        if not is_float(x.dtype):
            castable = np.issubdtype(x.dtype, np.integer) or x.dtype == bool
            if not castable or self.dialect != "keras3":
                raise TypeError(f"{name}: input must be floating point ({self.dialect} dialect), "
                                f"got dtype {x.dtype}")
        if x.shape[self._channel_axis()] != cell.input_dim:
            raise ValueError(f"{name}: input {layout} has {x.shape[self._channel_axis()]} channels but "
                             f"the kernel expects {cell.input_dim} (kernel shape {cell.kernel.shape})")
        if x.shape[1] == 0 or x.shape[0] == 0:
            raise ValueError(f"{name}: input shape {x.shape} has an empty batch or time axis; not modelled")
        if cell.strided_and_dilated:  # tf_keras: accepted at construction, refused by the first call
            raise strides_and_dilation_error(name, cell.strides, cell.dilation_rate)
        spatial = x.shape[self._spatial_axes()]
        out = cell.output_spatial(spatial)
        if min(out) < 1:
            raise ValueError(f"{name}: padding='valid' with kernel_size={cell.kernel_size}, "
                             f"dilation_rate={cell.dilation_rate} does not fit the input's spatial "
                             f"shape {spatial}: the output would be {out}")
        cell.state_shape = ((cell.filters, *out) if self.data_format == "channels_first"
                            else (*out, cell.filters))
        x = x.astype(self.compute_dtype, copy=False)
        if mask is not None:
            mask = self._check_mask(mask, x.shape[:2])
        return x, mask

    def state_shape_for(self, x, mask=None):
        """The shape of h and c, less the batch, for an input ``x`` (and ``mask``); raises the
        reference's ValueError / TypeError for an input the layer cannot take."""
        self._prepare_inputs(x, mask)
        return self.cell.state_shape

    def _carried(self, batch):
        states = super()._carried(batch)
        if states[0].shape[1:] != self.cell.state_shape:
            raise ValueError(f"{type(self).__name__}: stateful layer carries states of shape "
                             f"{states[0].shape}, but this input gives states of shape "
                             f"{(batch, *self.cell.state_shape)}: a stateful layer's input shape cannot change")
        return states

    def _checked_arrays(self, states, batch, what):
        """States of exactly the shape of one output step, (batch, *out, filters) in data_format
        order (neither framework broadcasts them: the convolution needs the full rank)."""
        name, out = type(self).__name__, []
        for sname, s in zip(self.state_names, states):
            s = np.asarray(s)
            if not (is_float(s.dtype) or np.issubdtype(s.dtype, np.integer)):
                raise TypeError(f"{name}: {what} state {sname!r} must be numeric, got dtype {s.dtype}")
            shape = self.cell.state_shape
            rows = batch if batch is not None else (s.shape[0] if s.ndim else None)
            channels = s.shape[1 if self.data_format == "channels_first" else -1] if s.ndim else None
            if (s.shape != (rows, *shape)) if shape is not None else (
                    s.ndim != self.rank + 2 or channels != self.filters):
                want = (f"(batch={rows}, {', '.join(map(str, shape))})" if shape is not None else
                        f"rank {self.rank + 2} with {self.filters} filters on the "
                        f"{'second' if self.data_format == 'channels_first' else 'last'} axis")
                raise ValueError(f"{name}: {what} state {sname!r} must have shape {want} (one output "
                                 f"step, data_format={self.data_format!r}), got {s.shape}")
            out.append(np.array(s, dtype=self.compute_dtype))
        return out


class ConvLSTM1D(ConvLSTM):
    rank = 1


class ConvLSTM2D(ConvLSTM):
    rank = 2


class ConvLSTM3D(ConvLSTM):
    rank = 3
