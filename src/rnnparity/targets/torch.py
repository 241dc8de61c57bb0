"""The `torch` target: the case's Keras 3 layer ported to torch.nn (rnnparity.port.torch) and run there.

The Keras 3 layer is built with the case's weights (the reference is copied from it); the port is made
from it and runs the plan. Not selected by default (torch is a 5.5 GB install): name it,
`--rnnparity-targets torch` or `rnnparity check --target torch`."""
from __future__ import annotations

from .base import SourceLayerTarget, execute
from ..plan import error_tuple
from .keras_adapter import KerasAdapter

ACTIVATIONS_TORCH_LACKS = {"act_linear": "activation='linear'", "act_hard_sigmoid": "activation='hard_sigmoid'"}


class TorchTarget(SourceLayerTarget):
    name = "torch"
    dialect = "keras3"

    def __init__(self):
        self.source = KerasAdapter("keras3", "keras", "keras3")

    def versions(self) -> dict:
        import torch

        return {**self.source.versions(), "target": "torch", "torch": torch.__version__}

    def cannot_express(self, case) -> str | None:
        """What rnnparity.port.torch refuses, decided from the case (nothing imported)."""
        if case.layer.startswith("conv_lstm"):
            return "ConvLSTM1D/2D/3D: torch has no ConvLSTM module to port to (rnnparity.port.torch " \
                   "ports SimpleRNN, LSTM and GRU)"
        if case.cell == "stacked":
            return "stacked cells (RNN([cell, cell])): one torch module per layer kind"
        if case.layer == "gru_reset_before":
            return "GRU reset_after=False: torch.nn.GRU applies the reset gate after the recurrent product"
        if case.activation in ACTIVATIONS_TORCH_LACKS or (case.activation == "act_relu" and case.layer != "simple_rnn"):
            what = ACTIVATIONS_TORCH_LACKS.get(case.activation, "activation='relu'")
            return f"{what}: torch's modules compute tanh (nn.RNN: tanh or relu)"
        if case.activation == "ract_hard_sigmoid":
            return "recurrent_activation='hard_sigmoid': torch's gates are sigmoid"
        if case.dtype not in ("f32", "f64"):
            return f"dtype {case.dtype}: the port runs float32 or float64 only"
        if case.mask in ("left", "holes"):
            return f"mask_{case.mask}: a packed sequence is right-padded"
        if case.mask == "full_row":
            return "mask_full_row: a packed sequence needs every sample's length >= 1"
        if case.mask != "none" and case.go_backwards and case.wrapper == "none":
            return "a mask with go_backwards=True: reversed, the padding comes first"
        if case.stateful and case.initial_state:
            return "initial_state on a stateful layer (the port carries its own states)"
        return None

    def run(self, layer, rec, input_shape) -> None:
        from ..port.torch import Unsupported, to_torch

        try:
            port = to_torch(layer)
        except Unsupported as exc:  # cannot_express missed it: a visible error, never a pass
            rec.outcome.error = error_tuple(-1, exc)
            return
        rec.info = {"module": repr(port.module)}
        rec.outcome = execute(lambda s: port(s.x, s.mask, s.initial_state), port.reset_states, rec.plan)


ADAPTER = TorchTarget()
