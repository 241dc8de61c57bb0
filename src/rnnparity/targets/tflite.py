"""The `tflite` target: the case's Keras 3 layer converted with TFLiteConverter and run in the
TFLite interpreter (LiteRT's `ai_edge_litert.interpreter` when installed: TF 2.21's
`tf.lite.Interpreter` warns that it is deprecated; otherwise TF's, its warning silenced).

How a case runs, as a user porting the layer would deploy it:
- the layer (weights set, the reference copied from it) is wrapped in a functional model whose
  inputs are x, the mask when the case has one and each initial state when given (fixed batch, the
  time axis left open so that calls of any length run on one model) and converted with
  `TFLiteConverter.from_keras_model` (the issue measured `model.export()` + `from_saved_model`
  failing for most Keras 3 RNNs; `from_concrete_functions` of a traced call leaves the weights as
  uninitialised resource variables: READ_VARIABLE fails at invoke);
- a stateful layer is converted with `experimental_enable_resource_variables`: its states become
  resource variables of the interpreter (VAR_HANDLE / READ_VARIABLE / ASSIGN_VARIABLE, initialised
  to zeros by CALL_ONCE), carried from one invoke to the next. A reset is a fresh interpreter on the
  same model: `Interpreter.reset_all_variables()` resets only the legacy variable tensors, not
  resource variables (measured: the state stays carried);
- outputs come back in the Keras structure (the functional model's outputs flattened, in order,
  repacked into the structure the layer returns).
Conversions are cached within a case by input signature (shapes and dtypes of x, mask, states).
``Recording.info``: the converter, the runtime and the ops the layer became (main graph, and the
ops of the loop bodies when the time loop became a WHILE).
"""
from __future__ import annotations

import contextlib
import os
import warnings
from functools import cached_property
from typing import NamedTuple

import numpy as np

from .base import SourceLayerTarget, execute, spec_dtype
from .keras_adapter import KerasAdapter, to_numpy

CONVERTER = "TFLiteConverter.from_keras_model"


class TFLiteTarget(SourceLayerTarget):
    name = "tflite"
    dialect = "keras3"

    def __init__(self):
        self.keras = self.source = KerasAdapter("tflite", "keras", "keras3")

    @cached_property
    def interpreter_class(self):
        """(class, name): LiteRT's interpreter when installed, else TF's (deprecated in TF 2.21)."""
        try:
            from ai_edge_litert.interpreter import Interpreter
            from ai_edge_litert import __version__ as litert_version
            return Interpreter, f"ai_edge_litert {litert_version}"
        except ImportError:
            return self.tf.lite.Interpreter, f"tf.lite.Interpreter (tensorflow {self.tf.__version__})"

    def versions(self) -> dict:
        return {**self.keras.versions(), "target": self.name, "runtime": self.interpreter_class[1]}

    def cannot_express(self, case) -> str | None:
        return cannot_express(case)

    # -- recording -----------------------------------------------------------------------------
    def run(self, layer, rec, input_shape) -> None:
        spec = rec.spec
        stateful = bool(spec.config.get("stateful"))
        # Keras unrolls only a time axis of known length: then each length is its own model
        open_time = None if spec.config.get("unroll") else rec.time_axis
        models: dict = {}  # input signature -> Converted
        live: dict = {}  # input signature -> the interpreter carrying the state

        def call_once(call):
            if spec_dtype(spec) == "float64":  # the rounding verdict's re-run: say why, fast
                raise NotImplementedError(f"tflite cannot express this case: {DTYPE_REASONS['f64']}")
            key = _signature(call, open_time)
            if key not in models:
                models[key] = self.convert(layer, call, open_time, stateful)
                rec.info = models[key].info(self.interpreter_class[1])
            if key not in live:
                live[key] = models[key].interpreter(self.interpreter_class[0])
            return models[key].run(live[key], call)

        rec.outcome = execute(call_once, live.clear, rec.plan)

    def convert(self, layer, call, time_axis, stateful) -> "Converted":
        """The layer as a TFLite model for calls shaped like ``call``."""
        keras, tf = self.keras.K, self.tf
        names = iter(f"input_{i:02d}" for i in range(10 ** 3))  # the signature's input names, in order
        x = keras.Input(batch_shape=_open_time(call.x.shape, time_axis), dtype=str(call.x.dtype),
                        name=next(names))
        inputs, kwargs = [x], {}
        if call.mask is not None:
            mask = keras.Input(batch_shape=_open_time(call.mask.shape, time_axis), dtype="bool",
                               name=next(names))
            inputs.append(mask)
            kwargs["mask"] = mask
        if call.initial_state is not None:
            states = _map_arrays(lambda a: keras.Input(batch_shape=a.shape, dtype=str(a.dtype),
                                                       name=next(names)), list(call.initial_state))
            inputs += keras.tree.flatten(states)
            kwargs["initial_state"] = states
        out = layer(x, training=False, **kwargs)
        model = keras.Model(inputs, keras.tree.flatten(out))
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        if stateful:
            converter.experimental_enable_resource_variables = True
        with _silenced():  # Keras prints the exported artifact's endpoints; the converter logs
            content = converter.convert()
        return Converted(content, out, len(inputs))


class Session(NamedTuple):
    interpreter: object
    runner: object  # its (only) signature runner


