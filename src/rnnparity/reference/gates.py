"""Gate layout helpers: a cell's fused weight matrices hold one column block per gate, in the order
named by the cell's gate-order constant. Splitting always goes through that constant."""
from __future__ import annotations

import numpy as np


def split_gates(z, order):
    """Split the last axis of ``z`` into one equal block per gate; return {gate name: block}."""
    return dict(zip(order, np.split(z, len(order), axis=-1)))


def gate_block(w, order, gate):
    """The column block of ``w`` that belongs to ``gate``."""
    return split_gates(w, order)[gate]
