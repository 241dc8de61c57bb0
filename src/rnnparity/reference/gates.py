"""Gate layout helpers: a cell's fused weight matrices hold one column block per gate, in the order
named by the cell's gate-order constant. Splitting always goes through that constant."""
from __future__ import annotations


def split_gates(z, order):
    """Split the last axis of ``z`` into one equal block per gate; return {gate name: block (a view)}."""
    width, rest = divmod(z.shape[-1], len(order))
    if rest:
        raise ValueError(f"cannot split {z.shape[-1]} columns into {len(order)} gates {order}")
    # basic slices, not np.split: this runs every timestep and np.split costs 5 us per call
    return {gate: z[..., k * width:(k + 1) * width] for k, gate in enumerate(order)}
