"""How the `openvino` target converts a Keras layer (targets/openvino.py says why this route):
`keras.export.ExportArchive` writes a SavedModel of one endpoint taking the call's inputs,
`openvino.convert_model` reads it, a stateful layer's (state input, final state output) pairs become
ReadValue/Assign (MakeStateful, on the layer's stateless twin), and the CPU plugin compiles it.
Conversion errors are made readable (OpenVINO's frontend starts them with a C++ source line), and
the conversion runs with OpenVINO's telemetry declined."""
from __future__ import annotations

import contextlib
import os
import tempfile

from . import keras3
from .keras_adapter import state_variables
from .openvino_model import DEVICE, Converted

COMPILE_CONFIG = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": 1}


def convert(runtime, layer, rec, inputs, time_axis, unroll, input_shape) -> Converted:
    """The layer as a compiled OpenVINO model for calls like ``inputs``; ``runtime``: the target
    (its tf, ov and core)."""
    tf, keras = runtime.tf, keras3.ADAPTER.K
    batch = inputs.x.shape[1 if time_axis == 0 else 0] if inputs.stateful else None
    signature = inputs.signature(tf, time_axis, unroll, batch)

    def user_call(*args):  # the user's own layer, as the call gives it its inputs
        x, mask, states = inputs.unflatten(args)
        return layer(x, training=False, **call_kwargs(mask, states))

    # traced first: it raises what Keras raises, and gives the structure of the outputs
    structure = tf.function(user_call, input_signature=signature).get_concrete_function().structured_outputs
    n_outputs = len(keras.tree.flatten(structure))
    exported, state_signature = layer, []
    if inputs.stateful:
        exported = stateless_twin(rec.spec, rec.weights, input_shape)
        state_signature = [tf.TensorSpec((batch, int(v.shape[-1])), compute_dtype(layer),
                                         name=f"state_{i:02d}") for i, v in enumerate(state_variables(layer))]

        def export_call(*args):  # the user's outputs, then the final states (again, if returned)
            x, mask, _ = inputs.unflatten(args[:len(signature)])
            flat = keras.tree.flatten(exported(x, training=False,
                                               **call_kwargs(mask, list(args[len(signature):]))))
            return flat[:n_outputs] + flat[len(flat) - len(state_signature):]
    else:
        def export_call(*args):
            return keras.tree.flatten(user_call(*args))

    function = tf.function(export_call, input_signature=signature + state_signature)
    with tempfile.TemporaryDirectory(prefix="rnnparity-openvino-") as directory:
        archive = keras.export.ExportArchive()
        archive.track(exported)
        archive.add_endpoint("serve", function)
        archive.write_out(directory, verbose=False)
        with no_telemetry():
            model = runtime.ov.convert_model(directory)
        state_pairs = make_stateful(runtime.ov, model, state_signature, n_outputs)
        compiled = runtime.core.compile_model(model, DEVICE, COMPILE_CONFIG)
    return Converted(model, compiled, structure, n_outputs, [s.name for s in signature], state_pairs)

def make_stateful(ov, model, state_signature, n_outputs):
    """Turn (state input i, final state output i) into a ReadValue/Assign pair; returns the
    variables' ids in the order of the states."""
    if not state_signature:
        return []
    params = {p.get_any_name(): p.get_node() for p in model.inputs}
    # by the Results' own names: a state the layer also returns is one tensor with two names
    results = {r.get_node().get_friendly_name(): r.get_node() for r in model.outputs}
    if len(results) != n_outputs + len(state_signature):
        raise RuntimeError(f"the converted twin has {len(results)} outputs, expected {n_outputs} "
                           f"outputs and {len(state_signature)} states")
    pairs = [(params[s.name], results[f"output_{n_outputs + i}"]) for i, s in enumerate(state_signature)]
    manager = ov.passes.Manager()
    manager.register_pass(ov.passes.MakeStateful(pairs))
    manager.run_passes(model)
    return [s.name + f"output_{n_outputs + i}" for i, s in enumerate(state_signature)]


# -- the stateful twin --------------------------------------------------------------------------
def stateless_twin(spec, weights, input_shape):
    """The same layer, not stateful, returning its states: what a stateful model exposes its state
    through. Same spec otherwise, same weights (same order)."""
    import copy

    wrapper = copy.deepcopy(spec.wrapper)
    if wrapper and wrapper.get("backward_config"):
        wrapper["backward_config"].update(stateful=False, return_state=True)
    twin = spec.replace(config={**spec.config, "stateful": False, "return_state": True}, wrapper=wrapper)
    layer = keras3.ADAPTER.build(twin, input_shape)
    keras3.ADAPTER.set_weights(layer, weights)
    return layer


def compute_dtype(layer):
    return getattr(layer, "forward_layer", layer).compute_dtype


# -- helpers ------------------------------------------------------------------------------------
def call_kwargs(mask, states):
    kwargs = {}
    if mask is not None:
        kwargs["mask"] = mask
    if states is not None:
        kwargs["initial_state"] = states
    return kwargs


@contextlib.contextmanager
def no_telemetry():
    """openvino-telemetry reads CI=true as 'declined' (targets/openvino.py's docstring says why)."""
    saved = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["CI"]
        else:
            os.environ["CI"] = saved


_BOILERPLATE = ("Check 'false' failed at", "FrontEnd API failed with", "Model wasn't fully converted",
                "Summary:", "To facilitate the conversion")


def readable_conversion_error(exc):
    """OpenVINO's frontend errors start with the C++ source line of the check; the same-named error
    with what failed on one line (the op and the frontend's message), for the one-line report."""
    text = str(exc).strip()
    if not text.startswith("Check 'false' failed at"):
        return exc
    lines = [line.strip() for line in text.splitlines()]
    message = "; ".join(line.lstrip("- ") for line in lines if line and not line.startswith(_BOILERPLATE))
    return type(type(exc).__name__, (Exception,), {})(f"model not fully converted: {message}")
