"""rnnparity: a NumPy reference of Keras' recurrent layers, checked against live frameworks.

    import rnnparity as rp
    ref = rp.from_keras(keras_layer)        # config + weights from a live layer
    rp.testing.assert_parity(keras_layer, x) # does the framework agree with the reference?
    rp.explain(keras_layer_or_config, input_shape)

Importing rnnparity never imports a framework.
"""
from __future__ import annotations

import importlib

from .convert import from_keras
from .reference import GRU, LSTM, Bidirectional, SimpleRNN

__version__ = "0.1.0"
__all__ = ["SimpleRNN", "LSTM", "GRU", "Bidirectional", "from_keras", "explain", "testing", "tf1"]


def explain(layer_or_config, input_shape, **kwargs):
    """The output structure of a layer: names, shapes and order (see rnnparity.structure)."""
    from .structure import explain as _explain

    return _explain(layer_or_config, input_shape, **kwargs)


def __getattr__(name):  # lazy submodules: rp.testing, rp.tf1
    if name in ("testing", "tf1"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'rnnparity' has no attribute {name!r}")
