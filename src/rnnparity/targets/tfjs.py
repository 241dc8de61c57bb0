"""The `tfjs` target: the case's Keras 3 layer loaded into TensorFlow.js layers (`@tensorflow/tfjs`
4.22, cpu backend, pure JS) in a node worker process, and run there.

How a case runs, as a user shipping the layer to the browser would run it:
- the Keras 3 layer is built with the case's weights (the reference is copied from it), serialized,
  rewritten into the layers format TF.js loads (targets/tfjs_format.py: what the `tensorflowjs`
  converter writes for a tf.keras model; the converter itself is not used: it pins a TensorFlow that
  conflicts with the one installed) and loaded by `tf.models.modelFromJSON` in the node worker
  (targets/tfjs_node.py, targets/tfjs_worker/worker.js), its weights set with `setWeights`;
- an option TF.js' constructor dropped (it ignores keys it does not know) fails the case, named, and
  a dtype TF.js lacks (float64, float16, a mixed policy: TF.js would load it and compute in float32)
  is refused before the load (so the rounding verdict's float64 re-run says why it cannot run);
- each call runs `layer.apply(x, {mask, initialState})` on concrete tensors; a reset is
  `layer.resetStates()`; outputs come back flat and are repacked into the Keras 3 structure (that of
  the Keras layer's compute_output_spec for the same inputs); a different count of outputs is an error.
``Recording.info``: the runtime (package versions, backend, node), how the layer was loaded, and
what TF.js ignored with a warning (unroll=True: its imperative backend always runs the loop).
What TF.js cannot express is declared in `cannot_express` (measured: tests/test_target_tfjs.py
forces each through and expects TF.js' own refusal or float32 results).
"""
from __future__ import annotations

import importlib
from functools import cached_property

import numpy as np

from . import keras3, tfjs_format, tfjs_node
from ..plan import error_tuple
from .base import SourceLayerTarget, execute

LOADED_WITH = "tf.models.modelFromJSON (the layers format of a model.json), weights by setWeights"

# what TF.js cannot express, by case dtype (measured on 4.22.0, see tests/test_target_tfjs.py)
_NO_DTYPE = ("TensorFlow.js has no {name} dtype (its tensors are float32, int32, bool, complex64 or "
             "string): a layer configured {what} loads, and runs in float32")
DTYPE_REASONS = {
    "f64": "float64: " + _NO_DTYPE.format(name="float64", what="dtype='float64'"),
    "f16": "float16: " + _NO_DTYPE.format(name="float16", what="dtype='float16'"),
    "mixed_f16": ("mixed_float16: TensorFlow.js has no dtype policies (mixed precision) nor float16: a "
                  "layer configured dtype='mixed_float16' loads, and runs in float32"),
    "mixed_bf16": ("mixed_bfloat16: TensorFlow.js has no dtype policies (mixed precision) nor bfloat16: a "
                   "layer configured dtype='mixed_bfloat16' loads, and runs in float32"),
}
GRU_RESET_AFTER = ("GRU(reset_after=True) (Keras' default GRU, the cuDNN layout): TensorFlow.js' GRUCell "
                   "rejects it at construction ('GRUCell does not support reset_after parameter set to "
                   "true.'; tensorflow/tfjs#5728)")


class TfjsError(Exception):
    """Stands for the JS error TF.js raised (its type name is given to a subclass per JS type)."""


def _js_error(exc: tfjs_node.TfjsError) -> Exception:
    cls = type(exc.kind, (TfjsError,), {})
    return cls(f"TensorFlow.js: {exc}")


