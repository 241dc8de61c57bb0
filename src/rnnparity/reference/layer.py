"""Keras recurrent *layer* semantics around a cell: input checks, return_sequences / return_state,
go_backwards, stateful + reset_states, time_major (Keras 2), dropout at inference.

keras/src/layers/rnn/rnn.py (RNN.call, `inner_loop`), tf_keras/src/layers/rnn/base_rnn.py.
"""
from __future__ import annotations

import numpy as np

from .gru import GRUCell
from .lstm import LSTMCell
from .scan import scan
from .simple_rnn import SimpleRNNCell

# Constructor options that cannot change inference output once weights are set. They are accepted
# (so a framework config loads as is) and documented as having no effect; anything else unknown raises.
NO_EFFECT_OPTIONS = frozenset({
    "name", "trainable", "seed", "unit_forget_bias", "implementation", "use_cudnn",
    "kernel_initializer", "recurrent_initializer", "bias_initializer",
    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint",
    "input_shape", "batch_input_shape", "batch_size", "input_dim",
})

_DTYPES = ("float16", "float32", "float64")


def _unknown_option_error(cls_name, dialect, unknown):
    # The same exception type the framework raises for an unknown constructor argument.
    if dialect == "keras3":
        return ValueError(f"Unrecognized keyword arguments passed to {cls_name}: {unknown}")
    return TypeError(f"Keyword argument not understood by {cls_name} (keras2 dialect): {sorted(unknown)}")


def _broadcasts(shape, target):
    """Whether an array of ``shape`` broadcasts to exactly ``target``."""
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


