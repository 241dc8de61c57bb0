"""A Keras recurrent layer as torch.nn.LSTM / nn.GRU / nn.RNN, with Keras' call semantics around it.

    from rnnparity.port.torch import to_torch
    port = to_torch(keras_layer)        # or a rnnparity reference layer
    port.module                         # the torch.nn module, weights copied
    outputs = port(x, mask=None, initial_state=None)   # NumPy, in the structure Keras returns

The weights: Keras stores kernel (input, gates*units), recurrent_kernel (units, gates*units) and bias
with gate blocks LSTM i, f, c, o and GRU z, r, h; torch stores weight_ih (gates*units, input),
weight_hh and two biases with gate blocks LSTM i, f, g, o and GRU r, z, n. So the kernels are
transposed, the GRU blocks reordered, Keras' bias goes to bias_ih (LSTM, SimpleRNN: bias_hh = 0) and a
GRU's bias[0] / bias[1] to bias_ih / bias_hh. Bidirectional becomes bidirectional=True with the merge
mode applied to the two halves; go_backwards flips the input (Keras returns the sequence in processing
order, as the flipped run does); a right-padded mask becomes a packed sequence, and at masked steps the
output is the previous one (Keras' zero_output_for_mask=False) or zeros (Bidirectional with
return_sequences). stateful keeps the final states between calls.

What torch cannot express is refused by name (`Unsupported`, see `cannot_express`).
"""
from __future__ import annotations

import numpy as np

from ..reference.bidirectional import merge_directions

KERAS_TO_TORCH_GRU = (1, 0, 2)  # torch's r, z, n are Keras' blocks 1, 0, 2


class Unsupported(ValueError):
    """An option of the Keras layer that the torch modules cannot express."""


def _sublayers(ref):
    return [ref.forward_layer, ref.backward_layer] if hasattr(ref, "forward_layer") else [ref]


def _reference(layer):
    from ..reference import Bidirectional, RecurrentLayer

    if isinstance(layer, (RecurrentLayer, Bidirectional)):
        return layer
    from ..keras_to_reference import from_keras

    return from_keras(layer)


def cannot_express(layer) -> str | None:
    """The option of ``layer`` (Keras or reference) torch.nn cannot express, named; None if it can.
    Masks are checked per call (`mask_problem`)."""
    ref = _reference(layer)
    subs = _sublayers(ref)
    first = subs[0]
    kind = type(first.cell).__name__
    if kind not in ("SimpleRNNCell", "LSTMCell", "GRUCell"):
        return f"cell {kind}: torch.nn has one module per layer kind (stacked or custom cells are not ported)"
    config = first.cell.get_config()  # the cell's: RNN(cell) keeps its options there
    if kind == "GRUCell" and not first.cell.reset_after:
        return ("GRU reset_after=False: torch.nn.GRU applies the reset gate after the recurrent "
                "product (Keras' reset_after=True) only")
    activation = config.get("activation")
    allowed = ("tanh", "relu") if kind == "SimpleRNNCell" else ("tanh",)
    if activation not in allowed:
        return f"activation={activation!r}: torch.nn.{_module_name(kind)} computes {' or '.join(allowed)} only"
    if kind != "SimpleRNNCell" and config.get("recurrent_activation") != "sigmoid":
        return (f"recurrent_activation={config.get('recurrent_activation')!r}: torch's gates are "
                f"sigmoid (hard_sigmoid cannot be expressed)")
    if str(first.compute_dtype) not in ("float32", "float64"):
        return f"dtype {first.policy.name}: the port runs float32 or float64 only"
    if len(subs) == 2:
        if subs[0].go_backwards:
            return "Bidirectional over a go_backwards=True layer: torch's reverse direction is the only one"
        if subs[0].get_config() != {**subs[1].get_config(), "go_backwards": False}:
            return "Bidirectional with a backward_layer configured unlike the forward one"
    return None


