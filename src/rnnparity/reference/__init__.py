"""Pure NumPy reference of the Keras recurrent layers. Never imports a framework."""
from .bidirectional import MERGE_MODES, Bidirectional
from .gru import GRUCell
from .layer import GRU, LSTM, NO_EFFECT_OPTIONS, RecurrentLayer, SimpleRNN
from .lstm import LSTMCell
from .rnn import RNN
from .simple_rnn import SimpleRNNCell
from .stacked import StackedRNNCells

LAYER_CLASSES = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
CELL_CLASSES = {"SimpleRNNCell": SimpleRNNCell, "LSTMCell": LSTMCell, "GRUCell": GRUCell}

__all__ = ["SimpleRNN", "LSTM", "GRU", "RNN", "Bidirectional", "SimpleRNNCell", "LSTMCell", "GRUCell",
           "StackedRNNCells", "RecurrentLayer", "MERGE_MODES", "NO_EFFECT_OPTIONS", "LAYER_CLASSES",
           "CELL_CLASSES"]
