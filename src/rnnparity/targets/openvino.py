"""The `openvino` target: the Keras 3 layer converted for the OpenVINO runtime, run on its CPU device.

Conversion route: the one OpenVINO's documentation gives Keras 3 users ("Converting a Keras Model":
export the model to a TensorFlow SavedModel with Keras' own exporter, then `openvino.convert_model`
on that directory). Here the exporter is `keras.export.ExportArchive`, the machinery `Model.export()`
runs, with one endpoint taking x, the mask and the initial states as a call gives them (batch and
time dynamic, as a served model has them; time fixed for unroll=True, which needs it). Not taken:
- `Model.export(format="openvino")` (the same docs page's other route) hands the traced tf.function
  to `convert_model` in memory; on TF 2.21 / keras 3.15.1 / openvino 2026.4.1 that fails for SimpleRNN,
  LSTM and GRU alike ("No conversion rule found for operations: TensorList"), the SavedModel does not;
- the ONNX of the `onnx` target: OpenVINO reads ONNX, but its docs send Keras users through the
  SavedModel, and the `onnx` target already covers tf2onnx's rewrites.

The compiled model runs with INFERENCE_PRECISION_HINT=f32 (the default on CPUs without native bf16;
on AMX / AVX512-BF16 CPUs OpenVINO's default is bf16, which would make the verdict depend on the host)
and one inference thread (the suite runs one worker per core).

Stateful layers. The converter freezes a layer's state variables into constants (their zero values)
and drops the assignments (measured: a second call starts from zeros again), as ONNX does. OpenVINO
models can hold state themselves (ReadValue / Assign, carried by the infer request), and its docs'
way to get one is to expose the state as inputs and outputs and apply `MakeStateful`. So a stateful
layer is exported as its stateless twin (same spec and weights, stateful=False, return_state=True)
taking the states as inputs, the (state input, final state output) pairs become ReadValue/Assign,
and the infer request carries the state: `reset_state()` is the reset (zeros), initial states given
to a call are written into the request's states before it runs. A case's models of different input
signatures (unroll=True with chunks of different lengths) hand the state from one request to the next.
The user's own layer is still traced for each signature, so it raises what Keras raises.

``Recording.info``: the converter, the runtime, the recurrent ops the converted model has (LSTMSequence,
GRUSequence, RNNSequence, or a Loop / TensorIterator, or "unrolled"), the ops inside the loop body, the
layer types the CPU plugin runs ("runtime_ops", after its own fusions), and how the state is carried.

OpenVINO's conversion sends usage telemetry (openvino-telemetry, about 90 events a conversion, 2-3 s
when the network does not answer) unless the user opted out or runs in CI: these conversions are tests,
so they run with CI=true set for their duration, which the telemetry reads as "declined".
"""
from __future__ import annotations

import contextlib
import importlib
import os
import platform
import tempfile
from functools import cached_property

import numpy as np

from . import keras3
from ._quiet import quiet_tensorflow
from ..plan import Outcome, Recording
from .base import Target, build_source_layer, execute
from .onnx import readable_trace_error

DEVICE = "CPU"
COMPILE_CONFIG = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": 1}
SEQUENCE_OPS = ("LSTMSequence", "GRUSequence", "RNNSequence", "AUGRUSequence")
LOOP_OPS = ("Loop", "TensorIterator")
CELL_OPS = ("LSTMCell", "GRUCell", "RNNCell", "AUGRUCell")
CONVERTER = "keras.export.ExportArchive (SavedModel) + openvino.convert_model"
_PLUMBING = {"Parameter", "Result", "Constant"}


