"""The `keras3-openvino` target: Keras 3 on its openvino backend (inference only), in a worker
process (targets/keras3_backend.py). Each call's outputs and a stateful layer's states are read from
one compiled model (targets/keras3_openvino_eval.py). Its worker timeout is 20 minutes, not 300 s:
OpenVINO compiles a T=100 call's unrolled graph in 30-60 s (more on a loaded machine), and a stateful
case of the full tier makes six such calls; RNNPARITY_WORKER_TIMEOUT still overrides it."""
from .keras3_backend import BackendTarget

TIMEOUT_S = 1200.0

ADAPTER = BackendTarget("openvino", timeout=TIMEOUT_S)
