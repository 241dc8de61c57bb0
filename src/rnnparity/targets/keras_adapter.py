"""Adapter shared by the two Keras targets: build a live layer from a layer spec, run it, reset it.

A *layer spec* is a `rnnparity.plan.LayerSpec` (stored in recordings as its JSON form).
"""
from __future__ import annotations

import importlib
import platform
from functools import cached_property

import numpy as np

from ._quiet import quiet_tensorflow
from ..plan import LayerSpec
from .base import LayerTarget


class KerasAdapter(LayerTarget):
    def __init__(self, target: str, module_name: str, dialect: str):
        self.target = self.name = target
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
        spec = LayerSpec.from_dict(spec)
        policy = {"dtype": spec.policy} if spec.policy else {}
        if spec.cls == "RNN":
            cells = [getattr(layers, c["class"])(**_cheap_initializers(c["config"]), **policy)
                     for c in spec.cells]
            cell = cells if spec.stacked else cells[0]  # RNN wraps a list in StackedRNNCells
            inner = layers.RNN(cell, **spec.config, **policy)
        else:
            inner = getattr(layers, spec.cls)(**_cheap_initializers(spec.config), **policy)
        wrapper = spec.wrapper
        if wrapper is None:
            return inner
        kwargs = {"merge_mode": wrapper.get("merge_mode", "concat"), **policy}
        if wrapper.get("dtype") is not None:
            kwargs["dtype"] = wrapper["dtype"]
        if wrapper.get("backward_config") is not None:
            kwargs["backward_layer"] = getattr(layers, spec.cls)(
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
        """Run the layer (inference mode); return NumPy arrays in the framework's structure.

        Eagerly, except for sequences of COMPILED_FROM_STEPS steps or more (see there)."""
        kwargs = {}
        if mask is not None:
            kwargs["mask"] = self._tensor(mask, bool)
        if initial_state is not None:  # a list of arrays, or of per-cell lists for stacked cells
            kwargs["initial_state"] = map_tree(self._tensor, list(initial_state))
        x = self._tensor(x)
        if _steps(layer, x.shape) >= COMPILED_FROM_STEPS:
            out = self.tf.function(lambda x, kw: layer(x, training=False, **kw))(x, kwargs)
        else:
            out = layer(x, training=False, **kwargs)
        return to_numpy(out)

    def reset(self, layer):
        (getattr(layer, "reset_states", None) or layer.reset_state)()

    def get_weights(self, layer):
        return [np.asarray(w) for w in layer.get_weights()]

    def set_weights(self, layer, weights):
        layer.set_weights(list(weights))


# Eager Keras steps the time loop from Python, about 3 ms a step (a GRU at T=2000: 7 s); traced once
# with tf.function, as Keras' own predict() runs it, the loop runs in the graph (0.1-0.3 s). Graph
# optimisation may fuse ops (SimpleRNN: matmul + bias + tanh), so rounding can differ from eager:
# measured at T=2000 with saturated weights, LSTM and GRU outputs were identical, a SimpleRNN's
# differed by 5.5e-4 (float32). No case of the matrix is this long (its longest is T=100).
COMPILED_FROM_STEPS = 500


def _steps(layer, shape):
    inner = getattr(layer, "forward_layer", layer)
    return shape[0] if getattr(inner, "time_major", False) and len(shape) > 1 else (
        shape[1] if len(shape) > 1 else 0)


# Every weight is overwritten (seeded weights, or the recorded ones) before the first call, so the
# initial values never reach an output; "zeros" skips the orthogonal initializer's QR decomposition
# and the random draws of the others (benchmarks/README.md: the build is 40% of the framework's time).
_INITIALIZERS = ("kernel_initializer", "recurrent_initializer", "bias_initializer")


def _cheap_initializers(config):
    return {**{k: "zeros" for k in _INITIALIZERS}, **config}  # a spec's own initializers win


def state_variables(layer) -> list:
    """A stateful Keras 3 layer's state variables, flat, in the order its states are given and
    returned (forward, then backward, for a Bidirectional); [] when it is not stateful."""
    import keras

    if hasattr(layer, "forward_layer"):
        return state_variables(layer.forward_layer) + state_variables(layer.backward_layer)
    if not getattr(layer, "stateful", False) or getattr(layer, "states", None) is None:
        return []
    return keras.tree.flatten(layer.states)


def map_tree(fn, tree):
    """``fn`` on every array of nested lists/tuples, keeping each container's type."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(map_tree(fn, t) for t in tree)
    return fn(tree)


def to_numpy(out):
    """Framework output -> the same structure (tuple/list kept) of NumPy arrays. tf_keras returns
    a stacked cell's states in a TensorFlow ListWrapper (a list subclass) when masked: a list here."""
    if isinstance(out, tuple):
        return tuple(to_numpy(o) for o in out)
    if isinstance(out, list):
        return [to_numpy(o) for o in out]
    return np.asarray(out)