def mask_problem(mask, go_backwards) -> str | None:
    """Why a (batch, time) mask cannot be a packed sequence, or None."""
    mask = np.asarray(mask).astype(bool)
    lengths = mask.sum(axis=1)
    if not np.array_equal(mask, np.arange(mask.shape[1])[None, :] < lengths[:, None]):
        return "a mask that is not right-padded (left padding or holes): a packed sequence is right-padded"
    if (lengths == 0).any():
        return "a fully masked sample: a packed sequence needs length >= 1"
    if go_backwards:
        return "a mask with go_backwards=True: reversed, the padding comes first"
    return None


def _module_name(kind):
    return {"SimpleRNNCell": "RNN", "LSTMCell": "LSTM", "GRUCell": "GRU"}[kind]


def _torch_weights(sub):
    """(weight_ih, weight_hh, bias_ih, bias_hh or None) as NumPy, torch's layout."""
    weights = sub.get_weights()
    kernel, recurrent = weights[0], weights[1]
    bias = weights[2] if sub.use_bias else None
    is_gru = type(sub.cell).__name__ == "GRUCell"

    def order(a):
        if not is_gru:
            return a
        blocks = np.split(a, 3, axis=-1)
        return np.concatenate([blocks[i] for i in KERAS_TO_TORCH_GRU], axis=-1)
    w_ih, w_hh = order(kernel).T, order(recurrent).T
    if bias is None:
        return w_ih, w_hh, None, None
    if is_gru:
        return w_ih, w_hh, order(bias[0]), order(bias[1])
    return w_ih, w_hh, bias, np.zeros_like(bias)


def to_torch(layer) -> "TorchPort":
    """The torch port of a Keras layer (keras 3 or tf_keras) or of a reference layer; `Unsupported`
    naming the option it cannot express."""
    problem = cannot_express(layer)
    if problem:
        raise Unsupported(f"the torch port cannot express {problem}")
    return TorchPort(_reference(layer))


