"""TF1 recurrent cells and functions (`tf.compat.v1.nn`), in NumPy. Never imports a framework.

Cells: tf_keras/src/layers/rnn/legacy_cells.py (BasicRNNCell, GRUCell, BasicLSTMCell, LSTMCell), the
cells behind ``tf.compat.v1.nn.rnn_cell``. Functions: tensorflow/python/ops/rnn.py (static_rnn,
dynamic_rnn, static_bidirectional_rnn, bidirectional_dynamic_rnn).

What differs from Keras (see docs/tf1.md):
- one kernel over the concatenation ``[x, h]`` (rows: input features, then the recurrent state);
- LSTM gate order ``i, j, f, o`` (j is the candidate) and ``forget_bias`` added at run time;
- LSTM state ``LSTMStateTuple(c, h)`` (Keras: ``[h, c]``), or ``concat([c, h], 1)`` when
  ``state_is_tuple=False``;
- ``sequence_length``: outputs are zeros at ``t >= length``, the state is frozen at the last valid step;
- the backward direction reverses each row by its own length (``tf.reverse_sequence``), and only
  reverses the whole time axis (``tf.reverse``) when ``sequence_length`` is None.
"""
from __future__ import annotations

import collections

import numpy as np

from . import activations
from .cell import checked_weights, leading_kernel
from .gates import split_gates
from .scan import scan

DIALECT = "keras2"  # legacy cells resolve activation strings through Keras 2 (tf_keras.activations.get)

# Column blocks of the LSTM kernel and bias: input gate, new input (candidate), forget gate, output gate.
TF1_LSTM_GATES = ("i", "j", "f", "o")
# GRUCell has two kernels: gates/kernel with column blocks reset, update; candidate/kernel (one block).
TF1_GRU_GATES = ("r", "u")
TF1_GRU_CANDIDATE = ("c",)


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """(c, h), in that order, like tf.compat.v1.nn.rnn_cell.LSTMStateTuple."""
    __slots__ = ()

    @property
    def dtype(self):
        return self.c.dtype


def sigmoid(x):
    return activations.sigmoid(x)


def constant_like(x, value):
    return np.asarray(value, dtype=x.dtype)


class LegacyCell:
    """What the legacy cells share: weights in the order of the TF cell's ``weights``, a kernel over
    ``[x, h]``, a state made of named parts, no separate input projection (``project_inputs`` is the
    identity; the matmul over ``[x, h]`` happens in ``step`` exactly like TF's ``call``)."""

    GATES: tuple[str, ...] = ()
    STATE_NAMES: tuple[str, ...] = ("h",)

    def __init__(self, num_units, activation=None, dtype="float32", name=None):
        if not isinstance(num_units, (int, np.integer)) or isinstance(num_units, bool) or num_units < 1:
            raise ValueError(f"{type(self).__name__}: num_units must be a positive int, got {num_units!r}")
        self.num_units = int(num_units)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float16, np.float32, np.float64):
            raise ValueError(f"{type(self).__name__}: dtype={dtype!r} is not a float dtype TF RNN cells support")
        # TF: `if activation: activations.get(activation) else: tf.tanh`
        self.activation_name = activation or "tanh"
        self.activation = activations.get(self.activation_name, DIALECT, "activation")
        self.name = name
        self._weights = None

    # -- sizes ---------------------------------------------------------------------------------
    @property
    def state_sizes(self):
        """{state part: size}, in TF's order."""
        return {"h": self.num_units}

    @property
    def output_size(self):
        return self.num_units

    @property
    def state_size(self):
        return sum(self.state_sizes.values())

    @property
    def h_depth(self):
        return self.state_sizes["h"]

    @property
    def state_is_tuple(self):
        return False

    # -- weights -------------------------------------------------------------------------------
    def weight_specs(self, input_depth):
        """[(name, shape)] in the TF cell's ``weights`` order."""
        n = len(self.GATES) * self.num_units
        return [("kernel", (input_depth + self.h_depth, n)), ("bias", (n,))]

    def set_weights(self, weights):
        owner = type(self).__name__
        weights, kernel = leading_kernel(weights, owner)
        if kernel.ndim != 2 or kernel.shape[0] <= self.h_depth:
            raise ValueError(f"{owner}: the first weight (kernel) must be 2-D with input_depth + "
                             f"{self.h_depth} rows (the [x, h] concatenation), got shape {kernel.shape}")
        self._weights = checked_weights(weights, self.weight_specs(kernel.shape[0] - self.h_depth),
                                        owner, self.dtype)

    def get_weights(self):
        return [] if self._weights is None else [w.copy() for w in self._weights.values()]

    @property
    def built(self):
        return self._weights is not None

    @property
    def input_depth(self):
        if self._weights is None:
            return None
        kernel = next(iter(self._weights.values()))  # kernel, or gates_kernel for GRUCell
        return kernel.shape[0] - self.h_depth

    def __getattr__(self, name):  # kernel, bias, w_f_diag, ... once weights are set
        weights = self.__dict__.get("_weights")
        if weights is not None and name in weights:
            return weights[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    # -- state ---------------------------------------------------------------------------------
    def zero_states(self, batch):
        return [np.zeros((batch, size), self.dtype) for size in self.state_sizes.values()]

    def pack_state(self, states):
        """Internal list of state parts -> TF's structure (array, LSTMStateTuple or concat)."""
        return states[0]

    def unpack_state(self, state, what="initial_state"):
        """TF's state structure -> the internal list of parts, checking shapes."""
        return [self._check_part(state, what, self.state_size)]

    def _check_part(self, part, what, size):
        part = np.asarray(part)
        if part.ndim != 2 or part.shape[1] != size:
            raise ValueError(f"{type(self).__name__}: {what} must have shape (batch, {size}), got {part.shape}")
        if part.dtype != self.dtype:
            raise ValueError(f"{type(self).__name__}: {what} has dtype {part.dtype}, the cell computes in "
                             f"{self.dtype} (TF refuses mixed dtypes)")
        return part

    # -- maths ---------------------------------------------------------------------------------
    def project_inputs(self, x):
        return x

    def step(self, x_t, states):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self):
        return {"num_units": self.num_units, "activation": self.activation_name,
                "dtype": self.dtype.name}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"rnnparity.tf1.{type(self).__name__}({args})"


