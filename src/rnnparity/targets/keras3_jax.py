"""The `keras3-jax` target: Keras 3 on the jax backend, in a worker process (targets/keras3_backend.py)."""
from .keras3_backend import BackendTarget

ADAPTER = BackendTarget("jax")
