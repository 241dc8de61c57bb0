"""TF1 recurrent APIs in NumPy: ``tf.compat.v1.nn`` functions and legacy cells, with TF's signatures
and return structures.

    from rnnparity import tf1
    cell = tf1.cell_from_tf(tf_cell)               # config + weights of a built TF legacy cell
    outputs, state = tf1.dynamic_rnn(cell, x, sequence_length=lengths, dtype="float32")
    state.c, state.h                               # LSTMStateTuple(c, h), like TF

Or build a cell yourself and load the TF cell's weights in its ``weights`` order:
``tf1.LSTMCell(4, use_peepholes=True).set_weights([kernel, bias, w_f_diag, w_i_diag, w_o_diag])``.
Nothing here imports TensorFlow: a live cell is read through ``get_config()`` and ``weights`` only.
"""
from __future__ import annotations

import numpy as np

from .reference.tf1_nn import (CELL_CLASSES, TF1_GRU_CANDIDATE, TF1_GRU_GATES, TF1_LSTM_GATES, 
                            BasicLSTMCell, BasicRNNCell, GRUCell, LegacyCell, LSTMCell, LSTMStateTuple,
                            bidirectional_dynamic_rnn, dynamic_rnn, reverse_sequence,
                            static_bidirectional_rnn, static_rnn)

__all__ = ["BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "LSTMStateTuple", "LegacyCell",
           "static_rnn", "dynamic_rnn", "static_bidirectional_rnn", "bidirectional_dynamic_rnn",
           "reverse_sequence", "cell_from_tf", "is_tf1_cell", "TF1_LSTM_GATES", "TF1_GRU_GATES", "TF1_GRU_CANDIDATE"]

# Config keys of the TF cells that carry no inference meaning once the weights are copied.
_NO_EFFECT = {"name", "trainable", "dtype", "reuse", "initializer", "kernel_initializer", "bias_initializer"}
# Config keys the reference cells take (besides num_units and activation).
_MODELLED = {
    "BasicRNNCell": set(),
    "GRUCell": set(),
    "BasicLSTMCell": {"forget_bias", "state_is_tuple"},
    "LSTMCell": {"forget_bias", "state_is_tuple", "use_peepholes", "cell_clip", "num_proj", "proj_clip"},
}
_LEGACY_MODULES = ("tf_keras.src.layers.rnn.legacy_cells", "keras.src.layers.rnn.legacy_cells",
                   "tensorflow.python.ops.rnn_cell_impl",
                   "tensorflow.python.keras.layers.legacy_rnn.rnn_cell_impl")


def is_tf1_cell(obj) -> bool:
    """A rnnparity.tf1 cell, or a TF legacy cell or cell wrapper (tf.compat.v1.nn.rnn_cell.*)."""
    return isinstance(obj, LegacyCell) or type(obj).__module__ in _LEGACY_MODULES


def _activation_name(cls_name, value):
    """get_config() serialises tf.tanh, tf.nn.relu, ... to their Keras 2 names; keep strings only."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):  # serialised custom object / unknown function
        raise ValueError(f"cell_from_tf: {cls_name} activation is a custom callable (get_config() "
                         f"serialises it as a {sorted(value)} dict); only built-in activations "
                         f"(tf.tanh, tf.nn.relu, 'tanh', ...) are modelled")
    name = getattr(value, "__name__", None)
    module = getattr(value, "__module__", "") or ""
    if name and module.startswith(("tensorflow", "tf_keras", "keras")):
        return name
    raise ValueError(f"cell_from_tf: {cls_name} activation={value!r} is a custom callable; only built-in "
                     f"activations are modelled")


def cell_from_tf(tf_cell) -> LegacyCell:
    """A reference cell with the configuration and weights of a built TF legacy cell
    (tf.compat.v1.nn.rnn_cell.{BasicRNNCell, BasicLSTMCell, LSTMCell, GRUCell}, from tf_keras)."""
    cls_name = type(tf_cell).__name__
    module = type(tf_cell).__module__
    if cls_name not in CELL_CLASSES or module not in _LEGACY_MODULES:
        raise ValueError(f"cell_from_tf: {module}.{cls_name} is not a TF legacy cell the reference models "
                         f"({', '.join(CELL_CLASSES)}); wrappers (Dropout/Residual/MultiRNNCell) and "
                         f"Keras cells are not supported")
    config = dict(tf_cell.get_config())
    for key in ("num_unit_shards", "num_proj_shards"):
        if config.pop(key, None) is not None:
            raise ValueError(f"cell_from_tf: {cls_name} {key} (partitioned variables) is not modelled")
    unknown = set(config) - _NO_EFFECT - _MODELLED[cls_name] - {"num_units", "activation"}
    if unknown:
        raise ValueError(f"cell_from_tf: {cls_name} options {sorted(unknown)} are not modelled")
    kwargs = {key: config[key] for key in _MODELLED[cls_name] if key in config}
    kwargs["activation"] = _activation_name(cls_name, config.get("activation"))
    weights = list(getattr(tf_cell, "weights", []) or [])
    if not weights:
        raise ValueError(f"cell_from_tf: {cls_name} is not built (no weights yet); call it once, or "
                         f"cell.build((None, input_depth)), before copying it")
    arrays = [np.asarray(w.numpy() if hasattr(w, "numpy") else w) for w in weights]
    dtype = getattr(tf_cell, "dtype", None) or arrays[0].dtype
    cell = CELL_CLASSES[cls_name](config["num_units"], **kwargs, dtype=np.dtype(str(dtype)).name,
                                  name=config.get("name"))
    cell.set_weights(arrays)
    return cell
