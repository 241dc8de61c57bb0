"""One `tf.compat.v1.nn` call as the common runner drives it, and TF's return structures flattened.

    ref = Tf1Call("dynamic_rnn", {"class": "LSTMCell", "config": {"num_units": 4}}, "float32")
    ref.set_weights(weights)                   # every cell's weights, forward cell first
    flat = ref(x, sequence_length=lengths, initial_state=[[c, h]])   # TF's flattened order

Outputs are flattened in TF's structure order with readable names (`flatten_result`): ``outputs[3]``
(static functions: a list of T arrays), ``outputs`` (dynamic), ``outputs[0]``/``outputs[1]``
(bidirectional_dynamic_rnn: forward/backward), ``state.c``/``state.h`` (LSTMStateTuple), ``state``
(one array: BasicRNN, GRU, or an LSTM with state_is_tuple=False, concat([c, h], 1)),
``output_state_fw.c``, ``output_states[1].h``... Pure NumPy, like the rest of reference/.
"""
from __future__ import annotations

import numpy as np

from .tf1_nn import CELL_CLASSES
from .tf1_nn import FUNCTIONS as FUNCTION_OF

FUNCTIONS = ("static_rnn", "dynamic_rnn", "static_bidirectional_rnn", "bidirectional_dynamic_rnn")
DYNAMIC = ("dynamic_rnn", "bidirectional_dynamic_rnn")  # the functions with a time_major argument
BIDIRECTIONAL = ("static_bidirectional_rnn", "bidirectional_dynamic_rnn")
TOP_NAMES = {
    "static_rnn": ("outputs", "state"),
    "dynamic_rnn": ("outputs", "state"),
    "static_bidirectional_rnn": ("outputs", "output_state_fw", "output_state_bw"),
    "bidirectional_dynamic_rnn": ("outputs", "output_states"),
}
CELL_NAMES = ("fw", "bw")  # the cells' names (TF's variable scopes), forward cell first


def flatten(value, name):
    """[(name, array)] in TF's structure order; namedtuples (LSTMStateTuple) give ``.c``/``.h``."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return [item for field, v in zip(value._fields, value) for item in flatten(v, f"{name}.{field}")]
    if isinstance(value, (list, tuple)):
        return [item for i, v in enumerate(value) for item in flatten(v, f"{name}[{i}]")]
    return [(name, np.asarray(value))]


def flatten_result(function, result):
    top = TOP_NAMES[function]
    if not isinstance(result, tuple) or len(result) != len(top):
        raise ValueError(f"{function} returned {type(result).__name__} of length "
                         f"{len(result) if isinstance(result, (list, tuple)) else '-'}; TF returns a "
                         f"{len(top)}-tuple {top}")
    return [item for name, value in zip(top, result) for item in flatten(value, name)]


class Tf1Call:
    """The reference of one ``tf.compat.v1.nn.<function>`` call over legacy cells built from
    ``cell_spec`` (two, forward then backward, for the bidirectional functions)."""

    def __init__(self, function, cell_spec, dtype="float32", time_major=False):
        if function not in FUNCTIONS:
            raise ValueError(f"tf1: unknown function {function!r}; expected one of {FUNCTIONS}")
        if time_major and function not in DYNAMIC:
            raise ValueError(f"tf1: {function} has no time_major argument")
        cls = cell_spec["class"]
        if cls not in CELL_CLASSES:
            raise ValueError(f"tf1: unknown cell class {cls!r}; expected one of {tuple(CELL_CLASSES)}")
        self.function, self.dtype, self.time_major = function, np.dtype(dtype).name, time_major
        n = 2 if function in BIDIRECTIONAL else 1
        self.cells = [CELL_CLASSES[cls](**cell_spec["config"], dtype=self.dtype, name=CELL_NAMES[i])
                      for i in range(n)]

    @classmethod
    def from_spec(cls, spec) -> "Tf1Call":
        """From a tf1 spec (rnnparity.plan.Tf1Spec, read through its fields)."""
        return cls(spec.function, spec.cell, spec.dtype, spec.time_major)

    @property
    def bidirectional(self) -> bool:
        return self.function in BIDIRECTIONAL

    def split_weights(self, weights) -> list:
        """[weights of each cell] from the cells' weights, forward cell first."""
        n = len(self.cells[0].weight_specs(0))
        if len(weights) != n * len(self.cells):
            raise ValueError(f"tf1: {self.function} over {len(self.cells)} {type(self.cells[0]).__name__}"
                             f"(s) has {n * len(self.cells)} weight arrays, got {len(weights)}")
        return [list(weights[i * n:(i + 1) * n]) for i in range(len(self.cells))]

    def set_weights(self, weights):
        for cell, cell_weights in zip(self.cells, self.split_weights(list(weights))):
            cell.set_weights(cell_weights)

    def get_weights(self) -> list:
        return [w for cell in self.cells for w in cell.get_weights()]

    def result(self, x, initial_state=None, sequence_length=None):
        """The function's result in TF's structure. ``x``: one array, as the function takes it
        (unstacked along time here for the static functions); ``initial_state``: the state parts
        per cell in TF's order, or None for zeros (then ``dtype`` is passed, as TF needs)."""
        x = np.asarray(x)
        states = None if initial_state is None else \
            [c.pack_state(list(parts)) for c, parts in zip(self.cells, initial_state)]
        kwargs = {"dtype": None if states is not None else self.dtype, "sequence_length": sequence_length}
        if self.function in DYNAMIC:
            kwargs["time_major"] = self.time_major
        else:
            x = [x[:, t] for t in range(x.shape[1])]
        fn = FUNCTION_OF[self.function]
        if self.bidirectional:
            if states is not None:
                kwargs["initial_state_fw"], kwargs["initial_state_bw"] = states
            return fn(self.cells[0], self.cells[1], x, **kwargs)
        if states is not None:
            kwargs["initial_state"] = states[0]
        return fn(self.cells[0], x, **kwargs)

    def __call__(self, x, mask=None, initial_state=None, sequence_length=None) -> list:
        """The result's arrays in TF's flattened order (`flatten_result`)."""
        if mask is not None:
            raise ValueError(f"tf1: {self.function} takes no mask; the TF1 functions take sequence_length")
        return [a for _, a in flatten_result(self.function, self.result(x, initial_state, sequence_length))]

    def output_names(self, steps) -> list:
        """The names of the flattened outputs for inputs of ``steps`` timesteps (no weights needed)."""
        outputs = [np.zeros(0)] * steps
        states = [c.pack_state(c.zero_states(0)) for c in self.cells]
        result = {"static_rnn": lambda: (outputs, states[0]),
                  "dynamic_rnn": lambda: (outputs[0], states[0]),
                  "static_bidirectional_rnn": lambda: (outputs, *states),
                  "bidirectional_dynamic_rnn": lambda: ((outputs[0], outputs[0]), tuple(states)),
                  }[self.function]()
        return [name for name, _ in flatten_result(self.function, result)]
