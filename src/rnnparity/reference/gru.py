"""GRU cell (Cho et al. 2014), Keras layout, both bias layouts.

keras/src/layers/rnn/gru.py (GRUCell.call); tf_keras/src/layers/rnn/gru.py.
reset_after=True (the default, cuDNN-compatible): the reset gate multiplies the recurrent projection
*after* the matmul and there are two biases, bias[0] for the input and bias[1] for the recurrent side.
reset_after=False: r multiplies h_tm1 *before* the matmul, one input bias.
"""
from __future__ import annotations

from .cell import Cell
from .gates import split_gates

# Column blocks of kernel, recurrent_kernel and bias: update, reset, candidate.
GRU_GATES = ("z", "r", "h")


class GRUCell(Cell):
    GATES = GRU_GATES
    STATE_NAMES = ("h",)

    def __init__(self, units, *, reset_after=True, **kwargs):
        self.reset_after = bool(reset_after)
        super().__init__(units, **kwargs)
        self._config["reset_after"] = self.reset_after

    def bias_shape(self):
        # reset_after: row 0 is the input bias, row 1 the recurrent bias
        n = len(self.GATES) * self.units
        return (2, n) if self.reset_after else (n,)

    def _shape_hint(self, name, shape):
        if name != "bias":
            return ""
        other = (3 * self.units,) if self.reset_after else (2, 3 * self.units)
        return (f" (GRU reset_after={self.reset_after} expects bias {shape}; "
                f"the other layout is {other})")

    def input_bias(self):
        return self.bias[0] if self.reset_after else self.bias

    def step(self, x_t, states):
        (h_tm1,) = states
        width = 2 * self.units  # z and r lead, side by side: one product and one activation pass
        if self.reset_after:
            inner = self.matmul(h_tm1, self.recurrent_kernel)
            if self.use_bias:
                inner += self.bias[1]
            gates = split_gates(self.gate_activation_(x_t[:, :width] + inner[:, :width]), GRU_GATES[:2])
            rec_h = split_gates(inner, GRU_GATES)["h"]
            hh = self.activation_(split_gates(x_t, GRU_GATES)["h"] + gates["r"] * rec_h)
        else:
            rec_zr = self.matmul(h_tm1, self.recurrent_kernel[:, :width])
            gates = split_gates(self.gate_activation_(x_t[:, :width] + rec_zr), GRU_GATES[:2])
            u_h = split_gates(self.recurrent_kernel, GRU_GATES)["h"]
            hh = self.activation_(split_gates(x_t, GRU_GATES)["h"] + self.matmul(gates["r"] * h_tm1, u_h))
        z = gates["z"]
        h = z * h_tm1 + (1 - z) * hh
        return h, [h]
