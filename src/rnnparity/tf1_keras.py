"""Converters between TF1 legacy cells and Keras recurrent layers (weights re-laid out).

    name, config, weights = tf1_to_keras(tf1_cell)        # a rnnparity.tf1 cell or a built TF cell
    layer = getattr(keras.layers, name)(**config); layer.build((None, None, input_depth))
    layer.set_weights(weights)

    name, config, weights = keras_to_tf1("LSTM", keras_layer.get_config(), keras_layer.get_weights())

What the conversion does (docs/tf1.md has measured repros):
- TF1 has one kernel over ``[x, h]``: its first ``input_depth`` rows are Keras' ``kernel``, the rest
  its ``recurrent_kernel``;
- LSTM gate blocks: TF1 ``i, j, f, o`` <-> Keras ``i, f, c, o`` (j is the candidate, Keras' c);
  TF1's ``forget_bias`` (added at run time) is folded into the forget block of the Keras bias;
- GRU: TF1 ``gates/kernel`` (r, u) + ``candidate/kernel`` <-> Keras ``reset_after=False`` (z, r, h),
  with Keras' update gate z = TF1's u;
- states: TF1 LSTMStateTuple(c, h) / concat([c, h]) <-> Keras [h, c] (``keras_states``/``tf1_state``).
Where the maths cannot match (peepholes, cell_clip, num_proj, GRU reset_after=True, a recurrent
activation other than sigmoid, dropout, go_backwards/stateful on a cell), a ValueError names the option.
"""
from __future__ import annotations

import numpy as np

from .reference import activations
from .reference.gates import split_gates
from .reference.gru import GRU_GATES
from .reference.lstm import LSTM_GATES
from .reference.tf1_nn import (DIALECT, TF1_GRU_CANDIDATE, TF1_GRU_GATES, TF1_LSTM_GATES, LegacyCell, 
                            LSTMStateTuple)

# Keras gate name -> TF1 gate name holding the same maths.
KERAS_TO_TF1_LSTM = {"i": "i", "f": "f", "c": "j", "o": "o"}
KERAS_TO_TF1_GRU = {"z": "u", "r": "r", "h": "c"}
TARGETS = ("keras3", "tf_keras")
_KERAS_CLASS = {"BasicRNNCell": "SimpleRNN", "GRUCell": "GRU", "BasicLSTMCell": "LSTM", "LSTMCell": "LSTM"}


def _join(blocks: dict, order):
    return np.concatenate([blocks[g] for g in order], axis=-1)


def _check_activation(name, target, option="activation"):
    """TF1 cells resolve activation strings through Keras 2; refuse names that mean other maths in the
    target Keras (e.g. hard_sigmoid is clip(0.2x+0.5) in Keras 2 but relu6(x+3)/6 in Keras 3)."""
    fn2 = activations.get(name, DIALECT, option)
    if target == "keras3" and name is not None:
        fn3 = activations.get(name, "keras3", option)
        if fn3 is not fn2:
            raise ValueError(f"{option}={name!r} means different maths in Keras 3 than in the TF1 cell "
                             f"(which resolves it through Keras 2); convert to target='tf_keras' instead")
    return name


