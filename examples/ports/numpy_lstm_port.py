"""A hand-written NumPy port of a Keras LSTM, with one planted porting mistake, and its diagnosis.

    PYTHONPATH=src python examples/ports/numpy_lstm_port.py

The port below reads Keras' weights (kernel, recurrent_kernel, bias) and runs the LSTM equations
itself, as a port to C or to an inference engine would. It splits the gate blocks in TF1's
BasicLSTMCell order (i, j, f, o: input, candidate, forget, output) instead of Keras' i, f, c, o: a
mistake that runs, returns outputs of the right shapes, and is wrong from the first step.
rp.diagnose names it.
"""
from __future__ import annotations

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_lstm(weights, x, return_sequences=True):
    """The port: a Keras LSTM(return_sequences, return_state=True) over x (batch, time, features)."""
    kernel, recurrent_kernel, bias = weights
    units = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], units), x.dtype)
    c = np.zeros_like(h)
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i, j, f, o = np.split(z, 4, axis=-1)  # the planted mistake: TF1's order, Keras' is i, f, c, o
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(j)
        h = sigmoid(o) * np.tanh(c)
        outputs.append(h)
    sequence = np.stack(outputs, axis=1)
    return [sequence if return_sequences else h, h, c]


def main():
    import keras

    import rnnparity as rp

    rng = np.random.RandomState(0)
    layer = keras.layers.LSTM(8, return_sequences=True, return_state=True)
    layer.build((4, 10, 3))
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype("float32") for w in layer.get_weights()])
    x = rng.normal(size=(4, 10, 3)).astype("float32")
    diagnosis = rp.diagnose(layer, x, numpy_lstm(layer.get_weights(), x))
    print(diagnosis)
    return diagnosis


if __name__ == "__main__":
    main()