class BasicRNNCell(LegacyCell):
    GATES = ("h",)

    def step(self, x_t, states):
        (state,) = states
        gate_inputs = np.concatenate([x_t, state], 1) @ self.kernel + self.bias
        output = self.activation(gate_inputs)
        return output, [output]


class GRUCell(LegacyCell):
    GATES = TF1_GRU_GATES + TF1_GRU_CANDIDATE

    def weight_specs(self, input_depth):
        rows, n = input_depth + self.num_units, self.num_units
        return [("gates_kernel", (rows, len(TF1_GRU_GATES) * n)), ("gates_bias", (len(TF1_GRU_GATES) * n,)),
                ("candidate_kernel", (rows, n)), ("candidate_bias", (n,))]

    def step(self, x_t, states):
        (state,) = states
        value = sigmoid(np.concatenate([x_t, state], 1) @ self.gates_kernel + self.gates_bias)
        g = split_gates(value, TF1_GRU_GATES)
        r, u = g["r"], g["u"]
        r_state = r * state
        candidate = np.concatenate([x_t, r_state], 1) @ self.candidate_kernel + self.candidate_bias
        c = self.activation(candidate)
        new_h = u * state + (constant_like(u, 1) - u) * c
        return new_h, [new_h]


class BasicLSTMCell(LegacyCell):
    GATES = TF1_LSTM_GATES
    STATE_NAMES = ("c", "h")

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 dtype="float32", name=None):
        super().__init__(num_units, activation=activation, dtype=dtype, name=name)
        self.forget_bias = float(forget_bias)
        self._state_is_tuple = bool(state_is_tuple)

    @property
    def state_is_tuple(self):
        return self._state_is_tuple

    @property
    def state_sizes(self):
        return {"c": self.num_units, "h": self.num_units}

    def pack_state(self, states):
        c, h = states
        return LSTMStateTuple(c, h) if self.state_is_tuple else np.concatenate([c, h], 1)

    def unpack_state(self, state, what="initial_state"):
        sizes = self.state_sizes
        if self.state_is_tuple:
            if isinstance(state, np.ndarray) or not isinstance(state, (tuple, list)) or len(state) != 2:
                raise ValueError(f"{type(self).__name__}: state_is_tuple=True, so {what} must be a (c, h) "
                                 f"pair (LSTMStateTuple), got {type(state).__name__}")
            c, h = state
            return [self._check_part(c, f"{what}.c", sizes["c"]), self._check_part(h, f"{what}.h", sizes["h"])]
        if isinstance(state, (tuple, list)):
            raise ValueError(f"{type(self).__name__}: state_is_tuple=False, so {what} must be one array "
                             f"concat([c, h], 1) of width {self.state_size}, got a {type(state).__name__}")
        state = self._check_part(state, what, self.state_size)
        return [state[:, :sizes["c"]], state[:, sizes["c"]:]]

    def step(self, x_t, states):
        c, h = states
        gate_inputs = np.concatenate([x_t, h], 1) @ self.kernel + self.bias
        g = split_gates(gate_inputs, TF1_LSTM_GATES)
        i, j, f, o = g["i"], g["j"], g["f"], g["o"]
        new_c = c * sigmoid(f + constant_like(f, self.forget_bias)) + sigmoid(i) * self.activation(j)
        new_h = self.activation(new_c) * sigmoid(o)
        return new_h, [new_c, new_h]

    def get_config(self):
        return {**super().get_config(), "forget_bias": self.forget_bias,
                "state_is_tuple": self.state_is_tuple}


