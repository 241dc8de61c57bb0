"""The `onnx` target: the Keras 3 layer converted by tf2onnx and run in onnxruntime (CPU).

Conversion path: the one `keras.Model.export(format="onnx")` takes on the TensorFlow backend, i.e.
`tf2onnx.convert.from_function` on a `tf.function` of the layer with an explicit input signature,
after Keras' own numpy-2 patch of tf2onnx. `tf2onnx.convert.from_keras` is not used: it is broken on
Keras 3 models (onnx/tensorflow-onnx#2329, #2348); from_function is what a Keras 3 user (and Keras
itself) calls. The signature leaves the batch and time dimensions dynamic (time fixed for
unroll=True, which needs it), as a served model has them, so the calls of a plan (chunks of
different lengths included) share one conversion per input structure.

Where the graph uses a native ONNX recurrent op (LSTM / GRU / RNN: tf2onnx rewrites Keras' while
loop into one when it recognises the cell) the model also runs in `onnx.reference.ReferenceEvaluator`,
the ONNX specification's executable reference; ORT and the evaluator must agree within the tolerance
table, else the call fails with `RuntimeEvaluatorDisagreement` (a failure of its own, not a Keras
mismatch). Recording.info says what the layer became: {"ops": recurrent op types, "opset", "converter",
"ort_vs_evaluator_max_abs": ...}.

An ONNX model is stateless: a stateful layer's state variables are frozen into constants at
conversion (their zero initial values), tf2onnx strips the assignments without a warning, so a
call that should carry the state starts from zeros (check/divergences.py: onnx-stateful-state-frozen).
Resets therefore have nothing to do.
"""
from __future__ import annotations

import importlib
import logging
import platform
import re
from collections import Counter
from functools import cached_property

import numpy as np

from . import keras3
from .base import SourceLayerTarget, execute

NATIVE_RNN_OPS = ("LSTM", "GRU", "RNN")
LOOP_OPS = ("Loop", "Scan")
OPSET = None  # tf2onnx's default (15 in 1.17), as keras Model.export(format="onnx") leaves it


class RuntimeEvaluatorDisagreement(RuntimeError):
    """onnxruntime and the ONNX reference evaluator gave different outputs for the same model."""


class OnnxTarget(SourceLayerTarget):
    name = "onnx"
    dialect = "keras3"
    source = keras3.ADAPTER

    @cached_property
    def tf2onnx(self):
        tf2onnx = importlib.import_module("tf2onnx")
        try:  # what keras.Model.export(format="onnx") applies first (tf2onnx 1.17 uses np.object etc.)
            import warnings

            from keras.src.export.tf2onnx_lib import patch_tf2onnx
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                patch_tf2onnx()
        except ImportError:  # an older Keras without it: convert unpatched
            pass
        return tf2onnx

    @cached_property
    def ort(self):
        return importlib.import_module("onnxruntime")

    def versions(self) -> dict:
        import onnx

        return {**keras3.ADAPTER.versions(), "target": self.name, "tf2onnx": self.tf2onnx.__version__,
                "onnxruntime": self.ort.__version__, "onnx": onnx.__version__,
                "python": platform.python_version()}

    def cannot_express(self, case) -> str | None:
        return inexpressible(case)

    def run(self, layer, rec, input_shape) -> None:
        converted = {}  # input signature -> Converted: one conversion per input structure
        unroll = rec.spec.config.get("unroll", False)  # Keras needs a static time axis to unroll
        time_axis = rec.time_axis

        def call(step):
            flat, structure = _flat_inputs(step)
            key = tuple((a.dtype.str, a.ndim, a.shape[time_axis] if unroll and i == 0 else None)
                        for i, a in enumerate(flat)) + (structure,)
            if key not in converted:
                try:
                    converted[key] = self._convert(layer, flat, structure, time_axis if unroll else None)
                except Exception as exc:  # noqa: BLE001 - the error is the observation; make it readable
                    raise readable_trace_error(exc) from exc
            return converted[key].run(flat)

        try:
            rec.outcome = execute(call, lambda: None, rec.plan)
        finally:
            rec.info = _info(converted.values(), self.tf2onnx.__version__)

    # -- conversion ------------------------------------------------------------------------------
    def _convert(self, layer, flat, structure, fixed_time_axis):
        tf = self.tf
        signature = []
        first_state = 2 if structure[0] else 1
        for i, a in enumerate(flat):
            shape = [None] * a.ndim  # batch and time dynamic
            if i == 0:
                # features (a ConvLSTM's spatial axes and channels: an unknown channel count sends
                # Keras 3's conv through an XLA-compiled function that tf2onnx leaves as an invalid
                # PartitionedCall node)
                shape[2:] = a.shape[2:]
                if fixed_time_axis is not None:
                    shape[fixed_time_axis] = a.shape[fixed_time_axis]
            elif i >= first_state:
                shape[1:] = a.shape[1:]  # a state: (batch, units) or (batch, *spatial, filters)
            elif fixed_time_axis is not None:  # the mask of an unrolled layer: its time axis too
                shape[fixed_time_axis] = a.shape[fixed_time_axis]
            signature.append(tf.TensorSpec(shape, tf.as_dtype(a.dtype), name=f"input_{i}"))

        def forward(*args):
            x, mask, state = _unflatten(args, structure)
            kwargs = {}
            if mask is not None:
                kwargs["mask"] = mask
            if state is not None:
                kwargs["initial_state"] = state
            return layer(x, training=False, **kwargs)

        fn = tf.function(forward, input_signature=signature)
        outputs = fn.get_concrete_function().structured_outputs
        with _ConverterLog() as log:
            model, _ = self.tf2onnx.convert.from_function(fn, input_signature=signature, opset=OPSET)
        converted = Converted(model, outputs, self.ort)
        converted.removed = log.removed
        return converted


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def readable_trace_error(exc):
    """An error raised while tracing the layer in tf.function reads 'in user code:' then a
    traceback; the same-named error with the message that says what failed (Keras puts it on the
    line after 'Exception encountered when calling ...'), for the one-line report."""
    text = str(exc).strip()
    if not text.startswith("in user code:"):
        return exc
    lines = [line.strip() for line in text.splitlines()]
    found = [i for i, line in enumerate(lines) if re.match(r"^\w+(Error|Exception): ", line)]
    if not found:
        return exc
    message = lines[found[-1]].split(": ", 1)[1]
    detail = next((line for line in lines[found[-1] + 1:] if line), "")
    if message.startswith("Exception encountered when calling") and detail:
        message = f"{message} {_ANSI.sub('', detail)}"
    return type(type(exc).__name__, (Exception,), {})(message)  # keeps the type's name for the report


