"""The `tf1` target: `tf.compat.v1.nn` RNN functions with the legacy cells, run eagerly.

In TF >= 2.16 `tf.compat.v1.nn.rnn_cell.*` is routed to Keras 3, which has no legacy cells ("`LSTMCell`
is not available with Keras 3"). The same classes live in tf_keras, `tf_keras.src.layers.rnn.legacy_cells`
(exported as `tf.compat.v1.nn.rnn_cell` when TF_USE_LEGACY_KERAS=1). Importing that module directly needs
no environment variable, so Keras 3 and tf_keras coexist in one process. The functions themselves
(`tf.compat.v1.nn.dynamic_rnn`, ...) are TensorFlow's and run eagerly.

The target protocol (targets/base.py): ``record(spec, plan, ...)`` takes a plan.Tf1Spec (the function,
its cell spec ``{"class": "LSTMCell", "config": {TF constructor kwargs}}``, dtype, time_major) and a
plan of one Call (x as the function takes it, ``sequence_length``, ``initial_state`` the state parts
per cell in TF's order), and returns a Recording whose outputs are TF's result flattened in TF's
structure order (rnnparity.reference.tf1_call.flatten_result names them). The reference is built from
the recording (there is no Keras layer to copy it from). Nothing here imports TensorFlow at import time.
"""
from __future__ import annotations

import importlib
import platform
import warnings
from functools import cached_property

import numpy as np

from ..plan import Outcome, Recording, Tf1Spec, error_tuple
from ..reference.tf1_call import BIDIRECTIONAL, CELL_NAMES, FUNCTIONS, flatten_result
from ._quiet import quiet_tensorflow
from .base import Target, execute, initial_weights

CELL_CLASSES = ("BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell")
LEGACY_CELLS_MODULE = "tf_keras.src.layers.rnn.legacy_cells"