class LSTMCell(BasicLSTMCell):
    def __init__(self, num_units, use_peepholes=False, cell_clip=None, num_proj=None, proj_clip=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, dtype="float32", name=None):
        super().__init__(num_units, forget_bias=forget_bias, state_is_tuple=state_is_tuple,
                         activation=activation, dtype=dtype, name=name)
        if num_proj is not None and (not isinstance(num_proj, (int, np.integer)) or num_proj < 1):
            raise ValueError(f"LSTMCell: num_proj must be None or a positive int, got {num_proj!r}")
        self.use_peepholes = bool(use_peepholes)
        self.cell_clip = None if cell_clip is None else float(cell_clip)
        self.num_proj = None if num_proj is None else int(num_proj)
        # TF only clips the projection when there is one: proj_clip without num_proj has no effect.
        if proj_clip is not None and num_proj is None:
            raise ValueError("LSTMCell: proj_clip is set but num_proj is None; TF ignores proj_clip "
                             "without a projection, the reference refuses it rather than ignore it")
        self.proj_clip = None if proj_clip is None else float(proj_clip)

    @property
    def state_sizes(self):
        return {"c": self.num_units, "h": self.num_proj or self.num_units}

    @property
    def output_size(self):
        return self.num_proj or self.num_units

    def weight_specs(self, input_depth):
        specs = super().weight_specs(input_depth)
        if self.use_peepholes:
            specs += [(name, (self.num_units,)) for name in ("w_f_diag", "w_i_diag", "w_o_diag")]
        if self.num_proj is not None:
            specs.append(("proj_kernel", (self.num_units, self.num_proj)))
        return specs

    def step(self, x_t, states):
        c_prev, m_prev = states
        lstm_matrix = np.concatenate([x_t, m_prev], 1) @ self.kernel + self.bias
        g = split_gates(lstm_matrix, TF1_LSTM_GATES)
        i, j, f, o = g["i"], g["j"], g["f"], g["o"]
        forget_bias = constant_like(f, self.forget_bias)
        if self.use_peepholes:
            c = (sigmoid(f + forget_bias + self.w_f_diag * c_prev) * c_prev
                 + sigmoid(i + self.w_i_diag * c_prev) * self.activation(j))
        else:
            c = sigmoid(f + forget_bias) * c_prev + sigmoid(i) * self.activation(j)
        if self.cell_clip is not None:
            c = np.clip(c, constant_like(c, -self.cell_clip), constant_like(c, self.cell_clip))
        if self.use_peepholes:
            m = sigmoid(o + self.w_o_diag * c) * self.activation(c)
        else:
            m = sigmoid(o) * self.activation(c)
        if self.num_proj is not None:
            m = m @ self.proj_kernel
            if self.proj_clip is not None:
                m = np.clip(m, constant_like(m, -self.proj_clip), constant_like(m, self.proj_clip))
        return m, [c, m]

    def get_config(self):
        return {**super().get_config(), "use_peepholes": self.use_peepholes, "cell_clip": self.cell_clip,
                "num_proj": self.num_proj, "proj_clip": self.proj_clip}


