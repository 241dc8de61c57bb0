"""rnnparity: a NumPy reference of Keras' recurrent layers, checked against live frameworks.

    import rnnparity as rp
    ref = rp.from_keras(keras_layer)        # config + weights from a live layer
    rp.testing.assert_parity(keras_layer, x) # does the framework agree with the reference?
    rp.explain(keras_layer_or_config, input_shape)
    report = rp.check_model(model, x)       # every recurrent layer of a model (or a .keras/.h5 file)
    print(rp.diagnose(keras_layer, x, port_outputs))  # which known porting mistake explains a port
    print(rp.diagnose_tf1("dynamic_rnn", tf1_cell, x, port_outputs))  # the same for TF1 code

Importing rnnparity never imports a framework, nor NumPy: the names load on first use, so the pytest
plugin (rnnparity.plugin, loaded into every pytest run of the environment) costs nothing.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"
__all__ = ["SimpleRNN", "LSTM", "GRU", "RNN", "Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "SimpleRNNCell", "LSTMCell", "GRUCell",
           "StackedRNNCells", "from_keras", "explain", "check_model", "diagnose", "diagnose_tf1", "testing",
           "tf1"]


def explain(layer_or_config, input_shape, **kwargs):
    """The output structure of a layer: names, shapes and order (see rnnparity.output_structure)."""
    from .output_structure import explain as _explain

    return _explain(layer_or_config, input_shape, **kwargs)


_LAZY = {**{name: ".reference" for name in ("SimpleRNN", "LSTM", "GRU", "RNN", "Bidirectional", "SimpleRNNCell",
                                            "LSTMCell", "GRUCell", "StackedRNNCells",
                                            "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")},
         "from_keras": ".keras_to_reference", "check_model": ".model.check_model", "diagnose": ".check.diagnose",
         "diagnose_tf1": ".check.tf1_diagnose"}


def __getattr__(name):  # lazy names and submodules: rp.LSTM, rp.testing, rp.tf1
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if name in ("testing", "tf1"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'rnnparity' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
