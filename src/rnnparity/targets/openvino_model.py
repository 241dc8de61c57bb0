"""The `openvino` target's converted model at run time (targets/openvino.py): a call's arrays as the
model's inputs (CallInputs: their order, the input signature to export, the nesting of the initial
states), the compiled model and its infer request (Converted: running a call, reading and writing
the state it carries), and what the model is made of (the ops a recording's info names)."""
from __future__ import annotations

import numpy as np

DEVICE = "CPU"
SEQUENCE_OPS = ("LSTMSequence", "GRUSequence", "RNNSequence", "AUGRUSequence")
LOOP_OPS = ("Loop", "TensorIterator")
CELL_OPS = ("LSTMCell", "GRUCell", "RNNCell", "AUGRUCell")
CONVERTER = "keras.export.ExportArchive (SavedModel) + openvino.convert_model"
_PLUMBING = {"Parameter", "Result", "Constant"}


class CallInputs:
    """A call's arrays, flat: x, the mask (bool) when given, then the initial states flattened (kept
    apart for a stateful layer, whose model takes no state inputs)."""

    def __init__(self, step, stateful):
        import keras

        self.stateful = stateful
        self.x = np.asarray(step.x)
        self.mask = None if step.mask is None else np.asarray(step.mask, bool)
        self.nesting = None if step.initial_state is None else _nesting(list(step.initial_state))
        self.states = [] if step.initial_state is None else [np.asarray(a) for a in
                                                              keras.tree.flatten(list(step.initial_state))]

    @property
    def arrays(self):
        """What the model's inputs take, in order."""
        out = [self.x] + ([self.mask] if self.mask is not None else [])
        return out if self.stateful else out + self.states

    def key(self, unroll):
        """One model per signature: dtypes and ranks (full shapes of x and the mask when unrolled:
        Keras unrolls a known length)."""
        key = [(a.dtype.str, a.shape if unroll and i < 2 else a.ndim) for i, a in enumerate(self.arrays)]
        return tuple(key) + (self.mask is not None, None if self.stateful else self.nesting)

    def signature(self, tf, time_axis, unroll, batch):
        specs = []
        for i, a in enumerate(self.arrays):
            shape = [None] * a.ndim
            if i == 0:
                # features (a ConvLSTM's spatial axes and channels too: with unknown spatial axes
                # Keras' while_loop refuses a 'valid' / strided state shape that changes)
                shape[2:] = a.shape[2:]
                if unroll:
                    shape[time_axis] = a.shape[time_axis]
                if batch is not None:
                    shape[1 - time_axis] = batch
            elif i == 1 and self.mask is not None:
                if unroll:
                    shape = list(a.shape)
            else:
                shape[1:] = a.shape[1:]  # a state: (batch, units) or (batch, *spatial, filters)
            specs.append(tf.TensorSpec(shape, tf.as_dtype(a.dtype), name=f"input_{i:02d}"))
        return specs

    def unflatten(self, args):
        """(x, mask, initial states in the call's nesting) from the traced inputs."""
        args = list(args)
        x = args.pop(0)
        mask = args.pop(0) if self.mask is not None else None
        # a stateful layer's given states are no input: they are written into the infer request
        states = _rebuild(self.nesting, iter(args)) if self.nesting is not None and not self.stateful else None
        return x, mask, states


class Converted:
    """One converted, compiled model, its infer request (which carries a stateful layer's state)
    and what it is made of."""

    def __init__(self, model, compiled, structure, n_outputs, input_names, state_ids):
        self.structure, self.input_names = structure, input_names
        names = [r.get_node().get_friendly_name() for r in model.outputs]
        self.positions = [names.index(f"output_{i}") for i in range(n_outputs)]  # the signature's order
        self.compiled = compiled
        self.request = compiled.create_infer_request()
        self.state_ids = state_ids
        self.ops = _op_types(model)
        self.loop_ops = sorted({t for op in model.get_ops() if op.get_type_name() in LOOP_OPS
                                for t in _op_types(op.get_function())} - _PLUMBING)
        self.runtime_ops = sorted({op.get_rt_info()["layerType"].astype(str)
                                   for op in compiled.get_runtime_model().get_ops()})

    def run(self, inputs):
        import keras

        self.request.infer(dict(zip(self.input_names, inputs.arrays)))
        flat = [self.request.get_output_tensor(i).data.copy() for i in self.positions]
        return _numpy_structure(keras.tree.pack_sequence_as(self.structure, flat))

    def _states(self):
        by_id = {s.name: s for s in self.request.query_state()}
        return [by_id[i] for i in self.state_ids]

    def set_state(self, arrays):
        import openvino as ov

        for state, a in zip(self._states(), arrays):
            state.state = ov.Tensor(np.ascontiguousarray(a, dtype=state.state.data.dtype))

    def take_state(self, other):
        self.set_state([s.state.data.copy() for s in other._states()])


# -- helpers ------------------------------------------------------------------------------------
def _nesting(tree):
    if isinstance(tree, (list, tuple)):
        return tuple(_nesting(t) for t in tree)
    return None


def _rebuild(nesting, leaves):
    if nesting is None:
        return next(leaves)
    return [_rebuild(n, leaves) for n in nesting]


def _numpy_structure(tree):
    """NumPy arrays in the Keras output structure (tuples and lists kept)."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(_numpy_structure(t) for t in tree)
    return np.asarray(tree)


def _op_types(model):
    return sorted({op.get_type_name() for op in model.get_ops()})


def describe(models, version, stateful) -> dict:
    """Recording.info for the models a case converted."""
    if not models:
        return {}
    ops = sorted({op for m in models for op in m.ops})
    recurrent = [op for op in ops if op in SEQUENCE_OPS + LOOP_OPS + CELL_OPS]
    runtime = sorted({op for m in models for op in m.runtime_ops if op in SEQUENCE_OPS + LOOP_OPS + CELL_OPS
                      + ("RNNSeq", "RNNCell")})
    info = {"converter": CONVERTER, "runtime": f"OpenVINO {version} {DEVICE}",
            "ops": recurrent or ["unrolled"], "runtime_ops": runtime or ["unrolled"],
            "conversions": len(models)}
    loop_ops = sorted({op for m in models for op in m.loop_ops})
    if loop_ops:
        info["loop_ops"] = loop_ops
    if stateful:
        info["state"] = "ReadValue/Assign (MakeStateful on the stateless twin's state inputs and outputs)"
    return info