CELL_CLASSES = {cls.__name__: cls for cls in (BasicRNNCell, GRUCell, BasicLSTMCell, LSTMCell)}


# -- the functions -----------------------------------------------------------------------------
def _check_cell(cell, what):
    if not isinstance(cell, LegacyCell):
        raise TypeError(f"{what}: expected a rnnparity.tf1 cell ({', '.join(CELL_CLASSES)}), got "
                        f"{type(cell).__name__}; use rnnparity.tf1.cell_from_tf(tf_cell) for a TF cell")
    if not cell.built:
        names = ", ".join(f"{n}{s}" for n, s in cell.weight_specs(0))
        raise ValueError(f"{what}: weights are not set; call set_weights([...]) with the TF cell's "
                         f"weights in order ({names}, with kernel rows = input_depth + state)")


def _np_dtype(dtype):
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))  # accepts tf.float32 as well as "float32"


def _check_inputs(cell, x, what):
    if x.ndim != 3:
        raise ValueError(f"{what} must have rank 3, got shape {x.shape}")
    if x.shape[1] == 0:
        raise ValueError(f"{what} has 0 timesteps; TF needs at least one")
    if x.dtype != cell.dtype:
        raise ValueError(f"{what} has dtype {x.dtype} but the cell computes in {cell.dtype} "
                         f"(TF refuses mixed dtypes)")
    if x.shape[2] != cell.input_depth:
        raise ValueError(f"{what} has {x.shape[2]} features but the cell's kernel was built for "
                         f"input_depth={cell.input_depth} (kernel rows = input_depth + {cell.h_depth})")


def _check_lengths(sequence_length, batch):
    if sequence_length is None:
        return None
    lengths = np.asarray(sequence_length)
    if lengths.ndim != 1 or lengths.shape[0] != batch:
        raise ValueError(f"Argument `sequence_length` must be a vector of length {batch}, "
                         f"got shape {lengths.shape}")
    if not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"sequence_length must hold integers (int32/int64), got {lengths.dtype}")
    if (lengths < 0).any():
        raise ValueError(f"sequence_length must be >= 0, got {lengths.tolist()}")
    return lengths.astype(np.int64)


def _initial_states(cell, initial_state, dtype, batch, what):
    if initial_state is None:
        if dtype is None:
            raise ValueError("If no initial_state is provided, argument `dtype` must be specified")
        if _np_dtype(dtype) != cell.dtype:
            raise ValueError(f"dtype={_np_dtype(dtype)} does not match the cell's dtype {cell.dtype}")
        return cell.zero_states(batch)
    parts = cell.unpack_state(initial_state, what)
    for name, part in zip(cell.STATE_NAMES, parts):
        if part.shape[0] != batch:
            raise ValueError(f"{what} ({name}) has batch {part.shape[0]}, the inputs have batch {batch}")
    return parts


def reverse_sequence(x, lengths, time_axis=1):
    """tf.reverse_sequence: reverse each row's first ``length`` steps, leave the rest in place;
    a plain reverse of the time axis when ``lengths`` is None (tf.reverse)."""
    if lengths is None:
        return np.flip(x, axis=time_axis)
    x_bt = np.moveaxis(x, time_axis, 1)
    out = x_bt.copy()
    for b, length in enumerate(lengths):
        length = min(int(length), x_bt.shape[1])
        out[b, :length] = x_bt[b, :length][::-1]
    return np.moveaxis(out, 1, time_axis)


def _run(cell, x, lengths, initial_states):
    """(batch, time, features) -> outputs (batch, time, output_size), final state parts.

    sequence_length is the mask ``t < length``: at masked steps the state is carried and the output is
    zeros, exactly scan's zero_output_for_mask semantics."""
    mask = None if lengths is None else np.arange(x.shape[1])[None, :] < lengths[:, None]
    _, outputs, states = scan(cell.step, cell.project_inputs(x), initial_states, mask=mask,
                              zero_output_for_mask=True)
    return outputs, states


def _prepare(cell, inputs, initial_state, dtype, sequence_length, what="cell", state_what="initial_state"):
    _check_cell(cell, what)
    _check_inputs(cell, inputs, "inputs")
    lengths = _check_lengths(sequence_length, inputs.shape[0])
    return lengths, _initial_states(cell, initial_state, dtype, inputs.shape[0], state_what)