class Tf1Target(Target):
    name = target = "tf1"
    dialect = "keras2"  # the legacy cells resolve activation names through Keras 2

    @cached_property
    def tf(self):
        quiet_tensorflow()
        tf = importlib.import_module("tensorflow")
        tf.get_logger().setLevel("ERROR")  # the functions log a deprecation notice on every call
        return tf

    @cached_property
    def legacy_cells(self):
        self.tf  # noqa: B018 - quiet TF first
        return importlib.import_module(LEGACY_CELLS_MODULE)

    def versions(self) -> dict:
        tf_keras = importlib.import_module("tf_keras")
        return {"target": self.target, "tensorflow": self.tf.__version__,
                "tf_keras": getattr(tf_keras, "__version__", "?"), "cells": LEGACY_CELLS_MODULE,
                "numpy": np.__version__, "python": platform.python_version(),
                "platform": platform.platform()}

    # -- cells ---------------------------------------------------------------------------------
    def make_cell(self, spec, dtype, input_depth, name=None):
        """A built legacy cell for a spec (weights from TF's initializers: set them afterwards)."""
        cls = spec["class"]
        if cls not in CELL_CLASSES:
            raise ValueError(f"tf1: unknown cell class {cls!r}; expected one of {CELL_CLASSES}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cell = getattr(self.legacy_cells, cls)(**spec["config"], dtype=dtype, name=name)
            cell.build(self.tf.TensorShape([None, input_depth]))
        return cell

    def get_weights(self, cell):
        return [np.asarray(w.numpy()) for w in cell.weights]

    def set_weights(self, cell, weights):
        if len(weights) != len(cell.weights):
            raise ValueError(f"tf1: {type(cell).__name__} has {len(cell.weights)} weights, got {len(weights)}")
        for variable, value in zip(cell.weights, weights):
            variable.assign(np.asarray(value, dtype=variable.dtype.as_numpy_dtype))

    def weight_names(self, cell):
        return [w.name.split(":")[0] for w in cell.weights]

    def state_structure(self, cell, parts):
        """TF's state for a cell from its parts (c, h) or (h,): LSTMStateTuple(c, h) when the cell's
        state_size is a tuple, else one tensor (concat([c, h], 1) for state_is_tuple=False)."""
        tensors = [self.tf.convert_to_tensor(p) for p in parts]
        if isinstance(cell.state_size, tuple):
            return self.legacy_cells.LSTMStateTuple(*tensors)
        return tensors[0] if len(tensors) == 1 else self.tf.concat(tensors, 1)

    # -- the protocol ----------------------------------------------------------------------------
    def record(self, spec, plan, seed, case_id, input_shape, time_axis=1, on_built=None,
               weights=None) -> Recording:
        """Build the cells of ``spec`` (a Tf1Spec or its JSON form) for inputs of ``input_shape``,
        give them the case's weights and run the plan's call(s). ``on_built`` is not called: there is
        no Keras layer to copy a reference from (the runner builds it from the recording)."""
        spec = Tf1Spec.from_dict(spec)
        rec = Recording(case_id, spec, plan, None, Outcome(), self.dialect, time_axis)
        try:
            n = 2 if spec.function in BIDIRECTIONAL else 1
            cells = [self.make_cell(spec.cell, spec.dtype, input_shape[-1], name=CELL_NAMES[i])
                     for i in range(n)]
            rec.weights = initial_weights([w.shape for c in cells for w in c.weights], seed, spec.dtype,
                                          weights)
            per_cell = len(cells[0].weights)
            for i, cell in enumerate(cells):
                self.set_weights(cell, rec.weights[i * per_cell:(i + 1) * per_cell])
        except Exception as exc:  # noqa: BLE001 - a rejected configuration is a case too
            rec.outcome.error = error_tuple(-1, exc)
            return rec
        rec.outcome = execute(lambda step: self.call(spec, cells, step), no_reset, plan)
        return rec

    def call(self, spec: Tf1Spec, cells, step) -> list:
        """One Call of the plan: TF's result, flattened in TF's structure order."""
        if step.mask is not None:
            raise ValueError(f"tf1: {spec.function} takes no mask; the TF1 functions take sequence_length")
        states = None if step.initial_state is None else \
            [self.state_structure(c, parts) for c, parts in zip(cells, step.initial_state)]
        bidirectional = spec.function in BIDIRECTIONAL
        result = self.run(spec.function, tuple(cells) if bidirectional else cells[0], step.x,
                          sequence_length=step.sequence_length,
                          initial_states=states if bidirectional or states is None else states[0],
                          dtype=spec.dtype if states is None else None, time_major=spec.time_major)
        return [a for _, a in flatten_result(spec.function, result)]

    # -- running -------------------------------------------------------------------------------
    def run(self, function, cells, inputs, *, sequence_length=None, initial_states=None, dtype=None,
            time_major=False):
        """Run ``tf.compat.v1.nn.<function>`` eagerly.

        ``cells``: one cell, or (cell_fw, cell_bw) for the bidirectional functions; ``inputs``:
        (batch, time, features) or (time, batch, features) with time_major, as one array (the static
        functions get it unstacked into a list along time); ``initial_states``: None or a TF state
        structure per cell. Returns TF's structure with every tensor turned into a NumPy array.
        """
        if function not in FUNCTIONS:
            raise ValueError(f"tf1: unknown function {function!r}; expected one of {FUNCTIONS}")
        tf = self.tf
        nn = tf.compat.v1.nn
        x = tf.convert_to_tensor(np.asarray(inputs))
        kwargs = {"dtype": dtype}
        if sequence_length is not None:
            kwargs["sequence_length"] = tf.convert_to_tensor(np.asarray(sequence_length))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if function in ("static_rnn", "static_bidirectional_rnn"):
                if time_major:
                    raise ValueError(f"tf1: {function} has no time_major argument")
                x = tf.unstack(x, axis=1)
            else:
                kwargs["time_major"] = time_major
            if function in ("static_rnn", "dynamic_rnn"):
                if initial_states is not None:
                    kwargs["initial_state"] = initial_states
                out = getattr(nn, function)(cells, x, **kwargs)
            else:
                cell_fw, cell_bw = cells
                if initial_states is not None:
                    kwargs["initial_state_fw"], kwargs["initial_state_bw"] = initial_states
                out = getattr(nn, function)(cell_fw, cell_bw, x, **kwargs)
        return to_numpy(out)


def to_numpy(out):
    """A TF structure -> the same structure (lists, tuples, LSTMStateTuple kept) of NumPy arrays."""
    if isinstance(out, tuple) and hasattr(out, "_fields"):
        return type(out)(*(to_numpy(o) for o in out))
    if isinstance(out, (list, tuple)):
        return type(out)(to_numpy(o) for o in out)
    return np.asarray(out)


def no_reset():
    raise ValueError("tf1: the TF1 functions keep no state between calls: there is nothing to reset")


ADAPTER = Tf1Target()
