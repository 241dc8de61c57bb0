"""The keras3 adapter on a non-TensorFlow backend (numpy, jax, torch), run inside the backend worker
(targets/backend_worker.py). Only what touches TensorFlow changes: tensors come from keras.ops, there
is no tf.function for long sequences, and the versions name the backend's own library."""
from __future__ import annotations

import importlib
import os
import platform

import numpy as np

from .keras_adapter import KerasAdapter, map_tree, to_numpy

# backend -> the library whose version identifies it
LIBRARIES = {"numpy": "numpy", "jax": "jax", "torch": "torch", "tensorflow": "tensorflow",
             "openvino": "openvino"}


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
            kwargs["initial_state"] = map_tree(self._tensor, list(initial_state))
        with self._mode():
            out = layer(self._tensor(x), training=False, **kwargs)
        if self._openvino():  # one compile per call, states carried as values (see there)
            from .keras3_openvino_eval import evaluate

            return evaluate(layer, out)
        return to_numpy_any(out)

    def record(self, *args, **kwargs):
        rec = super().record(*args, **kwargs)
        if self._openvino():
            from .keras3_openvino_eval import CHANNEL

            rec.info = {**(rec.info or {}), "outputs read": CHANNEL}
        return rec

    def _openvino(self) -> bool:
        return self.K.backend.backend() == "openvino"

    def _mode(self):
        """jax: every eager call of a Keras RNN traces and XLA-compiles its lax.scan afresh (the scan
        body closes over the layer's weights, a new function each call, so no compilation cache
        hits): 1-3 s a call, the whole default tier 33 min. RNNPARITY_JAX_OP_BY_OP=1 runs the same
        Keras code under jax.disable_jit(): op by op, each primitive's kernel compiled once and
        reused (measured 0.2-0.3 s for a Bidirectional(LSTM) call instead of 2.5-3.3 s). Opt-in:
        eager-with-compiled-scan is what a jax user's layer call runs; the versions say which."""
        import contextlib

        if self.K.backend.backend() == "jax" and op_by_op():
            import jax

            return jax.disable_jit()
        return contextlib.nullcontext()

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
            out["jax_op_by_op"] = op_by_op()
        return out


def to_numpy_any(out):
    """to_numpy for any backend's tensors (torch: detached and on the CPU first)."""
    if isinstance(out, (tuple, list)):
        return type(out)(to_numpy_any(o) for o in out)
    if hasattr(out, "detach"):  # a torch tensor: Keras' own conversion, which keeps bfloat16
        import keras  # (torch's .numpy() refuses bfloat16) as an ml_dtypes array

        return np.asarray(keras.ops.convert_to_numpy(out.detach()))
    return to_numpy(out)


def op_by_op() -> bool:
    text = os.environ.get("RNNPARITY_JAX_OP_BY_OP", "0")
    if text not in ("0", "1"):
        raise ValueError(f"RNNPARITY_JAX_OP_BY_OP: expected 0 or 1, got {text!r}")
    return text == "1"
