"""The `keras3-numpy` target: Keras 3 on the numpy backend, in a worker process (targets/keras3_backend.py)."""
from .keras3_backend import BackendTarget

ADAPTER = BackendTarget("numpy")