class TorchPort:
    def __init__(self, ref):
        import torch

        self.torch = torch
        self.ref = ref  # only its config, weights and structure are read
        subs = _sublayers(ref)
        first = subs[0]
        self.kind = type(first.cell).__name__
        self.bidirectional = len(subs) == 2
        self.dtype = str(first.compute_dtype)
        cls = getattr(torch.nn, _module_name(self.kind))
        kwargs = {"nonlinearity": first.cell.get_config()["activation"]} if self.kind == "SimpleRNNCell" else {}
        self.module = cls(first.cell.input_dim, first.units, batch_first=not first.time_major,
                          bias=first.use_bias, bidirectional=self.bidirectional, **kwargs)
        self.module = self.module.double() if self.dtype == "float64" else self.module.float()
        with torch.no_grad():
            for suffix, sub in zip(("", "_reverse"), subs):
                for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), _torch_weights(sub)):
                    if value is not None:
                        getattr(self.module, f"{name}_l0{suffix}").copy_(torch.from_numpy(np.array(value)))
        self.module.eval()
        self.units = first.units
        self.go_backwards = first.go_backwards and not self.bidirectional
        self.time_major = first.time_major
        self.return_sequences, self.return_state = first.return_sequences, first.return_state
        self.stateful = first.stateful
        self.merge_mode = getattr(ref, "merge_mode", None)
        self.zero_output_for_mask = first.zero_output_for_mask
        self.dialect = first.dialect
        self.n_states = 2 if self.kind == "LSTMCell" else 1
        self.states = None  # stateful: the torch (h, c) of the last call

    # -- states -------------------------------------------------------------------------------------
    def reset_states(self):
        if not self.stateful:
            raise AttributeError("reset_states() needs stateful=True")
        self.states = None

    def _initial(self, initial_state, batch):
        """torch's h0 (and c0): (directions, batch, units), from Keras' [h, c] (fw then bw)."""
        if initial_state is not None and self.stateful:
            raise Unsupported("the torch port cannot express initial_state on a stateful layer")
        if self.stateful and self.states is not None:
            return self.states
        if initial_state is None:
            return None
        states = [np.asarray(s) for s in (initial_state if isinstance(initial_state, (list, tuple))
                                          else [initial_state])]
        directions = 2 if self.bidirectional else 1
        if len(states) != directions * self.n_states:
            raise ValueError(f"initial_state must hold {directions * self.n_states} arrays, got {len(states)}")
        per = [self.torch.from_numpy(np.stack([np.broadcast_to(states[d * self.n_states + k], (batch, self.units))
                                               for d in range(directions)]).astype(self.dtype))
               for k in range(self.n_states)]
        return tuple(per) if self.kind == "LSTMCell" else per[0]

    # -- call ---------------------------------------------------------------------------------------
    def __call__(self, x, mask=None, initial_state=None):
        torch = self.torch
        x = np.asarray(x)
        if self.bidirectional:  # Keras casts the input to the wrapper's dtype (float32 by default) first
            x = x.astype(self.ref.compute_dtype)
        x = x.astype(self.dtype)
        if self.time_major:
            x = np.swapaxes(x, 0, 1)  # batch-major inside; torch's batch_first=False is matched below
        batch, steps = x.shape[:2]
        if mask is not None:
            mask = np.asarray(mask).astype(bool)
            mask = mask[..., 0] if mask.ndim == 3 else mask
            mask = mask.T if self.time_major else mask
            problem = mask_problem(mask, self.go_backwards or False)
            if problem:
                raise Unsupported(f"the torch port cannot express {problem}")
        if self.go_backwards:
            x = x[:, ::-1]
        h0 = self._initial(initial_state, batch)
        # a copy: torch refuses negative strides, which np.ascontiguousarray keeps for one timestep
        inputs = torch.from_numpy(np.array(x if not self.time_major else np.swapaxes(x, 0, 1), copy=True))
        time_axis = 0 if self.time_major else 1
        with torch.no_grad():
            if mask is not None:
                lengths = torch.from_numpy(mask.sum(axis=1).astype(np.int64))
                packed = torch.nn.utils.rnn.pack_padded_sequence(inputs, lengths, batch_first=not self.time_major,
                                                                 enforce_sorted=False)
                out, final = self.module(packed, h0)
                out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=not self.time_major,
                                                                total_length=steps)
            else:
                out, final = self.module(inputs, h0)
        out = out.numpy()
        if self.time_major:
            out = np.swapaxes(out, 0, 1)  # (batch, time, directions*units)
        finals = [f.numpy() for f in (final if isinstance(final, tuple) else (final,))]
        if self.stateful:
            self.states = tuple(torch.from_numpy(f.copy()) for f in finals) if self.kind == "LSTMCell" \
                else torch.from_numpy(finals[0].copy())
        return self._keras_outputs(out, finals, mask)

    def _keras_outputs(self, out, finals, mask):
        u = self.units
        fw = out[..., :u]
        if mask is not None and not self.bidirectional and not self.zero_output_for_mask:
            lengths = mask.sum(axis=1)  # Keras repeats the last output at masked steps
            last = fw[np.arange(fw.shape[0]), lengths - 1]
            fw = np.where(mask[:, :, None], fw, last[:, None, :])
        if self.bidirectional:
            bw = out[..., u:]
            if self.return_sequences:
                y, y_rev = fw, bw
            else:  # Keras' last outputs: the forward final state, the backward state after step 0
                y, y_rev = finals[0][0], finals[0][1]
            if self.dialect == "keras3":
                y, y_rev = y.astype(self.ref.compute_dtype), y_rev.astype(self.ref.compute_dtype)
            outputs = [y, y_rev] if self.merge_mode is None else [merge_directions(self.merge_mode, y, y_rev)]
            states = [f[d] for d in range(2) for f in finals]
        else:
            outputs = [fw if self.return_sequences else finals[0][0]]
            states = [f[0] for f in finals]
        if self.time_major and self.return_sequences:
            outputs = [np.swapaxes(o, 0, 1) for o in outputs]
        seq = tuple if self.dialect == "keras3" else list
        if self.return_state:
            return seq(outputs + states)
        return outputs[0] if len(outputs) == 1 else seq(outputs)


