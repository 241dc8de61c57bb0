"""SimpleRNN cell: h = activation(x W + b + h_tm1 U).

keras/src/layers/rnn/simple_rnn.py (SimpleRNNCell.call); tf_keras/src/layers/rnn/simple_rnn.py.
"""
from __future__ import annotations

from .cell import Cell


class SimpleRNNCell(Cell):
    GATES = ("h",)
    STATE_NAMES = ("h",)
    DEFAULT_RECURRENT_ACTIVATION = None  # SimpleRNN has no gates

    def step(self, x_t, states):
        (h_tm1,) = states
        z = self.matmul(h_tm1, self.recurrent_kernel)
        z += x_t
        h = self.activation_(z)  # z is this step's scratch
        return h, [h]
