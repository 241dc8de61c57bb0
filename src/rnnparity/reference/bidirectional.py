"""Bidirectional wrapper, Keras semantics.

keras/src/layers/rnn/bidirectional.py; tf_keras/src/layers/rnn/bidirectional.py.
- the backward layer is a copy of the layer's config with go_backwards flipped (Keras 2) or set to
  True (Keras 3, which therefore rejects a wrapped layer that already has go_backwards=True), or
  `backward_layer`;
- the wrapper has its own dtype (float32 unless given): inputs are cast to it before the sub-layers
  cast them to theirs (both Keras versions), and Keras 3 casts the two outputs to it before merging;
- both sub-layers get zero_output_for_mask = return_sequences (both Keras versions force it);
- with return_sequences the backward output is flipped back along time before merging, *always*,
  even when the wrapped layer itself had go_backwards=True;
- weights are forward weights then backward weights; states are forward states then backward states;
- initial_state is split in half: the first half for the forward layer; Keras 3 casts the initial
  states to the wrapper's dtype too (so float64 sub-layers start from float32-rounded states).
"""
from __future__ import annotations

import numpy as np

from .layer import RecurrentLayer
from .precision import is_float, policy

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def restore_time_order(y_rev, axis):
    """The backward layer's sequence comes in processing order (last input step first): flip it."""
    return np.flip(y_rev, axis=axis)


def merge_directions(mode, y, y_rev):
    """Bidirectional's merge of the forward and the (re-reversed) backward outputs."""
    if mode == "concat":
        return np.concatenate([y, y_rev], axis=-1)
    if mode == "sum":
        return y + y_rev
    if mode == "mul":
        return y * y_rev
    if mode == "ave":
        return (y + y_rev) / np.asarray(2, y.dtype)
    raise AssertionError(mode)


def _autocast(a, dtype):
    if isinstance(a, (list, tuple)):  # one stacked cell's states
        return type(a)(_autocast(s, dtype) for s in a)
    a = np.asarray(a)
    return a.astype(dtype) if is_float(a.dtype) else a