class Converted:
    """One converted model: its flatbuffer, the Keras output structure, its ops."""

    def __init__(self, content, structure, n_inputs):
        self.content, self.structure, self.n_inputs = content, structure, n_inputs

    def interpreter(self, cls) -> "Session":
        """A fresh interpreter on the model (a stateful layer's states start at zero)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation warning
            interpreter = cls(model_content=self.content)
        return Session(interpreter, interpreter.get_signature_runner())

    def run(self, session, call):
        import keras

        arrays = [call.x] + ([call.mask] if call.mask is not None else [])
        if call.initial_state is not None:
            arrays += keras.tree.flatten(list(call.initial_state))
        runner = session.runner
        names = _ordered(runner.get_input_details())
        if len(names) != len(arrays):
            raise RuntimeError(f"the TFLite model has {len(names)} inputs, the call {len(arrays)}")
        with _silenced():  # the first invoke applies the XNNPACK delegate and says so on fd 2
            got = runner(**dict(zip(names, arrays)))
        flat = [got[k] for k in _ordered(runner.get_output_details())]
        return to_numpy(keras.tree.pack_sequence_as(self.structure, flat))

    def info(self, runtime) -> dict:
        main, loops = ops_of(self.content)
        info = {"converter": CONVERTER, "runtime": runtime, "ops": main}
        if loops:
            info["loop_ops"] = loops
        return info


def ops_of(content) -> tuple[list, list]:
    """(the main graph's op names, the other subgraphs' op names: the WHILE's cond and body),
    each in order of first appearance, read from the flatbuffer."""
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(content, 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}

    def op_name(index):
        code = model.OperatorCodes(index)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == schema.BuiltinOperator.CUSTOM:
            return f"CUSTOM:{code.CustomCode().decode()}"
        return names.get(builtin, str(builtin))

    def subgraph_ops(i):
        g = model.Subgraphs(i)
        return [op_name(g.Operators(j).OpcodeIndex()) for j in range(g.OperatorsLength())]

    main = list(dict.fromkeys(subgraph_ops(0)))
    loops = list(dict.fromkeys(o for i in range(1, model.SubgraphsLength()) for o in subgraph_ops(i)))
    return main, loops


# -- what the converter / runtime cannot express (measured on TF 2.21: tests/test_target_tflite.py
# converts one case of each and expects the converter's error) -------------------------------------
_NO_KERNELS = ("TFLite's builtin kernels have no {dtype} {ops} (ConverterError: 'op is neither a "
               "custom op nor a flex op'); only the Flex delegate (SELECT_TF_OPS: TensorFlow's own "
               "kernels linked into the runtime) would run it")
DTYPE_REASONS = {
    "f64": "float64: " + _NO_KERNELS.format(dtype="float64", ops="AddV2, BiasAdd, GatherV2"),
    "f16": ("float16 layers: " + _NO_KERNELS.format(dtype="float16", ops="AddV2, BiasAdd, GatherV2")
            + "; TFLite's float16 is a weight quantization of a float32 model"),
    "mixed_f16": "mixed_float16 (float16 compute): " + _NO_KERNELS.format(
        dtype="float16", ops="AddV2, BiasAdd, ConcatV2"),
    "mixed_bf16": ("mixed_bfloat16: the converter cannot lower the bfloat16 time loop "
                   "('tf.TensorListReserve' op requires element_dtype to be ... 16-bit/32-bit/64-bit "
                   "float type)"),
}
UNROLLED_STATEFUL_CHUNKS = (
    "unroll with a stateful layer fed in chunks of different lengths: an unrolled model has a fixed "
    "length, each length is its own converted model with its own resource variables, so the state "
    "cannot pass from the first chunk's model to the second's")


CONV_LSTM3D = ("ConvLSTM3D: its input is 6-D (batch, time, depth, height, width, channels) and "
               "TFLite's builtin Slice / StridedSlice kernels take at most 5-D arrays (RuntimeError "
               "'Slice op only supports 1D-5D input arrays' when the interpreter allocates)")


def cannot_express(case) -> str | None:
    if case.dtype in DTYPE_REASONS:
        return DTYPE_REASONS[case.dtype]
    if case.layer == "conv_lstm3d":
        return CONV_LSTM3D
    if case.unroll and case.stateful:
        from ..matrix.data import make_plan

        if make_plan(case).chunk_check is not None:
            return UNROLLED_STATEFUL_CHUNKS
    return None


# -- helpers ----------------------------------------------------------------------------------------
def _signature(call, time_axis):
    def sig(a):
        a = np.asarray(a)
        return (_open_time(a.shape, time_axis) if a.ndim >= 2 else a.shape, str(a.dtype))
    states = None if call.initial_state is None else repr(_map_arrays(lambda a: (a.shape, str(a.dtype)),
                                                                      list(call.initial_state)))
    mask = None if call.mask is None else sig(call.mask)
    return sig(call.x), mask, states


def _open_time(shape, time_axis):
    """The shape with the time axis left open (None): one model runs calls of any length."""
    shape = list(shape)
    if time_axis is not None:
        shape[time_axis] = None
    return tuple(shape)


def _map_arrays(fn, tree):
    if isinstance(tree, (list, tuple)):
        return type(tree)(_map_arrays(fn, t) for t in tree)
    return fn(np.asarray(tree))


def _ordered(details):
    """Signature input/output names in the model's order: input_00, input_01, ... (named so in
    convert) and output_0, output_1, ... output_10 (numbered by the converter)."""
    return sorted(details, key=lambda n: (len(n), n))


@contextlib.contextmanager
def _silenced():
    """Keras' export prints to stdout, the converter's C++ side logs to fd 2: both to /dev/null."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        with contextlib.redirect_stdout(open(os.devnull, "w")) as sink:
            try:
                yield
            finally:
                sink.close()
    finally:
        sys.stdout.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


ADAPTER = TFLiteTarget()
