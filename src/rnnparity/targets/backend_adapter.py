"""The keras3 adapter on a non-TensorFlow backend (numpy, jax, torch), run inside the backend worker
(targets/backend_worker.py). Only what touches TensorFlow changes: tensors come from keras.ops, there
is no tf.function for long sequences, and the versions name the backend's own library."""
from __future__ import annotations

import importlib
import platform

import numpy as np

from .keras_adapter import KerasAdapter, _map, to_numpy

# backend -> the library whose version identifies it
LIBRARIES = {"numpy": "numpy", "jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}


class BackendKerasAdapter(KerasAdapter):
    def __init__(self, target: str):
        super().__init__(target, "keras", "keras3")

    def _tensor(self, a, dtype=None):
        return self.K.ops.convert_to_tensor(np.asarray(a) if dtype is None else np.asarray(a, dtype))

    def call(self, layer, x, mask=None, initial_state=None):
        kwargs = {}
        if mask is not None:
            kwargs["mask"] = self._tensor(mask, bool)
        if initial_state is not None:
            kwargs["initial_state"] = _map(self._tensor, list(initial_state))
        return to_numpy_any(layer(self._tensor(x), training=False, **kwargs))

    def versions(self) -> dict:
        K = self.K
        backend = K.backend.backend()
        library = importlib.import_module(LIBRARIES[backend])
        out = {"target": self.target, "keras": K.__version__, "backend": backend,
               backend: library.__version__, "numpy": np.__version__,
               "python": platform.python_version(), "platform": platform.platform()}
        if backend == "jax":
            import jax

            out["jax_enable_x64"] = bool(jax.config.jax_enable_x64)
        return out


def to_numpy_any(out):
    """to_numpy for any backend's tensors (torch: detached and on the CPU first)."""
    if isinstance(out, (tuple, list)):
        return type(out)(to_numpy_any(o) for o in out)
    if hasattr(out, "detach"):  # a torch tensor
        return out.detach().cpu().numpy()
    return to_numpy(out)
