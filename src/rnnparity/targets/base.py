"""The target protocol: what every oracle (a framework, a backend, a converted runtime) provides.

A target takes a case's *layer spec* (rnnparity.plan.LayerSpec; the tf1 target: a plan.Tf1Spec, one
`tf.compat.v1.nn` call), input shape and call *plan* (rnnparity.plan: calls and resets), builds its version of the layer, runs the plan and returns a
`Recording`: the spec, the plan, the weights it used and what each call produced (or the error).
The checker (check/runner.py) then runs the reference through the same plan and compares.

    class Target:
        name: str                     # "keras3", "tflite", "keras3-numpy", ...
        dialect: str                  # the Keras semantics the reference follows: "keras3" | "keras2"
        def versions(self) -> dict
        def cannot_express(self, case) -> str | None     # the option it cannot express, and why
        def record(self, spec, plan, seed, case_id, input_shape, time_axis=1,
                   on_built=None, weights=None) -> Recording

Three ways to implement it:
- `LayerTarget`: a framework run in this process (keras3, tf_keras): build / set_weights / call / reset.
- `SourceLayerTarget`: runs something else made from the case's Keras layer, built with its weights
  (the reference is copied from it through ``on_built``): a converted model (tflite, onnx, openvino),
  another runtime (tfjs), another library (torch). It provides ``source`` (the Keras adapter) and
  ``run(layer, rec, input_shape)``.
- any other `Target`: e.g. another process (a Keras backend).

``cannot_express`` is consulted when the matrix is made: a case a target cannot express is not a
silent skip but a visible one naming the option (and the conformance table's "rejected" cell).
``Recording.info`` carries what a report should say about how the case ran (e.g. the TFLite ops the
layer became, or the kernel that ran).
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from ..plan import Outcome, Plan, Recording, Reset, error_tuple, seeded_weights


def execute(call, reset, plan: Plan) -> Outcome:
    """Run a plan through `call(Call) -> outputs` and `reset()`; stop at the first error."""
    outcome = Outcome()
    for i, step in enumerate(plan.steps):
        try:
            if isinstance(step, Reset):
                reset()
            else:
                outcome.outputs.append(call(step))
        except Exception as exc:  # noqa: BLE001 - the error *is* the observation
            outcome.error = error_tuple(i, exc)
            break
    return outcome


def initial_weights(shapes, seed, dtype, weights=None) -> list:
    """The weights a case runs with: seeded uniform(-0.6, 0.6) (``weights`` None), the given arrays,
    or ``weights(shapes)``; cast to the spec's dtype."""
    if weights is None:
        return seeded_weights(shapes, seed, dtype)
    given = weights(shapes) if callable(weights) else weights
    return [np.asarray(w, dtype) for w in given]


def spec_dtype(spec) -> str:
    return spec.dtype


class Target:
    """Base of every target; see the module docstring for the protocol."""
    name: str = "?"
    dialect: str = "keras3"

    def versions(self) -> dict:
        raise NotImplementedError

    def cannot_express(self, case) -> str | None:
        return None

    def record(self, spec, plan, seed, case_id, input_shape, time_axis=1, on_built=None,
               weights=None) -> Recording:
        raise NotImplementedError


def build_source_layer(adapter, rec: Recording, spec, input_shape, seed, weights, on_built):
    """Build ``spec`` with a Keras adapter, give it the case's weights (stored in ``rec.weights``)
    and hand it to ``on_built``. Returns the layer, or None with ``rec.outcome.error`` set when the
    framework rejected the configuration (a rejected configuration is a case too)."""
    try:
        layer = adapter.build(spec, input_shape)
        shapes = [w.shape for w in adapter.get_weights(layer)]
        rec.weights = initial_weights(shapes, seed, spec_dtype(spec), weights)
        adapter.set_weights(layer, rec.weights)
    except Exception as exc:  # noqa: BLE001
        rec.outcome.error = error_tuple(-1, exc)
        return None
    rec.layer = layer
    if on_built is not None:
        on_built(layer)
    return layer


class SourceLayerTarget(Target):
    """A target that runs something made from the case's Keras layer: ``record`` builds the layer
    with ``source`` (a Keras adapter) and the case's weights, then hands it to ``run``; a
    configuration the framework rejects is the recording's error, and ``run`` is not called."""
    source = None  # the Keras adapter the source layer is built with

    @cached_property
    def tf(self):
        """TensorFlow (the converters'), imported on first use with its start-up noise quietened."""
        import importlib

        from ._quiet import quiet_tensorflow

        quiet_tensorflow()
        return importlib.import_module("tensorflow")

    def record(self, spec, plan, seed, case_id, input_shape, time_axis=1, on_built=None,
               weights=None) -> Recording:
        rec = Recording(case_id, spec, plan, None, Outcome(), self.dialect, time_axis)
        layer = build_source_layer(self.source, rec, spec, input_shape, seed, weights, on_built)
        if layer is not None:
            self.run(layer, rec, input_shape)
        return rec

    def run(self, layer, rec: Recording, input_shape) -> None:
        """Run ``rec.plan`` from ``layer``: set ``rec.outcome`` (and ``rec.info``)."""
        raise NotImplementedError


class LayerTarget(Target):
    """A framework run in this process: subclasses provide build / get_weights / set_weights /
    call / reset (targets/keras_adapter.py)."""

    def record(self, spec, plan, seed, case_id, input_shape, time_axis=1, on_built=None,
               weights=None) -> Recording:
        rec = Recording(case_id, spec, plan, None, Outcome(), self.dialect, time_axis)
        layer = build_source_layer(self, rec, spec, input_shape, seed, weights, on_built)
        if layer is not None:
            rec.outcome = execute(lambda s: self.call(layer, s.x, s.mask, s.initial_state),
                                  lambda: self.reset(layer), plan)
        return rec
