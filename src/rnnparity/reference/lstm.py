"""LSTM cell (Hochreiter & Schmidhuber 1997, with forget gate), Keras layout.

keras/src/layers/rnn/lstm.py (LSTMCell.call, `_compute_carry_and_output_fused`);
tf_keras/src/layers/rnn/lstm.py. State order is [h, c] (Keras), unlike TF1's LSTMStateTuple(c, h).
"""
from __future__ import annotations

from .cell import Cell
from .gates import split_gates

# Column blocks of kernel, recurrent_kernel and bias: input, forget, cell candidate, output.
LSTM_GATES = ("i", "f", "c", "o")


class LSTMCell(Cell):
    GATES = LSTM_GATES
    STATE_NAMES = ("h", "c")
    BIAS_AFTER_RECURRENT = True  # z = x W + h U, then z + b (GRU and SimpleRNN add b to x W first)

    def step(self, x_t, states):
        h_tm1, c_tm1 = states
        z = self.matmul(h_tm1, self.recurrent_kernel)
        z += x_t
        if self._bias_in_step:
            z += self.bias
        candidate = self.activation_kept(split_gates(z, LSTM_GATES)["c"])  # kept: z is overwritten next
        gates = split_gates(self.gate_activation_(z), LSTM_GATES)  # i, f, o (the c block is unused)
        c = gates["f"] * c_tm1 + gates["i"] * candidate
        h = gates["o"] * self.activation(c)
        return h, [h, c]