def _stack_static(inputs):
    if isinstance(inputs, np.ndarray) or not isinstance(inputs, (list, tuple)):
        raise TypeError(f"Argument `inputs` must be a sequence (a length T list of (batch, input_size) "
                        f"arrays). Received: {type(inputs).__name__}")
    if not inputs:
        raise ValueError("Argument `inputs` must not be empty.")
    steps = [np.asarray(x_t) for x_t in inputs]
    shapes = {s.shape for s in steps}
    if any(s.ndim != 2 for s in steps) or len(shapes) != 1:
        raise ValueError(f"static inputs must all be (batch, input_size), got shapes {[s.shape for s in steps]}")
    return np.stack(steps, axis=1)


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """tf.compat.v1.nn.dynamic_rnn -> (outputs, state). ``parallel_iterations``, ``swap_memory`` and
    ``scope`` only affect how TF schedules and names things, not the values."""
    x = np.asarray(inputs)
    if time_major and x.ndim == 3:
        x = np.swapaxes(x, 0, 1)
    lengths, states = _prepare(cell, x, initial_state, dtype, sequence_length)
    outputs, states = _run(cell, x, lengths, states)
    if time_major:
        outputs = np.swapaxes(outputs, 0, 1)
    return outputs, cell.pack_state(states)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """tf.compat.v1.nn.static_rnn -> (outputs: list of T arrays, state)."""
    x = _stack_static(inputs)
    lengths, states = _prepare(cell, x, initial_state, dtype, sequence_length)
    outputs, states = _run(cell, x, lengths, states)
    return [outputs[:, t] for t in range(outputs.shape[1])], cell.pack_state(states)


def _bidirectional(cell_fw, cell_bw, x, initial_state_fw, initial_state_bw, dtype, sequence_length):
    lengths, fw_states = _prepare(cell_fw, x, initial_state_fw, dtype, sequence_length,
                                  "cell_fw", "initial_state_fw")
    _, bw_states = _prepare(cell_bw, x, initial_state_bw, dtype, sequence_length,
                            "cell_bw", "initial_state_bw")
    output_fw, fw_states = _run(cell_fw, x, lengths, fw_states)
    tmp, bw_states = _run(cell_bw, reverse_sequence(x, lengths), lengths, bw_states)
    output_bw = reverse_sequence(tmp, lengths)
    return output_fw, output_bw, cell_fw.pack_state(fw_states), cell_bw.pack_state(bw_states)


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None, initial_state_fw=None,
                              initial_state_bw=None, dtype=None, parallel_iterations=None,
                              swap_memory=False, time_major=False, scope=None):
    """tf.compat.v1.nn.bidirectional_dynamic_rnn -> ((output_fw, output_bw), (state_fw, state_bw)).

    output_bw is already re-reversed into input time order (by length when sequence_length is given)."""
    x = np.asarray(inputs)
    if time_major and x.ndim == 3:
        x = np.swapaxes(x, 0, 1)
    if x.ndim != 3:
        raise ValueError(f"inputs must have rank 3, got shape {x.shape}")
    output_fw, output_bw, state_fw, state_bw = _bidirectional(
        cell_fw, cell_bw, x, initial_state_fw, initial_state_bw, dtype, sequence_length)
    if time_major:
        output_fw, output_bw = np.swapaxes(output_fw, 0, 1), np.swapaxes(output_bw, 0, 1)
    return (output_fw, output_bw), (state_fw, state_bw)


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None, initial_state_bw=None,
                             dtype=None, sequence_length=None, scope=None):
    """tf.compat.v1.nn.static_bidirectional_rnn -> (outputs, output_state_fw, output_state_bw), outputs a
    list of T arrays concat([fw, bw], 1)."""
    x = _stack_static(inputs)
    output_fw, output_bw, state_fw, state_bw = _bidirectional(
        cell_fw, cell_bw, x, initial_state_fw, initial_state_bw, dtype, sequence_length)
    outputs = [np.concatenate([output_fw[:, t], output_bw[:, t]], 1) for t in range(x.shape[1])]
    return outputs, state_fw, state_bw


FUNCTIONS = {f.__name__: f for f in (static_rnn, dynamic_rnn, static_bidirectional_rnn,
                                     bidirectional_dynamic_rnn)}