def tf1_to_keras(cell, target="keras3"):
    """(Keras class name, config, weights) computing the same step as a TF1 cell.

    ``cell``: a rnnparity.tf1 cell, or a built TF legacy cell (read through rnnparity.tf1.cell_from_tf).
    The config asks for return_sequences and return_state so one call returns everything TF1 does."""
    if target not in TARGETS:
        raise ValueError(f"tf1_to_keras: target must be one of {TARGETS}, got {target!r}")
    if not isinstance(cell, LegacyCell):
        from .tf1 import cell_from_tf

        cell = cell_from_tf(cell)
    cls = type(cell).__name__
    if not cell.built:
        raise ValueError(f"tf1_to_keras: the {cls} has no weights; set_weights first")
    unmatched = {option: getattr(cell, option, None) for option in ("use_peepholes", "cell_clip", "num_proj")}
    for option, value in unmatched.items():
        if value not in (None, False):
            raise ValueError(f"tf1_to_keras: LSTMCell {option}={value!r} has no Keras LSTM equivalent "
                             f"(Keras LSTM has no peepholes, no cell clipping and no projection)")
    config = {"units": cell.num_units, "activation": _check_activation(cell.activation_name, target),
              "use_bias": True, "return_sequences": True, "return_state": True, "dtype": cell.dtype.name}
    d = cell.input_depth
    if cls == "BasicRNNCell":
        weights = [cell.kernel[:d], cell.kernel[d:], cell.bias]
    elif cls == "GRUCell":
        config.update(recurrent_activation="sigmoid", reset_after=False)
        gk, gb = split_gates(cell.gates_kernel, TF1_GRU_GATES), split_gates(cell.gates_bias, TF1_GRU_GATES)
        kernel = {**gk, TF1_GRU_CANDIDATE[0]: cell.candidate_kernel}
        bias = {**gb, TF1_GRU_CANDIDATE[0]: cell.candidate_bias}
        order = [KERAS_TO_TF1_GRU[g] for g in GRU_GATES]
        w = _join(kernel, order)
        weights = [w[:d], w[d:], _join(bias, order)]
    else:  # BasicLSTMCell, LSTMCell
        config.update(recurrent_activation="sigmoid", unit_forget_bias=False)
        k, b = split_gates(cell.kernel, TF1_LSTM_GATES), split_gates(cell.bias, TF1_LSTM_GATES)
        b["f"] = b["f"] + np.asarray(cell.forget_bias, cell.dtype)  # TF1 adds forget_bias at run time
        order = [KERAS_TO_TF1_LSTM[g] for g in LSTM_GATES]
        w = _join(k, order)
        weights = [w[:d], w[d:], _join(b, order)]
    return _KERAS_CLASS[cls], config, [np.ascontiguousarray(a) for a in weights]


