"""Stacked cells: several cells run one after the other at every timestep, as one cell.

keras/src/layers/rnn/stacked_rnn_cells.py, tf_keras/src/layers/rnn/stacked_rnn_cells.py. `RNN([c1, c2])`
wraps the list in StackedRNNCells. At each step cell k reads the output of cell k-1 (cell 0 reads
the input) and the RNN's output is the last cell's. Weights are every cell's weights, cell by cell
(kernel, recurrent_kernel[, bias] each); states are every cell's states, cell by cell, grouped per
cell in the RNN's returned states (layer.py `_pack_states`).
"""
from __future__ import annotations

import numpy as np

from .cell import NO_EFFECT_OPTIONS, Cell, unknown_option_error


class StackedRNNCells:
    def __init__(self, cells, **options):
        cells = list(cells) if isinstance(cells, (list, tuple)) else cells
        if not isinstance(cells, list) or not cells:
            raise ValueError(f"StackedRNNCells: `cells` must be a non-empty list of rnnparity cells, "
                             f"got {cells!r}")
        for k, cell in enumerate(cells):
            if not isinstance(cell, Cell):
                raise TypeError(f"StackedRNNCells: cells[{k}] is a {type(cell).__name__}; the reference "
                                f"models the built-in SimpleRNNCell, LSTMCell and GRUCell only")
        self.dialect = cells[0].dialect
        if options.get("reverse_state_order"):
            raise ValueError("StackedRNNCells: reverse_state_order=True (deprecated in tf_keras, "
                             "absent from Keras 3) is not modelled")
        options.pop("reverse_state_order", None)
        unknown = {k: v for k, v in options.items() if k not in NO_EFFECT_OPTIONS and k != "dtype"}
        if unknown:
            raise unknown_option_error("StackedRNNCells", self.dialect, unknown)
        mixed = {(c.dialect, c.policy.name) for c in cells}
        if len(mixed) > 1:
            raise ValueError(f"StackedRNNCells: every cell must have the same dialect and dtype policy "
                             f"to be modelled, got {sorted(mixed)}")
        self.cells = cells
        self.policy = cells[0].policy
        self.dtype = cells[0].dtype
        self.STATE_NAMES = tuple(f"cell {k} {n}" for k, c in enumerate(cells) for n in c.STATE_NAMES)

    # -- shape of the states -------------------------------------------------------------------
    @property
    def units(self):
        return self.cells[-1].units

    @property
    def groups(self):
        """How many states each cell has, in order."""
        return tuple(len(c.STATE_NAMES) for c in self.cells)

    @property
    def state_units(self):
        return tuple(u for c in self.cells for u in c.state_units)

    def describe_states(self):
        return "; ".join(f"cell {k} {type(c).__name__}: [{', '.join(c.STATE_NAMES)}]"
                         for k, c in enumerate(self.cells))

    def zero_states(self, batch):
        return [s for c in self.cells for s in c.zero_states(batch)]

    # -- weights -------------------------------------------------------------------------------
    @property
    def n_weights(self):
        return sum(c.n_weights for c in self.cells)

    def set_weights(self, weights, owner="StackedRNNCells"):
        weights = list(weights)
        if len(weights) != self.n_weights:
            counts = ", ".join(f"{c.n_weights} for cell {k} ({type(c).__name__})"
                               for k, c in enumerate(self.cells))
            raise ValueError(f"{owner}: expected {self.n_weights} weight arrays ({counts}), got "
                             f"{len(weights)} with shapes {[getattr(w, 'shape', None) for w in weights]}")
        starts = [sum(c.n_weights for c in self.cells[:k]) for k in range(len(self.cells))]
        for k in range(1, len(self.cells)):  # checked before any cell takes its weights
            rows = np.shape(weights[starts[k]])[0] if np.ndim(weights[starts[k]]) else None
            if rows != self.cells[k - 1].units:
                raise ValueError(f"{owner}: cell {k} ({type(self.cells[k]).__name__}) got a kernel for "
                                 f"{rows} inputs, but cell {k - 1} outputs {self.cells[k - 1].units}")
        for k, (cell, i) in enumerate(zip(self.cells, starts)):
            cell.set_weights(weights[i:i + cell.n_weights], owner=f"{owner} cell {k} ({type(cell).__name__})")

    def get_weights(self):
        return [w for c in self.cells for w in c.get_weights()]

    @property
    def built(self):
        return all(c.built for c in self.cells)

    @property
    def input_dim(self):
        return self.cells[0].input_dim

    @property
    def kernel(self):
        return self.cells[0].kernel

    # -- maths ---------------------------------------------------------------------------------
    def project_inputs(self, x):
        """Only the first cell reads the inputs: its projection is hoisted out of the loop."""
        return self.cells[0].project_inputs(x)

    def step(self, x_t, states):
        output, new_states, i = x_t, [], 0
        for k, cell in enumerate(self.cells):
            n = len(cell.STATE_NAMES)
            projected = output if k == 0 else cell.project_step(output)
            output, cell_states = cell.step(projected, states[i:i + n])
            new_states += cell_states
            i += n
        return output, new_states

    # -- config --------------------------------------------------------------------------------
    def get_config(self):
        return {"cells": [cell_config(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config):
        return cls([cell_from_config(c) for c in config["cells"]])

    def __repr__(self):
        return f"rnnparity.StackedRNNCells([{', '.join(repr(c) for c in self.cells)}])"


def cell_config(cell):
    """{'class': name, 'config': {...}}: a cell or a stack, JSON-serialisable."""
    return {"class": type(cell).__name__, "config": cell.get_config()}


def cell_from_config(config):
    from .gru import GRUCell
    from .lstm import LSTMCell
    from .simple_rnn import SimpleRNNCell

    classes = {c.__name__: c for c in (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells)}
    name = config.get("class")
    if name not in classes:
        raise ValueError(f"cell class {name!r} is not modelled; expected one of {sorted(classes)}")
    return classes[name].from_config(config["config"])
