"""The `keras3-torch` target: Keras 3 on the torch backend, in a worker process (targets/keras3_backend.py)."""
from .keras3_backend import BackendTarget

ADAPTER = BackendTarget("torch")