def keras_to_tf1(class_name, config, weights, *, forget_bias=0.0, state_is_tuple=True,
                 lstm_class="LSTMCell"):
    """(TF1 cell class name, TF1 constructor kwargs, weights in the TF cell's ``weights`` order)
    computing the same step as a Keras SimpleRNN, LSTM or GRU(reset_after=False) layer.

    ``forget_bias`` is subtracted from the Keras forget bias so the TF1 cell's run-time addition gives
    it back (0.0, the default, keeps the bias bit-exact). ``use_bias=False`` becomes zero biases."""
    units = config["units"]
    for option, ok in (("go_backwards", False), ("stateful", False)):
        if config.get(option, ok) != ok:
            raise ValueError(f"keras_to_tf1: {class_name} {option}={config[option]!r} is layer behaviour a "
                             f"TF1 cell does not have (use reverse_sequence / bidirectional_dynamic_rnn, "
                             f"or carry the state yourself)")
    for option in ("dropout", "recurrent_dropout"):
        if config.get(option, 0.0):
            raise ValueError(f"keras_to_tf1: {class_name} {option}={config[option]!r}: training-mode dropout "
                             f"is not converted (TF1 needs a DropoutWrapper)")
    activation = config.get("activation", "tanh")
    if activation is not None and not isinstance(activation, str):
        raise ValueError(f"keras_to_tf1: {class_name} activation={activation!r} is not a built-in name")
    activations.get(activation, DIALECT, "activation")
    if class_name in ("LSTM", "GRU"):
        recurrent = config.get("recurrent_activation", "sigmoid")
        if recurrent != "sigmoid":
            raise ValueError(f"keras_to_tf1: {class_name} recurrent_activation={recurrent!r}: TF1 cells "
                             f"hard-code sigmoid gates")
    weights = [np.asarray(w) for w in weights]
    use_bias = config.get("use_bias", True)
    expected = 3 if use_bias else 2
    if len(weights) != expected:
        raise ValueError(f"keras_to_tf1: {class_name}(use_bias={use_bias}) has {expected} weight arrays "
                         f"(kernel, recurrent_kernel{', bias' if use_bias else ''}), got {len(weights)}")
    kernel, recurrent = weights[0], weights[1]
    w = np.concatenate([kernel, recurrent], axis=0)  # TF1's kernel over [x, h]
    dtype = kernel.dtype
    tf1_config = {"num_units": units, "activation": activation}
    if class_name == "SimpleRNN":
        bias = weights[2] if use_bias else np.zeros((units,), dtype)
        return "BasicRNNCell", tf1_config, [w, bias]
    if class_name == "GRU":
        if config.get("reset_after", True):
            raise ValueError("keras_to_tf1: GRU reset_after=True (the Keras default) applies the reset gate "
                             "after the recurrent matmul, with a second bias; TF1's GRUCell applies it "
                             "before (reset_after=False). The maths differ; no exact conversion exists")
        bias = weights[2] if use_bias else np.zeros((3 * units,), dtype)
        kb, bb = split_gates(w, GRU_GATES), split_gates(bias, GRU_GATES)
        tf1_k = {KERAS_TO_TF1_GRU[g]: kb[g] for g in GRU_GATES}
        tf1_b = {KERAS_TO_TF1_GRU[g]: bb[g] for g in GRU_GATES}
        return "GRUCell", tf1_config, [_join(tf1_k, TF1_GRU_GATES), _join(tf1_b, TF1_GRU_GATES),
                                       tf1_k["c"], tf1_b["c"]]
    if class_name == "LSTM":
        if lstm_class not in ("LSTMCell", "BasicLSTMCell"):
            raise ValueError(f"keras_to_tf1: lstm_class must be 'LSTMCell' or 'BasicLSTMCell', got {lstm_class!r}")
        bias = weights[2] if use_bias else np.zeros((4 * units,), dtype)
        kb, bb = split_gates(w, LSTM_GATES), split_gates(bias, LSTM_GATES)
        tf1_k = {KERAS_TO_TF1_LSTM[g]: kb[g] for g in LSTM_GATES}
        tf1_b = {KERAS_TO_TF1_LSTM[g]: bb[g] for g in LSTM_GATES}
        tf1_b["f"] = tf1_b["f"] - np.asarray(forget_bias, dtype)
        tf1_config.update(forget_bias=float(forget_bias), state_is_tuple=state_is_tuple)
        return lstm_class, tf1_config, [_join(tf1_k, TF1_LSTM_GATES), _join(tf1_b, TF1_LSTM_GATES)]
    raise ValueError(f"keras_to_tf1: {class_name} has no TF1 cell equivalent (SimpleRNN, LSTM, GRU only)")


def keras_layer_to_tf1(layer, **kwargs):
    """keras_to_tf1 for a live Keras 3 or tf_keras layer (read through get_config/get_weights)."""
    return keras_to_tf1(type(layer).__name__, layer.get_config(), layer.get_weights(), **kwargs)


def keras_states(tf1_state):
    """TF1 state -> Keras' state list: LSTMStateTuple(c, h) -> [h, c]; one array -> [array].
    A concatenated LSTM state (state_is_tuple=False) is concat([c, h], 1): split it at num_units."""
    if isinstance(tf1_state, tuple) and hasattr(tf1_state, "_fields"):
        return [tf1_state.h, tf1_state.c]
    return [np.asarray(tf1_state)]


def tf1_state(keras_state_list, state_is_tuple=True):
    """Keras' state list -> TF1 state: [h, c] -> LSTMStateTuple(c, h) (or concat([c, h], 1));
    [h] -> h."""
    if len(keras_state_list) == 1:
        return np.asarray(keras_state_list[0])
    h, c = keras_state_list
    return LSTMStateTuple(c, h) if state_is_tuple else np.concatenate([c, h], axis=1)
