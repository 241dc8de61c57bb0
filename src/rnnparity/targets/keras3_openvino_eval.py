"""How the keras3-openvino worker reads a call's results: every output, and a stateful layer's new
states, from ONE compiled OpenVINO model per call. Runs inside the backend worker only.

Keras 3's openvino backend is lazy: a layer call builds an OpenVINO graph (with a known sequence
length the RNN loop is unrolled, one copy of the cell per step: keras/src/backend/openvino/rnn.py)
and `keras.ops.convert_to_numpy` compiles the graph behind ONE tensor and runs it. Measured on
Keras 3.15 / OpenVINO 2026.4 (GRU(5, reset_after=False), return_sequences and return_state, T=100,
batch 3; 2 cores, nice 10):
- the unrolled graph has 5,717 ops and one compile of it takes 28-34 s; converting the 2 outputs
  one by one compiles it twice (56-63 s a call), compiling them as one model once (28-34 s);
- a stateful layer keeps its new states as graph nodes, so the next call's graph contains every
  earlier call: 293, 578, 863 ops after 1, 2, 3 calls of a T=5 GRU, and the second T=100 call took
  205 s to convert (a stateful case's six calls would compile 100 + 200 + ... + 600 steps).

So after each call the worker compiles the outputs and the state variables' values together
(Keras' own settings: the backend's device, INFERENCE_PRECISION_HINT f32, the bfloat16 view) and
assigns the computed states back: the next call starts from the states' values instead of
recomputing every earlier call. The values are those of the same graph (the same ops on the same
inputs); ``CHANNEL`` goes into the recording's info so a report says how outputs were read.
"""
from __future__ import annotations

import numpy as np

from .keras_adapter import state_variables

CHANNEL = ("each call's outputs and a stateful layer's new states compiled as one OpenVINO model "
           "(Keras' convert_to_numpy settings); the states assigned back as values after each call")


def evaluate(layer, out):
    """``out`` (a call's OpenVINO tensors, nested) as NumPy arrays in the same structure, computed
    with the layer's new states in one compiled model; the states are then assigned their values."""
    import keras

    states = state_variables(layer)
    flat = keras.tree.flatten(out)
    values = compute([*flat, *(v.value for v in states)])
    for variable, value in zip(states, values[len(flat):]):
        variable.assign(value)
    arrays = keras.tree.pack_sequence_as(out, values[:len(flat)])
    return _as_containers(out, arrays)


def compute(tensors) -> list:
    """The values of OpenVINOKerasTensors, as keras.ops.convert_to_numpy computes each (same device,
    same config, bool and bfloat16 handled the same way), from one compiled model."""
    import ml_dtypes
    import openvino as ov
    import openvino.opset16 as opset
    from keras.src.backend.openvino import core

    results, from_bool = [], []
    for t in tensors:
        output = t.output
        from_bool.append(output.get_element_type() == ov.Type.boolean)
        if from_bool[-1]:
            output = opset.convert(output, ov.Type.i32).output(0)
        results.append(output)
    compiled = ov.compile_model(ov.Model(results=results, parameters=[]), core.get_device(),
                                config={"INFERENCE_PRECISION_HINT": "f32"})
    raw = compiled({})
    values = []
    for i, t in enumerate(tensors):
        data = np.array(raw[i])
        if from_bool[i]:
            data = data.astype(bool)
        if t.dtype == "bfloat16" and data.dtype != ml_dtypes.bfloat16:
            data = data.view(ml_dtypes.bfloat16)
        values.append(data)
    return values


def _as_containers(template, values):
    """keras.tree packs into lists; keep the tuples and lists of the framework's structure."""
    if isinstance(template, (tuple, list)):
        return type(template)(_as_containers(t, v) for t, v in zip(template, values))
    return values