class OpenVINOTarget(Target):
    name = "openvino"
    dialect = "keras3"

    @cached_property
    def tf(self):
        quiet_tensorflow()
        return importlib.import_module("tensorflow")

    @cached_property
    def ov(self):
        ov = importlib.import_module("openvino")
        importlib.import_module("openvino.passes")
        return ov

    @cached_property
    def core(self):
        return self.ov.Core()

    def versions(self) -> dict:
        return {**keras3.ADAPTER.versions(), "target": self.name, "openvino": self.ov.get_version(),
                "device": f"{DEVICE} ({self.core.get_property(DEVICE, 'FULL_DEVICE_NAME')})",
                "compile_config": dict(COMPILE_CONFIG), "python": platform.python_version()}

    def cannot_express(self, case) -> str | None:
        return inexpressible(case)

    def record(self, spec, plan, seed, case_id, input_shape, time_axis=1, on_built=None,
               weights=None) -> Recording:
        rec = Recording(case_id, spec, plan, None, Outcome(), self.dialect, time_axis)
        layer = build_source_layer(keras3.ADAPTER, rec, spec, input_shape, seed, weights, on_built)
        if layer is None:
            return rec
        stateful = bool(spec.config.get("stateful"))
        unroll = bool(spec.config.get("unroll"))
        models: dict = {}  # input signature -> Converted
        holder = {"last": None}  # the Converted whose infer request holds the carried state

        def call(step):
            inputs = CallInputs(step, stateful)
            key = inputs.key(unroll)
            if key not in models:
                try:
                    models[key] = self.convert(layer, rec, inputs, time_axis, unroll, input_shape)
                except Exception as exc:  # noqa: BLE001 - the error is the observation; make it readable
                    raise readable_conversion_error(readable_trace_error(exc)) from exc
            model = models[key]
            if stateful:
                if holder["last"] is not None and holder["last"] is not model:
                    model.take_state(holder["last"])
                holder["last"] = model
                if inputs.states:
                    model.set_state(inputs.states)
            return model.run(inputs)

        def reset():
            for model in models.values():
                model.request.reset_state()
            holder["last"] = None

        try:
            rec.outcome = execute(call, reset, plan)
        finally:
            rec.info = _info(list(models.values()), self.ov.get_version(), stateful)
        return rec

    # -- conversion ------------------------------------------------------------------------------
    def convert(self, layer, rec, inputs, time_axis, unroll, input_shape) -> "Converted":
        tf, keras = self.tf, keras3.ADAPTER.K
        batch = inputs.x.shape[1 if time_axis == 0 else 0] if inputs.stateful else None
        signature = inputs.signature(tf, time_axis, unroll, batch)

        def user_call(*args):  # the user's own layer, as the call gives it its inputs
            x, mask, states = inputs.unflatten(args)
            return layer(x, training=False, **_kwargs(mask, states))

        # traced first: it raises what Keras raises, and gives the structure of the outputs
        structure = tf.function(user_call, input_signature=signature).get_concrete_function().structured_outputs
        n_outputs = len(keras.tree.flatten(structure))
        exported, state_signature = layer, []
        if inputs.stateful:
            exported = _stateless_twin(rec.spec, rec.weights, input_shape)
            state_signature = [tf.TensorSpec((batch, int(v.shape[-1])), _compute_dtype(layer),
                                             name=f"state_{i:02d}") for i, v in enumerate(_state_variables(layer))]

            def export_call(*args):  # the user's outputs, then the final states (again, if returned)
                x, mask, _ = inputs.unflatten(args[:len(signature)])
                flat = keras.tree.flatten(exported(x, training=False,
                                                   **_kwargs(mask, list(args[len(signature):]))))
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
            with _no_telemetry():
                model = self.ov.convert_model(directory)
            state_pairs = self._make_stateful(model, state_signature, n_outputs)
            compiled = self.core.compile_model(model, DEVICE, COMPILE_CONFIG)
        return Converted(model, compiled, structure, n_outputs, [s.name for s in signature], state_pairs)

    def _make_stateful(self, model, state_signature, n_outputs):
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
        manager = self.ov.passes.Manager()
        manager.register_pass(self.ov.passes.MakeStateful(pairs))
        manager.run_passes(model)
        return [s.name + f"output_{n_outputs + i}" for i, s in enumerate(state_signature)]


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


# -- the stateful twin --------------------------------------------------------------------------
def _stateless_twin(spec, weights, input_shape):
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


def _state_variables(layer):
    """A stateful layer's state variables, flat, in the order its states are given and returned."""
    import keras

    if hasattr(layer, "forward_layer"):
        return _state_variables(layer.forward_layer) + _state_variables(layer.backward_layer)
    return keras.tree.flatten(layer.states)


def _compute_dtype(layer):
    return getattr(layer, "forward_layer", layer).compute_dtype


# -- helpers ------------------------------------------------------------------------------------
def _kwargs(mask, states):
    kwargs = {}
    if mask is not None:
        kwargs["mask"] = mask
    if states is not None:
        kwargs["initial_state"] = states
    return kwargs


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


def _op_types(model):
    return sorted({op.get_type_name() for op in model.get_ops()})


@contextlib.contextmanager
def _no_telemetry():
    """openvino-telemetry reads CI=true as 'declined' (see the module docstring)."""
    saved = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["CI"]
        else:
            os.environ["CI"] = saved


def _info(models, version, stateful) -> dict:
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


def inexpressible(case) -> str | None:
    """The options the conversion or the CPU runtime cannot run, each measured (openvino 2026.4.1,
    tests/test_target_openvino.py forces each through and expects the error): a converted case that
    fails otherwise is a failure, or a registered divergence."""
    if case.dtype == "mixed_bf16":
        return ("mixed_bfloat16: OpenVINO's TensorFlow frontend cannot read the SavedModel's bfloat16 "
                "constants (OpConversionFailure: 'Conversion is failed for: Const ... Encountered unknown "
                "element type bf16')")
    if case.layer.startswith("conv_lstm") and case.stateful:
        return ("stateful ConvLSTM: this target carries a stateful layer's state as (batch, units) "
                "ReadValue/Assign variables of a stateless twin; a ConvLSTM state (batch, *spatial, "
                "filters) does not fit them (ValueError 'Input rank not supported: 2'), and given its "
                "full shape the OpenVINO CPU plugin crashed the process (segmentation fault, measured "
                "on openvino 2026.4.1)")
    return None


ADAPTER = OpenVINOTarget()
