"""ConvLSTM cases on the runtimes: what each target cannot express is declared, naming the layer
(no framework needed), and one ConvLSTM2D case converted to ONNX agrees with the reference (the
converter needs every axis but batch and time fixed: an unknown channel count sent Keras 3's
convolution through an XLA-compiled function that tf2onnx leaves as an invalid PartitionedCall)."""
from __future__ import annotations

import pytest

from rnnparity.matrix.conv_lstm_cases import ConvLstmCase
from rnnparity.targets import registry


@pytest.mark.parametrize("target,layer,says", [
    ("torch", "conv_lstm2d", "torch has no ConvLSTM module"),
    ("tfjs", "conv_lstm1d", "ConvLSTM1D: TensorFlow.js layers has ConvLSTM2D only"),
    ("tfjs", "conv_lstm3d", "ConvLSTM3D: TensorFlow.js layers has ConvLSTM2D only"),
    ("tflite", "conv_lstm3d", "ConvLSTM3D: its input is 6-D"),
])
def test_what_a_target_cannot_express_is_declared(target, layer, says):
    assert says in registry.cannot_express(ConvLstmCase(layer=layer, target=target))


@pytest.mark.parametrize("target", ["tfjs", "tflite", "onnx", "openvino"])
def test_conv_lstm2d_is_expressed_by_the_runtimes(target):
    assert registry.cannot_express(ConvLstmCase(layer="conv_lstm2d", return_sequences=True,
                                                target=target)) is None


@pytest.mark.live
def test_a_conv_lstm2d_case_converted_to_onnx_agrees():
    from rnnparity.check import runner

    ok, why = registry.availability("onnx")
    if not ok:
        pytest.skip(why)
    case = ConvLstmCase(layer="conv_lstm2d", return_sequences=True, return_state=True, target="onnx")
    rec, problems = runner.check_live(case)
    assert not problems, runner.failure_report(case.id, problems)
    assert rec.outcome.error is None


def test_openvino_declares_a_stateful_conv_lstm():
    says = registry.cannot_express(ConvLstmCase(layer="conv_lstm2d", stateful=True, target="openvino"))
    assert says.startswith("stateful ConvLSTM: ")
