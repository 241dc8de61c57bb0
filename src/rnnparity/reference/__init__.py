"""Pure NumPy reference of the Keras recurrent layers. Never imports a framework."""
from .bidirectional import MERGE_MODES, Bidirectional
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, ConvLSTMCell
from .gru import GRUCell
from .layer import GRU, LSTM, NO_EFFECT_OPTIONS, RecurrentLayer, SimpleRNN
from .lstm import LSTMCell
from .rnn import RNN
from .simple_rnn import SimpleRNNCell
from .stacked import StackedRNNCells

LAYER_CLASSES = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU,
                 "ConvLSTM1D": ConvLSTM1D, "ConvLSTM2D": ConvLSTM2D, "ConvLSTM3D": ConvLSTM3D}
CELL_CLASSES = {"SimpleRNNCell": SimpleRNNCell, "LSTMCell": LSTMCell, "GRUCell": GRUCell}

__all__ = ["SimpleRNN", "LSTM", "GRU", "RNN", "Bidirectional", "SimpleRNNCell", "LSTMCell", "GRUCell",
           "StackedRNNCells", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "ConvLSTMCell", "RecurrentLayer", "MERGE_MODES", "NO_EFFECT_OPTIONS", "LAYER_CLASSES",
           "CELL_CLASSES"]
