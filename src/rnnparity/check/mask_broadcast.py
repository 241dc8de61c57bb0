"""Which ConvLSTM cases a time loop that selects with a (batch, 1) step mask gets wrong.

Keras 3's openvino backend (keras/src/backend/openvino/rnn.py, the unrolled path every ConvLSTM
takes) and its numpy and jax backends (their rnn(), unroll=False) reduce each step's mask to
(batch, 1) and select between the new and the previous states and outputs with it, NumPy-style
broadcasting. That is right for an LSTM's (batch, units) state; a ConvLSTM's state has rank 3 to 5,
so (batch, 1) lines up with the state's LAST TWO axes, (a, b):

- a == batch (a > 1): it broadcasts, and row r's mask is applied to index r of axis a, in every row
  (a ConvLSTM1D with channels_first: its filters axis): wrong values wherever the rows' masks differ
  at a step, right ones where every step masks all rows alike;
- a == 1: it broadcasts to a state of batch along that axis: the state and outputs change shape;
- any other a: the select is refused (OpenVINO's Select at graph construction: 'Argument shapes are
  inconsistent'; NumPy's and jax's where: ValueError);
- batch 1: (1, 1) broadcasts against any state and selects as Keras means: right.
(The TensorFlow backend tiles the mask to the state's rank; torch's loop does not meet this.)
"""
from __future__ import annotations

import numpy as np


def _second_last_state_axis(case) -> int:
    """The length of the state's second-to-last axis: (batch, *spatial, filters) for channels_last,
    (batch, filters, *spatial) for channels_first."""
    from ..matrix.conv_lstm_cases import FILTERS

    spatial = case.output_spatial()
    if case.data_format == "cf":
        return spatial[-2] if len(spatial) > 1 else FILTERS
    return spatial[-1]


def _refused(case) -> bool:
    """Configurations Keras 3 refuses before a call (the reference refuses them alike): no step runs."""
    return ((case.strides != "s1" and case.dilation != "d1")
            or (case.wrapper != "none" and case.go_backwards)
            or min(case.output_spatial()) < 1)


def conv_lstm_mask_misapplied(case) -> bool:
    """Whether a masked ConvLSTM case computes differently (or raises) under a time loop that selects
    with a (batch, 1) step mask (see the module docstring)."""
    from ..matrix.conv_lstm_cases import make_plan

    if not str(getattr(case, "layer", "")).startswith("conv_lstm") or case.mask == "none":
        return False
    if case.n_batch == 1 or _refused(case):
        return False
    if _second_last_state_axis(case) != case.n_batch:
        return True  # refused by OpenVINO, or a state that changes shape
    masks = [np.asarray(call.mask, bool) for call in make_plan(case).calls]
    return any((m != m[:1]).any() for m in masks)  # some step masks the rows differently
