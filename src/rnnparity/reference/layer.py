"""Keras recurrent *layer* semantics around a cell: input checks, return_sequences / return_state,
go_backwards, stateful + reset_states, time_major (Keras 2), dropout at inference, dtype policies.
The generic `RNN(cell)` (rnn.py) is the same layer around a cell given by the user.

keras/src/layers/rnn/rnn.py (RNN.call, `inner_loop`), tf_keras/src/layers/rnn/base_rnn.py.
"""
from __future__ import annotations

import numpy as np

from . import states as states_
from .cell import NO_EFFECT_OPTIONS, checked_rates, unknown_option_error
from .gru import GRUCell
from .lstm import LSTMCell
from .precision import is_float, policy
from .scan import scan
from .simple_rnn import SimpleRNNCell

__all__ = ["RecurrentLayer", "SimpleRNN", "LSTM", "GRU", "NO_EFFECT_OPTIONS"]


def _broadcasts(shape, target):
    """Whether an array of ``shape`` broadcasts to exactly ``target``."""
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


class RecurrentLayer:
    """Base of SimpleRNN, LSTM and GRU. Subclasses name their cell and their extra options."""

    cell_class = None

    def __init__(self, units, *, activation="tanh", use_bias=True, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 dialect="keras3", dtype="float32", cell_options=None, **options):
        cls_name = type(self).__name__
        time_major = self._check_options(options, dialect)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)):
            raise TypeError(f"{cls_name}: units must be a positive integer, got {units!r} "
                            f"({type(units).__name__})")
        if units <= 0:
            raise ValueError(f"{cls_name}: units must be a positive integer, got {units!r}")
        dropout, recurrent_dropout = checked_rates(cls_name, dropout, recurrent_dropout)
        dtype = policy(dtype, cls_name).name
        cell = self.cell_class(int(units), activation=activation, use_bias=use_bias,
                               dialect=dialect, dtype=dtype, **(cell_options or {}))
        self._setup(cell, return_sequences=return_sequences, return_state=return_state,
                    go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                    zero_output_for_mask=zero_output_for_mask, time_major=time_major,
                    dialect=dialect, dtype=dtype)
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self._config = dict(
            units=self.units, activation=activation, use_bias=bool(use_bias), dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout, return_sequences=self.return_sequences,
            return_state=self.return_state, go_backwards=self.go_backwards, stateful=self.stateful,
            unroll=self.unroll, zero_output_for_mask=self.zero_output_for_mask,
            dialect=dialect, dtype=dtype, **(cell_options or {}))
        if dialect == "keras2":
            self._config["time_major"] = self.time_major

    def _check_options(self, options, dialect):
        """time_major (Keras 2 only); refuse unknown options like the framework. Consumes ``options``."""
        cls_name = type(self).__name__
        time_major = bool(options.pop("time_major", False))
        if time_major and dialect == "keras3":
            raise unknown_option_error(cls_name, dialect, {"time_major": True})
        unknown = {k: v for k, v in options.items() if k not in NO_EFFECT_OPTIONS}
        if unknown:
            raise unknown_option_error(cls_name, dialect, unknown)
        return time_major

    def _setup(self, cell, *, return_sequences, return_state, go_backwards, stateful, unroll,
               zero_output_for_mask, time_major, dialect, dtype):
        self.cell = cell
        self.units = cell.units  # the output width (the last cell's, for stacked cells)
        self.dialect = dialect
        self.policy = policy(dtype, type(self).__name__)
        self.compute_dtype = self.policy.compute
        self.dtype = self.compute_dtype.name  # what the layer computes in (Keras' compute_dtype)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # same maths; unrolling only changes the framework's graph
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.time_major = bool(time_major)
        self.states = None  # stateful: the carried states, flat (every cell's, in order)

    @property
    def state_names(self):
        return self.cell.STATE_NAMES

    @property
    def n_state_entries(self):
        """How many entries initial_state has: one per state, or one per cell for stacked cells."""
        groups = getattr(self.cell, "groups", None)
        return len(self.state_names) if groups is None else len(groups)

    # -- config and weights --------------------------------------------------------------------
    def get_config(self):
        return dict(self._config)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def set_weights(self, weights):
        self.cell.set_weights(weights, owner=type(self).__name__)

    @property
    def n_weights(self):
        return self.cell.n_weights

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
        """The flat list of state arrays (checked and cast to the compute dtype) for ``states``."""
        return self._checked_arrays(self._flatten_states(states, what)[0], batch, what)

    def _flatten_states(self, states, what):
        return states_.flatten(states, self.cell, type(self).__name__, what)

    def _default_structure(self):
        return states_.default_structure(self.cell, self.dialect)

    def _pack_states(self, flat, structure):
        return states_.pack(flat, structure, getattr(self.cell, "groups", None))

    def _checked_arrays(self, states, batch, what):
        name = type(self).__name__
        out = []
        for sname, units, s in zip(self.state_names, self.cell.state_units, states):
            s = np.asarray(s)
            if not (is_float(s.dtype) or np.issubdtype(s.dtype, np.integer)):
                raise TypeError(f"{name}: {what} state {sname!r} must be numeric, got dtype {s.dtype}")
            rows = batch if batch is not None else (s.shape[0] if s.ndim == 2 else None)
            if s.shape != (rows, units):
                # Keras 3 adds the initial state into the step's arithmetic as is, so any shape that
                # broadcasts to (batch, units) works there (e.g. (units,) or (1, units)); Keras 2
                # checks the shape against (batch, units).
                if not (self.dialect == "keras3" and batch is not None and what == "initial_state"
                        and s.ndim <= 2 and _broadcasts(s.shape, (batch, units))):
                    raise ValueError(f"{name}: {what} state {sname!r} must have shape "
                                     f"(batch={rows}, units={units}), got {s.shape}")
                s = np.broadcast_to(s, (batch, units))
            out.append(np.array(s, dtype=self.compute_dtype))
        return out

    def _refuse_uncast_states(self, states):
        """tf_keras passes a non-stateful layer's initial states to the cell as they are, and
        TensorFlow refuses a matmul of two dtypes (a float32 state with a float16 kernel under
        mixed_float16, a float64 state on a float32 layer): InvalidArgumentError on call."""
        for sname, s in zip(self.state_names, states):
            dtype = getattr(s, "dtype", None)
            if isinstance(s, np.ndarray) and is_float(dtype) and dtype != self.compute_dtype:
                raise ValueError(f"{type(self).__name__}: initial_state {sname!r} has dtype {dtype} but "
                                 f"the layer computes in {self.compute_dtype} (dtype={self.policy.name!r}); "
                                 f"tf_keras does not cast initial states and TensorFlow refuses the "
                                 f"mixed-dtype matmul: cast them to {self.compute_dtype}")

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
        if not is_float(x.dtype):
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
        x = x.astype(self.compute_dtype, copy=False)
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
        """(flat states, structure of the returned states)."""
        if initial_state is not None:
            flat, structure = self._flatten_states(initial_state, "initial_state")
            if self.dialect == "keras2" and self.stateful and self._carrying():
                # tf_keras _process_inputs: a stateful layer whose states are not all zero ignores
                # the initial_state it is given and carries on from its own states
                return self._carried(batch), self._default_structure()
            if self.dialect == "keras2" and not self.stateful:
                self._refuse_uncast_states(flat)
            return self._checked_arrays(flat, batch, "initial_state"), structure
        if self.stateful and self.states is not None:
            return self._carried(batch), self._default_structure()
        return self.cell.zero_states(batch), self._default_structure()

    def _carrying(self):
        return self.states is not None and any(np.any(s != 0) for s in self.states)

    def _carried(self, batch):
        if self.states[0].shape[0] != batch:
            raise ValueError(
                f"{type(self).__name__}: stateful layer was used with batch size "
                f"{self.states[0].shape[0]}, got batch size {batch}; a stateful layer keeps one "
                f"state per sample, so the batch size cannot change (reset does not change it)")
        return self.states

    @property
    def _training_dropout(self):
        """(dropout, recurrent_dropout) that training=True would apply (nonzero means random)."""
        return self.dropout, self.recurrent_dropout

    def run(self, x, mask=None, initial_state=None, training=None):
        """Run the layer; return (output, final states in their returned structure)."""
        dropout, recurrent_dropout = self._training_dropout
        if training and (dropout or recurrent_dropout):
            raise ValueError(f"{type(self).__name__}: training=True with dropout={dropout}, "
                             f"recurrent_dropout={recurrent_dropout} is random; the reference "
                             f"models inference only")
        x, mask = self._prepare_inputs(x, mask)
        states, structure = self._initial_states(x.shape[0], initial_state)
        if x.shape[0] == 0:
            # an empty batch has empty outputs of the usual shapes (tf_keras; Keras 3 SimpleRNN/GRU)
            outputs = np.zeros((0, x.shape[1], self.units), self.compute_dtype)
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
        return output, self._pack_states(final, structure)

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

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)


class LSTM(RecurrentLayer):
    cell_class = LSTMCell

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         cell_options={"recurrent_activation": recurrent_activation}, **kwargs)


class GRU(RecurrentLayer):
    cell_class = GRUCell

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         cell_options={"recurrent_activation": recurrent_activation,
                                       "reset_after": reset_after}, **kwargs)

    @property
    def reset_after(self):
        return self.cell.reset_after