class Bidirectional:
    def __init__(self, layer, merge_mode="concat", backward_layer=None, weights=None,
                 dtype="float32", **options):
        if not isinstance(layer, RecurrentLayer):
            raise ValueError(f"Bidirectional: `layer` must be a rnnparity SimpleRNN, LSTM, GRU or RNN, "
                             f"got {type(layer).__name__}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one "
                             f"of {MERGE_MODES}")
        unknown = {k: v for k, v in options.items() if k not in ("name", "trainable")}
        if unknown:
            raise ValueError(f"Unrecognized keyword arguments passed to Bidirectional: {unknown}")
        self.dialect = layer.dialect
        self.merge_mode = merge_mode
        self.policy = policy(dtype, "Bidirectional")
        self.compute_dtype = self.policy.compute
        self.dtype = self.compute_dtype.name
        fw_config = layer.get_config()
        self.forward_layer = type(layer).from_config({**fw_config,
                                                       "zero_output_for_mask": layer.return_sequences})
        if backward_layer is None:
            backwards = True if self.dialect == "keras3" else not layer.go_backwards
            self.backward_layer = type(layer).from_config(
                {**fw_config, "go_backwards": backwards, "zero_output_for_mask": layer.return_sequences})
            self._verify_backward(layer, self.backward_layer)
        else:
            if not isinstance(backward_layer, RecurrentLayer):
                raise ValueError(f"Bidirectional: `backward_layer` must be a rnnparity SimpleRNN, "
                                 f"LSTM, GRU or RNN, got {type(backward_layer).__name__}")
            self._verify_backward(layer, backward_layer)
            self.backward_layer = type(backward_layer).from_config(
                {**backward_layer.get_config(), "zero_output_for_mask": backward_layer.return_sequences})
            if backward_layer.get_weights():
                self.backward_layer.set_weights(backward_layer.get_weights())
        if layer.get_weights():
            self.forward_layer.set_weights(layer.get_weights())
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self.time_major = layer.time_major
        if weights is not None:
            self.set_weights(weights)

    @staticmethod
    def _verify_backward(layer, backward):
        if layer.go_backwards == backward.go_backwards:
            raise ValueError("Forward layer and backward layer should have different `go_backwards` "
                             f"value. Received: forward go_backwards={layer.go_backwards}, backward "
                             f"go_backwards={backward.go_backwards}")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(layer, attr) != getattr(backward, attr):
                raise ValueError(f"Forward layer and backward layer are expected to have the same "
                                 f"value for attribute `{attr}`, got {getattr(layer, attr)} for "
                                 f"forward layer and {getattr(backward, attr)} for backward layer")

    # -- weights and state ---------------------------------------------------------------------
    def get_weights(self):
        return self.forward_layer.get_weights() + self.backward_layer.get_weights()

    def set_weights(self, weights):
        weights = list(weights)
        n_fw, n_bw = self.forward_layer.n_weights, self.backward_layer.n_weights
        if len(weights) != n_fw + n_bw:
            raise ValueError(f"Bidirectional: expected {n_fw + n_bw} weight arrays ({n_fw} forward "
                             f"then {n_bw} backward), got {len(weights)}")
        self.forward_layer.set_weights(weights[:n_fw])
        self.backward_layer.set_weights(weights[n_fw:])

    @property
    def states(self):
        if self.forward_layer.states is None:
            return None
        return self.forward_layer.states + self.backward_layer.states

    def reset_states(self, states=None):
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        states = list(states)
        half = len(states) // 2
        self.forward_layer.reset_states(states[:half])
        self.backward_layer.reset_states(states[half:])

    reset_state = reset_states

    def get_config(self):
        return {"layer": self.forward_layer.get_config(), "merge_mode": self.merge_mode,
                "dtype": self.policy.name,
                "backward_layer": self.backward_layer.get_config()}

    # -- call ----------------------------------------------------------------------------------
    def __call__(self, x, mask=None, initial_state=None, training=None):
        fw_state = bw_state = None
        if initial_state is not None:
            if isinstance(initial_state, np.ndarray):
                initial_state = [initial_state]
            initial_state = list(initial_state)
            per_layer = self.forward_layer.n_state_entries
            if len(initial_state) != 2 * per_layer:
                raise ValueError(f"Bidirectional: initial_state must hold {2 * per_layer} entries "
                                 f"(forward states then backward states), got {len(initial_state)}")
            if self.dialect == "keras3":
                # Keras 3 autocasts every floating tensor argument of the call to the wrapper's dtype,
                # initial states included: float64 sub-layers start from float32-rounded states.
                initial_state = [_autocast(s, self.compute_dtype) for s in initial_state]
            fw_state, bw_state = initial_state[:per_layer], initial_state[per_layer:]
        x = _autocast(x, self.compute_dtype)  # the wrapper's own autocast
        y, fw_states = self.forward_layer.run(x, mask=mask, initial_state=fw_state, training=training)
        y_rev, bw_states = self.backward_layer.run(x, mask=mask, initial_state=bw_state,
                                                   training=training)
        if self.dialect == "keras3":
            y, y_rev = y.astype(self.compute_dtype), y_rev.astype(self.compute_dtype)
        if self.return_sequences:
            y_rev = restore_time_order(y_rev, axis=0 if self.time_major else 1)
        seq = tuple if self.dialect == "keras3" else list
        output = [y, y_rev] if self.merge_mode is None else [merge_directions(self.merge_mode, y, y_rev)]
        if self.return_state:
            return seq(output + list(fw_states) + list(bw_states))
        return seq(output) if self.merge_mode is None else output[0]

    def __repr__(self):
        return (f"rnnparity.Bidirectional({self.forward_layer!r}, merge_mode={self.merge_mode!r}, "
                f"backward_layer={self.backward_layer!r})")