class _ConverterLog(logging.Handler):
    """Keeps tf2onnx's INFO lines out of the output and remembers which ops it removed to freeze
    the graph ('Removed AddV2 lstm_1/AssignVariableOp': a stateful layer's state updates)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.removed = []
        self.logger = logging.getLogger("tf2onnx")

    def emit(self, record):
        text = record.getMessage()
        if text.startswith("Removed "):
            self.removed.append(text.split()[-1].rsplit("/", 1)[-1].rstrip("_0123456789"))

    def __enter__(self):
        self.saved = (self.logger.level, self.logger.propagate, list(self.logger.handlers))
        self.logger.handlers = [self]
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc):
        self.logger.setLevel(self.saved[0])
        self.logger.propagate = self.saved[1]
        self.logger.handlers = self.saved[2]


class Converted:
    """One converted model: its ORT session, its reference evaluator (native RNN ops only), the
    Keras output structure to rebuild, and what it is made of."""

    def __init__(self, model, structure, ort):
        self.model = model
        self.structure = structure
        self.ops = sorted({n.op_type for n in model.graph.node})
        self.opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=None)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # the suite runs one worker per core
        self.session = ort.InferenceSession(model.SerializeToString(), options,
                                            providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.session.get_inputs()]
        self.native = [op for op in self.ops if op in NATIVE_RNN_OPS]
        self.evaluator = None
        if self.native:
            from onnx.reference import ReferenceEvaluator
            self.evaluator = ReferenceEvaluator(model)
        self.max_diff = 0.0
        self.compared = 0  # calls on which ORT and the evaluator were compared

    def run(self, flat):
        feeds = dict(zip(self.names, flat))
        got = self.session.run(None, feeds)
        if self.evaluator is not None:
            self._cross_check(got, self.evaluator.run(None, feeds))
            self.compared += 1
        return _pack(self.structure, iter(got))

    def _cross_check(self, got, spec):
        from ..check.tolerances import tolerance

        for i, (a, b) in enumerate(zip(got, spec)):
            a, b = np.asarray(a), np.asarray(b)
            if a.shape != b.shape:
                raise RuntimeEvaluatorDisagreement(
                    f"onnxruntime and onnx.reference.ReferenceEvaluator disagree on graph output [{i}] "
                    f"of the {'/'.join(self.native)} model: shapes {a.shape} vs {b.shape}")
            if a.size == 0:
                continue
            diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
            self.max_diff = max(self.max_diff, diff)
            row = tolerance(a.dtype, a.shape[1] if a.ndim == 3 else None)
            if not np.allclose(a, b, atol=row["atol"], rtol=row["rtol"]):
                raise RuntimeEvaluatorDisagreement(
                    f"onnxruntime and onnx.reference.ReferenceEvaluator disagree on graph output [{i}] "
                    f"of the {'/'.join(self.native)} model by {diff:.3g} (tolerance atol "
                    f"{row['atol']:g}, rtol {row['rtol']:g}): a runtime bug, not a conversion one")


def _info(converted, tf2onnx_version) -> dict:
    converted = list(converted)
    if not converted:
        return {}
    ops = sorted({op for c in converted for op in c.ops})
    recurrent = [op for op in ops if op in NATIVE_RNN_OPS + LOOP_OPS]
    info = {"ops": recurrent or ["unrolled"],
            "opset": converted[0].opset,
            "converter": f"tf2onnx {tf2onnx_version} from_function (as keras Model.export(format='onnx'))",
            "runtime": "onnxruntime CPUExecutionProvider",
            "conversions": len(converted)}
    removed = dict(Counter(r for c in converted for r in c.removed))
    if removed:  # what tf2onnx dropped to freeze the graph: a stateful layer's state updates
        info["removed_by_converter"] = removed
    if any(c.evaluator is not None for c in converted):
        compared = [c for c in converted if c.compared]
        info["ort_vs_evaluator_max_abs"] = max(c.max_diff for c in compared) if compared else None
    else:
        info["evaluator"] = "not run (no native ONNX RNN op in the graph)"
    return info


# -- the call's inputs as a flat list of arrays, and back ------------------------------------------
def _flat_inputs(step):
    """(arrays, structure): x, then the mask (bool), then the initial states flattened; structure
    is (has mask, state nesting or None, has states) and is part of the conversion's key."""
    flat = [np.asarray(step.x)]
    has_mask = step.mask is not None
    if has_mask:
        flat.append(np.asarray(step.mask, bool))
    nesting = None
    if step.initial_state is not None:
        states = []
        nesting = _nesting(list(step.initial_state), states)
        flat += states
    return flat, (has_mask, nesting, step.initial_state is not None)


