"""The generic Keras `RNN(cell)` layer around a built-in cell or a stack of them.

keras/src/layers/rnn/rnn.py, tf_keras/src/layers/rnn/base_rnn.py. `RNN(LSTMCell(u))` computes what
`LSTM(u)` computes (same time loop, same cell); what differs is only what a stack of cells returns:
- `RNN([c1, c2])` (or `RNN(StackedRNNCells([c1, c2]))`) returns the last cell's output, then one
  entry of states per cell: a list per cell in Keras 3 (`(out, [h1, c1], [h2, c2])`, `(out, [h1],
  [h2])`), and in tf_keras a list for a multi-state cell but a bare array for a one-state cell
  (`[out, [h1, c1], [h2, c2]]`, `[out, h1, h2]`);
- `initial_state` takes one entry per cell the same way, and both Keras versions return the final
  states in the structure they were given (a tuple entry comes back a tuple, bare arrays bare);
- weights are cell 0's (kernel, recurrent_kernel[, bias]), then cell 1's, ...
The RNN's dtype policy must be its cells' (Keras 3 runs a float32 cell inside a mixed-precision RNN
in float32 on float16-rounded weights, and tf_keras refuses the mix): a different one is refused.
"""
from __future__ import annotations

from .cell import Cell, unknown_option_error
from .layer import RecurrentLayer
from .precision import policy
from .stacked import StackedRNNCells, cell_config, cell_from_config

CELLS = ("SimpleRNNCell", "LSTMCell", "GRUCell")


class RNN(RecurrentLayer):
    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, dtype=None, dialect=None,
                 **options):
        if isinstance(cell, dict):
            cell = cell_from_config(cell)
        elif isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not isinstance(cell, (Cell, StackedRNNCells)):
            raise TypeError(f"RNN: `cell` is a {type(cell).__module__}.{type(cell).__qualname__}; the "
                            f"reference models the built-in {', '.join(CELLS)} (alone, in a list or "
                            f"in StackedRNNCells), not custom cells")
        if dialect is not None and dialect != cell.dialect:
            raise ValueError(f"RNN: dialect={dialect!r} but its cell was made for {cell.dialect!r}")
        dialect = cell.dialect
        if "cell" in options:
            raise unknown_option_error("RNN", dialect, {"cell": options["cell"]})
        time_major = self._check_options(options, dialect)
        own = cell.policy.name if dtype is None else policy(dtype, "RNN").name
        if own != cell.policy.name:
            raise ValueError(f"RNN: dtype policy {own!r} differs from its cell's {cell.policy.name!r}; "
                             f"that mix is not modelled (Keras 3 computes the cell in its own dtype on "
                             f"weights rounded to the RNN's, tf_keras refuses it): give the RNN and "
                             f"its cells the same dtype")
        self._setup(cell, return_sequences=return_sequences, return_state=return_state,
                    go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                    zero_output_for_mask=zero_output_for_mask, time_major=time_major,
                    dialect=dialect, dtype=own)
        self._config = dict(
            cell=cell_config(cell), return_sequences=self.return_sequences,
            return_state=self.return_state, go_backwards=self.go_backwards, stateful=self.stateful,
            unroll=self.unroll, zero_output_for_mask=self.zero_output_for_mask, dtype=own)
        if dialect == "keras2":
            self._config["time_major"] = self.time_major

    @property
    def cells(self):
        return self.cell.cells if isinstance(self.cell, StackedRNNCells) else [self.cell]

    @property
    def _training_dropout(self):
        return (max(c.dropout for c in self.cells), max(c.recurrent_dropout for c in self.cells))

    @property
    def use_bias(self):
        return all(c.use_bias for c in self.cells)
