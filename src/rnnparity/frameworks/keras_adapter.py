"""Adapter shared by the two Keras targets: build a live layer from a layer spec, run it, reset it.

A *layer spec* is a plain, JSON-serialisable dict (it is stored in fixtures):
    {"class": "LSTM", "config": {constructor kwargs}, "wrapper": None | {"merge_mode": ...}}
the generic RNN around built-in cells:
    {"class": "RNN", "config": {RNN kwargs}, "cells": [{"class": "LSTMCell", "config": {...}}, ...],
     "stacked": False (RNN(cell), one cell) | True (RNN([cell, ...]), a StackedRNNCells), "wrapper": ...}
and, in either, "policy": a dtype policy name (e.g. "mixed_float16") given to the layer, its cells and
its wrapper alike, as `keras.mixed_precision.set_global_policy` would (the configs then hold no dtype).
"""
from __future__ import annotations

import importlib
import platform
from functools import cached_property

import numpy as np

from ._quiet import quiet_tensorflow


class KerasAdapter:
    def __init__(self, target: str, module_name: str, dialect: str):
        self.target = target
        self.module_name = module_name
        self.dialect = dialect

    @cached_property
    def K(self):
        quiet_tensorflow()
        return importlib.import_module(self.module_name)

    @cached_property
    def tf(self):
        quiet_tensorflow()
        return importlib.import_module("tensorflow")

    def versions(self) -> dict:
        K = self.K
        backend = K.backend.backend() if hasattr(K.backend, "backend") else "tensorflow"
        return {"target": self.target, "tensorflow": self.tf.__version__,
                "keras": getattr(K, "__version__", "?"), "backend": backend,
                "numpy": np.__version__, "python": platform.python_version(),
                "platform": platform.platform()}

    # -- building ------------------------------------------------------------------------------
    def construct(self, spec):
        """The framework layer for a spec, unbuilt. Raises whatever the framework raises."""
        layers = self.K.layers
        policy = {"dtype": spec["policy"]} if spec.get("policy") else {}
        if spec["class"] == "RNN":
            cells = [getattr(layers, c["class"])(**_cheap_initializers(c["config"]), **policy)
                     for c in spec["cells"]]
            cell = cells if spec.get("stacked") else cells[0]  # RNN wraps a list in StackedRNNCells
            inner = layers.RNN(cell, **spec["config"], **policy)
        else:
            inner = getattr(layers, spec["class"])(**_cheap_initializers(spec["config"]), **policy)
        wrapper = spec.get("wrapper")
        if wrapper is None:
            return inner
        kwargs = {"merge_mode": wrapper.get("merge_mode", "concat"), **policy}
        if wrapper.get("backward_config") is not None:
            kwargs["backward_layer"] = getattr(layers, spec["class"])(
                **_cheap_initializers(wrapper["backward_config"]), **policy)
        return layers.Bidirectional(inner, **kwargs)

    def build(self, spec, input_shape):
        layer = self.construct(spec)
        layer.build(tuple(input_shape))
        return layer

    # -- running -------------------------------------------------------------------------------
    def _tensor(self, a, dtype=None):
        return self.tf.convert_to_tensor(np.asarray(a) if dtype is None else np.asarray(a, dtype))

    def call(self, layer, x, mask=None, initial_state=None):
        """Run the layer eagerly (inference mode); return NumPy arrays in the framework's structure."""
        kwargs = {"training": False}
        if mask is not None:
            kwargs["mask"] = self._tensor(mask, bool)
        if initial_state is not None:  # a list of arrays, or of per-cell lists for stacked cells
            kwargs["initial_state"] = _map(self._tensor, list(initial_state))
        out = layer(self._tensor(x), **kwargs)
        return to_numpy(out)

    def reset(self, layer):
        (getattr(layer, "reset_states", None) or layer.reset_state)()

    def get_weights(self, layer):
        return [np.asarray(w) for w in layer.get_weights()]

    def set_weights(self, layer, weights):
        layer.set_weights(list(weights))


# Every weight is overwritten (seeded weights, or the recorded ones) before the first call, so the
# initial values never reach an output; "zeros" skips the orthogonal initializer's QR decomposition
# and the random draws of the others (benchmarks/README.md: the build is 40% of the framework's time).
_INITIALIZERS = ("kernel_initializer", "recurrent_initializer", "bias_initializer")


def _cheap_initializers(config):
    return {**{k: "zeros" for k in _INITIALIZERS}, **config}  # a spec's own initializers win


def _map(fn, tree):
    """``fn`` on every array of nested lists/tuples, keeping each container's type."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(_map(fn, t) for t in tree)
    return fn(tree)


def to_numpy(out):
    """Framework output -> the same structure (tuple/list kept) of NumPy arrays. tf_keras returns
    a stacked cell's states in a TensorFlow ListWrapper (a list subclass) when masked: a list here."""
    if isinstance(out, tuple):
        return tuple(to_numpy(o) for o in out)
    if isinstance(out, list):
        return [to_numpy(o) for o in out]
    return np.asarray(out)