class TfjsTarget(SourceLayerTarget):
    name = "tfjs"
    dialect = "keras3"
    source = keras3.ADAPTER

    @cached_property
    def keras(self):
        return importlib.import_module("keras")

    def versions(self) -> dict:
        reply = tfjs_node.worker().request("versions", "versions")
        return {**keras3.ADAPTER.versions(), "target": self.name, **reply["versions"],
                "node": reply["node"], "tfjs_backend": reply["backend"]}

    def cannot_express(self, case) -> str | None:
        return cannot_express(case)

    def run(self, layer, rec, input_shape) -> None:
        worker, case_id = tfjs_node.worker(), rec.case_id
        try:
            handle = self._load(worker, layer, rec, input_shape, rec.time_axis)
        except Exception as exc:  # noqa: BLE001 - TF.js could not load it: the observation
            if isinstance(exc, tfjs_node.TfjsWorkerError):
                raise
            rec.outcome.error = error_tuple(-1, exc)
            return
        structures: dict = {}  # input signature -> the Keras output structure

        def call(step):
            key = _signature(step)
            if key not in structures:
                structures[key] = self._keras_structure(layer, step)
            flat = self._request(worker, "call", f"case {case_id}: call", handle=handle,
                                 x=tfjs_node.encode(step.x),
                                 mask=None if step.mask is None else tfjs_node.encode(np.asarray(step.mask, bool)),
                                 initial_state=None if step.initial_state is None else
                                 [tfjs_node.encode(s) for s in self.keras.tree.flatten(list(step.initial_state))])
            outputs = [tfjs_node.decode(a) for a in flat["outputs"]]
            want = len(self.keras.tree.flatten(structures[key]))
            if len(outputs) != want:
                raise ValueError(f"TensorFlow.js returned {len(outputs)} arrays where Keras 3 returns {want} "
                                 f"(shapes {[o.shape for o in outputs]})")
            return _pack(structures[key], iter(outputs))

        try:
            rec.outcome = execute(call, lambda: self._request(worker, "reset", f"case {case_id}: reset",
                                                              handle=handle), rec.plan)
        finally:
            if worker.alive():
                worker.request("dispose", f"case {case_id}: dispose", handle=handle)

    def _load(self, worker, layer, rec, input_shape, time_axis):
        sent = tfjs_format.layers_format(self.keras.saving.serialize_keras_object(layer))
        batch_input_shape = list(input_shape)
        batch_input_shape[time_axis] = None  # one model for calls of any length
        reply = self._request(worker, "build", f"case {rec.case_id}: load",
                              model=tfjs_format.model_topology(sent, batch_input_shape),
                              weights=[tfjs_node.encode(w) for w in rec.weights])
        unread = tfjs_format.unread_options(sent, reply["class_name"], reply["config"])
        if unread:
            worker.request("dispose", "dispose", handle=reply["handle"])
            raise tfjs_format.NotExpressible("TensorFlow.js ignored option(s) it does not know: "
                                             + ", ".join(unread))
        rec.info = {"runtime": "TensorFlow.js layers (cpu backend, node)", "loaded_with": LOADED_WITH,
                    "tfjs_class": reply["class_name"]}
        if rec.spec.config.get("unroll"):
            rec.info["ignored_by_tfjs"] = ("unroll=True (console.warn: 'Ignoring unroll = true for RNN "
                                           "layer, due to imperative backend.'): the loop runs step by step")
        return reply["handle"]

    @staticmethod
    def _request(worker, op, what, **payload):
        try:
            return worker.request(op, what, **payload)
        except tfjs_node.TfjsError as exc:
            raise _js_error(exc) from None

    def _keras_structure(self, layer, step):
        """The Keras 3 layer's output structure for a call like ``step``: its compute_output_spec
        (not a symbolic __call__, which meets Keras 3's own Bidirectional(stateful, return_state)
        bug, check/divergences.py keras3-bidirectional-stateful-return-state, in compute_mask)."""
        keras = self.keras
        x = keras.Input(batch_shape=np.shape(step.x), dtype=str(np.asarray(step.x).dtype))
        kwargs = {}
        if step.mask is not None:
            kwargs["mask"] = keras.Input(batch_shape=np.shape(step.mask), dtype="bool")
        if step.initial_state is not None:
            kwargs["initial_state"] = _map(lambda a: keras.Input(batch_shape=a.shape, dtype=str(a.dtype)),
                                           list(step.initial_state))
        return layer.compute_output_spec(x, **kwargs)


def cannot_express(case) -> str | None:
    if case.layer in ("conv_lstm1d", "conv_lstm3d"):  # tfjs-layers/src/layers/convolutional_recurrent.ts
        return f"ConvLSTM{case.layer[-2:].upper()}: TensorFlow.js layers has ConvLSTM2D only"
    if case.dtype in DTYPE_REASONS:
        return DTYPE_REASONS[case.dtype]
    if case.layer == "gru":  # matrix/cases.py: "gru" is GRU(reset_after=True)
        return GRU_RESET_AFTER
    return None


def _signature(step):
    def sig(a):
        return None if a is None else (np.shape(a), str(np.asarray(a).dtype))
    states = None if step.initial_state is None else repr(_map(sig, list(step.initial_state)))
    return sig(step.x), sig(step.mask), states


def _map(fn, tree):
    if isinstance(tree, (list, tuple)):
        return type(tree)(_map(fn, t) for t in tree)
    return fn(np.asarray(tree))


def _pack(structure, leaves):
    """Flat arrays in the Keras output structure (tuples and lists kept)."""
    if isinstance(structure, tuple):
        return tuple(_pack(s, leaves) for s in structure)
    if isinstance(structure, list):
        return [_pack(s, leaves) for s in structure]
    return np.asarray(next(leaves))


ADAPTER = TfjsTarget()