class RecurrentLayer:
    """Base of SimpleRNN, LSTM and GRU. Subclasses name their cell and their extra options."""

    cell_class = None
    state_names = ()

    def __init__(self, units, *, activation="tanh", use_bias=True, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 dialect="keras3", dtype="float32", cell_options=None, **options):
        cls_name = type(self).__name__
        self.time_major = bool(options.pop("time_major", False))
        if self.time_major and dialect == "keras3":
            raise _unknown_option_error(cls_name, dialect, {"time_major": True})
        unknown = {k: v for k, v in options.items() if k not in NO_EFFECT_OPTIONS}
        if unknown:
            raise _unknown_option_error(cls_name, dialect, unknown)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)):
            raise TypeError(f"{cls_name}: units must be a positive integer, got {units!r} "
                            f"({type(units).__name__})")
        if units <= 0:
            raise ValueError(f"{cls_name}: units must be a positive integer, got {units!r}")
        rates = {}
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
                raise TypeError(f"{cls_name}: {name} must be a number in [0, 1], got {rate!r}")
            # Both Keras versions clip the rate to [0, 1] (min(1.0, max(0.0, rate))) and report the
            # clipped value in get_config(); at inference the rate has no effect either way.
            rates[name] = min(1.0, max(0.0, float(rate)))
        dropout, recurrent_dropout = rates["dropout"], rates["recurrent_dropout"]
        if not isinstance(dtype, str):
            try:
                dtype = np.dtype(dtype).name
            except TypeError:
                raise TypeError(f"{cls_name}: dtype must be a dtype name, got {dtype!r}") from None
        if dtype not in _DTYPES:
            raise ValueError(f"{cls_name}: dtype={dtype!r} is not modelled; use one of {_DTYPES}")
        self.units = int(units)
        self.dialect = dialect
        self.dtype = dtype
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # same maths; unrolling only changes the framework's graph
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.cell = self.cell_class(self.units, activation=activation, use_bias=use_bias,
                                    dialect=dialect, dtype=dtype, **(cell_options or {}))
        self.states = None
        self._config = dict(
            units=self.units, activation=activation, use_bias=bool(use_bias), dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout, return_sequences=self.return_sequences,
            return_state=self.return_state, go_backwards=self.go_backwards, stateful=self.stateful,
            unroll=self.unroll, zero_output_for_mask=self.zero_output_for_mask,
            dialect=dialect, dtype=dtype, **(cell_options or {}))
        if dialect == "keras2":
            self._config["time_major"] = self.time_major

    # -- config and weights --------------------------------------------------------------------
    def get_config(self):
        return dict(self._config)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def set_weights(self, weights):
        self.cell.set_weights(weights, owner=type(self).__name__)

    def get_weights(self):
        return self.cell.get_weights()

    @property
    def use_bias(self):
        return self.cell.use_bias

    # -- state ---------------------------------------------------------------------------------
    def reset_states(self, states=None):
        """Zero the stored states (stateful layers), or set them to ``states`` (Keras 2 semantics)."""
        if not self.stateful:
            raise AttributeError(f"{type(self).__name__}: reset_states() needs stateful=True")
        if states is None:
            if self.states is not None:
                self.states = self.cell.zero_states(self.states[0].shape[0])
            return
        batch = None if self.states is None else self.states[0].shape[0]
        self.states = self._check_states(states, batch, "reset_states")

    reset_state = reset_states  # Keras 3 spelling

    def _check_states(self, states, batch, what):
        name = type(self).__name__
        if isinstance(states, np.ndarray) or np.isscalar(states) or hasattr(states, "__array__"):
            states = [states]
        try:
            states = list(states)
        except TypeError:
            raise TypeError(f"{name}: {what} must be a list of arrays ({', '.join(self.state_names)}), "
                            f"got {type(states).__name__}") from None
        n = len(self.state_names)
        if len(states) != n:
            raise ValueError(f"{name}: {what} expects {n} state array(s) "
                             f"({', '.join(self.state_names)}), got {len(states)}")
        out = []
        for sname, s in zip(self.state_names, states):
            s = np.asarray(s)
            if not (np.issubdtype(s.dtype, np.floating) or np.issubdtype(s.dtype, np.integer)):
                raise TypeError(f"{name}: {what} state {sname!r} must be numeric, got dtype {s.dtype}")
            rows = batch if batch is not None else (s.shape[0] if s.ndim == 2 else None)
            if s.shape != (rows, self.units):
                # Keras 3 adds the initial state into the step's arithmetic as is, so any shape that
                # broadcasts to (batch, units) works there (e.g. (units,) or (1, units)); Keras 2
                # checks the shape against (batch, units).
                if not (self.dialect == "keras3" and batch is not None and what == "initial_state"
                        and s.ndim <= 2 and _broadcasts(s.shape, (batch, self.units))):
                    raise ValueError(f"{name}: {what} state {sname!r} must have shape "
                                     f"(batch={rows}, units={self.units}), got {s.shape}")
                s = np.broadcast_to(s, (batch, self.units))
            out.append(np.array(s, dtype=self.dtype))
        return out

    # -- call ----------------------------------------------------------------------------------
    def _prepare_inputs(self, x, mask):
        name = type(self).__name__
        if not self.cell.built:
            raise ValueError(f"{name}: weights are not set; call set_weights(...) or build the "
                             f"reference with rnnparity.from_keras(layer) from a built layer")
        x = np.asarray(x)
        if x.ndim != 3:
            layout = "(time, batch, features)" if self.time_major else "(batch, time, features)"
            raise ValueError(f"{name}: expected input of rank 3 {layout}, got shape {x.shape}")
        if not np.issubdtype(x.dtype, np.floating):
            # Keras 3 casts integer and boolean inputs to the layer dtype; Keras 2 does not (TF
            # refuses the matmul of an integer input with a float kernel).
            castable = np.issubdtype(x.dtype, np.integer) or x.dtype == bool
            if not castable or self.dialect != "keras3":
                allowed = "floating point" if self.dialect != "keras3" else "numeric or boolean"
                raise TypeError(f"{name}: input must be {allowed} ({self.dialect} dialect), got "
                                f"dtype {x.dtype}")
        if self.time_major:
            x = np.swapaxes(x, 0, 1)
        if x.shape[2] != self.cell.input_dim:
            raise ValueError(f"{name}: input has {x.shape[2]} features but the kernel expects "
                             f"{self.cell.input_dim} (kernel shape {self.cell.kernel.shape})")
        if x.shape[1] == 0:
            raise ValueError(f"{name}: input has 0 timesteps (shape {x.shape}); neither Keras "
                             f"version runs a recurrent layer over an empty sequence")
        x = x.astype(self.dtype, copy=False)
        if mask is not None:
            mask = self._check_mask(mask, x.shape[:2])
        return x, mask

    def _check_mask(self, mask, batch_time):
        """A (batch, time) boolean mask (after the time_major swap), as the frameworks read it."""
        name = type(self).__name__
        mask = np.asarray(mask)
        if mask.dtype != bool:
            if not (np.issubdtype(mask.dtype, np.integer) or np.issubdtype(mask.dtype, np.floating)):
                raise TypeError(f"{name}: mask must be boolean (or numbers, nonzero meaning "
                                f"'keep'), got dtype {mask.dtype}")
            mask = mask != 0  # what tf.cast(mask, bool) does (NaN counts as nonzero)
        want = "(time, batch)" if self.time_major else "(batch, time)"
        expected = batch_time[::-1] if self.time_major else batch_time
        if mask.ndim == 3 and mask.shape[2] == 1:
            mask = mask[:, :, 0]  # both frameworks accept a trailing axis of 1
        if mask.shape != tuple(expected):
            raise ValueError(f"{name}: mask must have shape {want} = {tuple(expected)} (or with a "
                             f"trailing axis of 1), got {np.shape(mask)}")
        return np.swapaxes(mask, 0, 1) if self.time_major else mask

    def _initial_states(self, batch, initial_state):
        if initial_state is not None:
            return self._check_states(initial_state, batch, "initial_state")
        if self.stateful and self.states is not None:
            if self.states[0].shape[0] != batch:
                raise ValueError(
                    f"{type(self).__name__}: stateful layer was used with batch size "
                    f"{self.states[0].shape[0]}, got batch size {batch}; a stateful layer keeps one "
                    f"state per sample, so the batch size cannot change (reset does not change it)")
            return self.states
        return self.cell.zero_states(batch)

    def run(self, x, mask=None, initial_state=None, training=None):
        """Run the layer; return (output, final_states) before structuring."""
        if training and (self.dropout or self.recurrent_dropout):
            raise ValueError(f"{type(self).__name__}: training=True with dropout={self.dropout}, "
                             f"recurrent_dropout={self.recurrent_dropout} is random; the reference "
                             f"models inference only")
        x, mask = self._prepare_inputs(x, mask)
        states = self._initial_states(x.shape[0], initial_state)
        if x.shape[0] == 0:
            # an empty batch has empty outputs of the usual shapes (tf_keras; Keras 3 SimpleRNN/GRU)
            outputs = np.zeros((0, x.shape[1], self.units), self.dtype)
            last, final = outputs[:, -1], [s.copy() for s in states]
        else:
            last, outputs, final = scan(self.cell.step, self.cell.project_inputs(x), states,
                                        mask=mask, go_backwards=self.go_backwards,
                                        zero_output_for_mask=self.zero_output_for_mask)
        if self.stateful:
            self.states = [s.copy() for s in final]
        if self.return_sequences:
            output = np.swapaxes(outputs, 0, 1) if self.time_major else outputs
        else:
            output = last
        return output, final

    def __call__(self, x, mask=None, initial_state=None, training=None):
        output, states = self.run(x, mask=mask, initial_state=initial_state, training=training)
        if not self.return_state:
            return output
        seq = tuple if self.dialect == "keras3" else list
        return seq([output, *states])

    def __repr__(self):
        flags = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"rnnparity.{type(self).__name__}({flags})"


class SimpleRNN(RecurrentLayer):
    cell_class = SimpleRNNCell
    state_names = SimpleRNNCell.STATE_NAMES

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)


class LSTM(RecurrentLayer):
    cell_class = LSTMCell
    state_names = LSTMCell.STATE_NAMES

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         cell_options={"recurrent_activation": recurrent_activation}, **kwargs)


class GRU(RecurrentLayer):
    cell_class = GRUCell
    state_names = GRUCell.STATE_NAMES

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         cell_options={"recurrent_activation": recurrent_activation,
                                       "reset_after": reset_after}, **kwargs)

    @property
    def reset_after(self):
        return self.cell.reset_after
