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

import importlib
import platform
from functools import cached_property

from . import keras3
from .base import SourceLayerTarget, execute
from .onnx import readable_trace_error
from .openvino_export import COMPILE_CONFIG, convert, readable_conversion_error
from .openvino_model import DEVICE, CallInputs, describe


class OpenVINOTarget(SourceLayerTarget):
    name = "openvino"
    dialect = "keras3"
    source = keras3.ADAPTER

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

    def run(self, layer, rec, input_shape) -> None:
        stateful = bool(rec.spec.config.get("stateful"))
        unroll = bool(rec.spec.config.get("unroll"))
        time_axis = rec.time_axis
        models: dict = {}  # input signature -> Converted
        holder = {"last": None}  # the Converted whose infer request holds the carried state

        def call(step):
            inputs = CallInputs(step, stateful)
            key = inputs.key(unroll)
            if key not in models:
                try:
                    models[key] = convert(self, layer, rec, inputs, time_axis, unroll, input_shape)
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
            rec.outcome = execute(call, reset, rec.plan)
        finally:
            rec.info = describe(list(models.values()), self.ov.get_version(), stateful)


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
