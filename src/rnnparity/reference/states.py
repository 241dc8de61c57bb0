"""The structure of a layer's states as Keras takes and returns them.

One cell (SimpleRNN, LSTM, GRU, RNN(cell)): a flat list, one array per state ([h] or [h, c]).
Stacked cells: one entry per cell, each a list or tuple of that cell's states, or a bare array for a
one-state cell. Both Keras versions return the final states in the structure of the initial states
they were given; without initial states, Keras 3 uses a list per cell (its cells' get_initial_state
return lists) and tf_keras a bare array for a one-state cell (keras/src/layers/rnn/stacked_rnn_cells.py,
tf_keras/src/layers/rnn/stacked_rnn_cells.py; backend.rnn packs the new states like the initial ones).
Inside the time loop the states are always one flat list, every cell's in order.
"""
from __future__ import annotations

import numpy as np


def flatten(states, cell, owner, what):
    """(flat list of states, structure): ``structure`` is None for one cell, else one entry per
    stacked cell, the container type of that cell's states or None for a bare array."""
    names = cell.STATE_NAMES
    if isinstance(states, np.ndarray) or np.isscalar(states) or hasattr(states, "__array__"):
        states = [states]
    try:
        states = list(states)
    except TypeError:
        raise TypeError(f"{owner}: {what} must be a list of arrays ({', '.join(names)}), "
                        f"got {type(states).__name__}") from None
    groups = getattr(cell, "groups", None)
    if groups is None:
        if len(states) != len(names):
            raise ValueError(f"{owner}: {what} expects {len(names)} state array(s) "
                             f"({', '.join(names)}), got {len(states)}")
        return states, None
    if len(states) != len(groups):
        raise ValueError(f"{owner}: {what} expects one entry per stacked cell ({len(groups)}: "
                         f"{cell.describe_states()}), got {len(states)}")
    flat, structure = [], []
    for k, (entry, c) in enumerate(zip(states, cell.cells)):
        n = len(c.STATE_NAMES)
        if isinstance(entry, (list, tuple)):
            if len(entry) != n:
                raise ValueError(f"{owner}: {what}[{k}] (cell {k}, {type(c).__name__}) expects {n} "
                                 f"state array(s) ({', '.join(c.STATE_NAMES)}), got {len(entry)}")
            flat += list(entry)
            structure.append(type(entry))
        elif n == 1:
            flat.append(entry)
            structure.append(None)
        else:
            raise ValueError(f"{owner}: {what}[{k}] (cell {k}, {type(c).__name__}) has {n} states "
                             f"({', '.join(c.STATE_NAMES)}): give them as a list, got a single "
                             f"{type(entry).__name__}")
    return flat, structure


def default_structure(cell, dialect):
    """The structure of the states when none were given."""
    groups = getattr(cell, "groups", None)
    if groups is None:
        return None
    return [list if (dialect == "keras3" or n > 1) else None for n in groups]


def pack(flat, structure, groups):
    """The flat states in ``structure`` (see `flatten`)."""
    if structure is None:
        return list(flat)
    out, i = [], 0
    for kind, n in zip(structure, groups):
        part = flat[i:i + n]
        i += n
        out.append(part[0] if kind is None else kind(part))
    return out
