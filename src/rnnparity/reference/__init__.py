"""Pure NumPy reference of the Keras recurrent layers. Never imports a framework."""
from .bidirectional import MERGE_MODES, Bidirectional
from .layer import GRU, LSTM, NO_EFFECT_OPTIONS, RecurrentLayer, SimpleRNN

LAYER_CLASSES = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}

__all__ = ["SimpleRNN", "LSTM", "GRU", "Bidirectional", "RecurrentLayer", "MERGE_MODES",
           "NO_EFFECT_OPTIONS", "LAYER_CLASSES"]