def _nesting(tree, out):
    if isinstance(tree, (list, tuple)):
        return tuple(_nesting(t, out) for t in tree)
    out.append(np.asarray(tree))
    return None


def _unflatten(args, structure):
    has_mask, nesting, _ = structure
    x, rest = args[0], list(args[1:])
    mask = rest.pop(0) if has_mask else None
    state = None if nesting is None else _rebuild(nesting, iter(rest))
    return x, mask, state


def _rebuild(nesting, leaves):
    if nesting is None:
        return next(leaves)
    return [_rebuild(n, leaves) for n in nesting]


def _pack(structure, leaves):
    """ORT's flat outputs in the Keras output structure (tuples and lists kept, as
    keras_adapter.to_numpy gives them)."""
    if isinstance(structure, tuple):
        return tuple(_pack(s, leaves) for s in structure)
    if isinstance(structure, list):
        return [_pack(s, leaves) for s in structure]
    if isinstance(structure, dict):
        raise TypeError("a dict output structure: not produced by a Keras RNN layer")
    return np.asarray(next(leaves))


def inexpressible(case) -> str | None:
    """The options tf2onnx + onnxruntime cannot run, each measured (tf2onnx 1.17.0, onnxruntime
    1.32.0): a converted case that fails otherwise is a failure, or a registered divergence."""
    if case.dtype == "mixed_bf16":
        return ("mixed_bfloat16: onnxruntime's CPU provider has no bfloat16 MatMul (NOT_IMPLEMENTED), "
                "and it rejects the converted while loop's bfloat16 state first (INVALID_GRAPH / "
                "'Tensor element type mismatch. 16 != 10')")
    if case.dtype == "f64" and native_lstm(case):
        return ("float64 LSTM: tf2onnx emits the ONNX LSTM op, which onnxruntime's CPU provider runs in "
                "float32 only ('LSTM operator does not support double yet')")
    return None


def native_lstm(case) -> bool:
    """Whether tf2onnx rewrites the case's loop into the ONNX LSTM op (measured on the matrix): an
    unmasked, rolled LSTM with Keras' sigmoid gates; masks, a hard_sigmoid gate or unroll=True give a
    Loop or an unrolled graph."""
    return (case.layer == "lstm" and case.mask == "none" and not case.unroll
            and case.cell != "stacked" and not case.activation.startswith("ract_"))


ADAPTER = OnnxTarget()
