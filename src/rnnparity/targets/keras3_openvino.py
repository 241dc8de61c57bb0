"""The `keras3-openvino` target: Keras 3 on its openvino backend (inference only), in a worker
process (targets/keras3_backend.py)."""
from .keras3_backend import BackendTarget

ADAPTER = BackendTarget("openvino")
