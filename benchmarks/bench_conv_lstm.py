"""The `conv_lstm` section of bench.py: the reference ConvLSTM2D forward against tf.function(Keras 3
ConvLSTM2D), float32, 3x3 kernel, padding 'same', return_sequences=True, same weights and input, at a
nowcasting shape and a video shape (issue 22; target ratio <= 1.5). Each row also splits the
reference's time into the input convolution (every timestep, before the loop), the T recurrent
convolutions alone (im2col + product, block by block: reference/conv.py) and the rest (the gate
equations, which a real step computes in the same blocks right after each block's product, and the
loop), and gives the max abs difference to the framework's output, so a fast but wrong reference
cannot hide.

    PYTHONPATH=src python benchmarks/bench.py --section conv_lstm --json benchmarks/results-conv-lstm.json
"""
from __future__ import annotations

import numpy as np

import rnnparity as rp

# name -> (batch, time, height, width, channels, filters)
SHAPES = {"nowcasting": (4, 10, 64, 64, 1, 32), "video": (8, 16, 32, 32, 3, 16)}
TINY_SHAPES = {"tiny": (2, 3, 6, 5, 2, 3)}
TARGET_RATIO = 1.5


def _layer(batch, steps, height, width, channels, filters, seed=0):
    import keras

    layer = keras.layers.ConvLSTM2D(filters, 3, padding="same", return_sequences=True,
                                    kernel_initializer="zeros", recurrent_initializer="zeros")
    layer.build((batch, steps, height, width, channels))
    rng = np.random.RandomState(seed)  # uniform(+-1/sqrt(fan_in)): a well-conditioned recurrence
    layer.set_weights([rng.uniform(-1, 1, w.shape).astype("float32") /
                       (np.sqrt(np.prod(w.shape[:-1])) if w.ndim > 1 else 10) for w in layer.get_weights()])
    return layer


def bench_conv_lstm(repeats, round_robin, tiny=False):
    import tensorflow as tf

    rows = []
    for name, shape in (TINY_SHAPES if tiny else SHAPES).items():
        batch, steps, height, width, channels, filters = shape
        layer = _layer(*shape)
        ref = rp.from_keras(layer)
        x = np.random.RandomState(1).normal(size=(batch, steps, height, width, channels)).astype("float32")
        x_tf = tf.constant(x)
        fn = tf.function(lambda t: layer(t, training=False), jit_compile=False)
        want = fn(x_tf).numpy()  # traces once
        err = float(np.max(np.abs(ref(x) - want)))
        h = np.asarray(want[:, 0])  # a realistic state for the recurrent convolutions alone

        def recurrent_convolutions():
            for _ in range(steps):
                ref.cell.recurrent_conv(h)

        t_ref, t_tf, t_input, t_rec = round_robin(
            [lambda: ref(x), lambda: fn(x_tf), lambda: ref.cell.project_inputs(x), recurrent_convolutions],
            repeats)
        rows.append({"name": name, "shape": shape, "reference_s": t_ref, "tf_function_s": t_tf,
                     "ratio": t_ref / t_tf, "input_conv_s": t_input, "recurrent_convs_s": t_rec,
                     "rest_s": max(0.0, t_ref - t_input - t_rec), "max_abs_err": err,
                     "target_ratio": TARGET_RATIO})
        print(f"  ConvLSTM2D {name:10s} {str(shape):26s} ref {t_ref * 1e3:8.1f} ms  tf.function "
              f"{t_tf * 1e3:8.1f} ms  ratio {t_ref / t_tf:5.2f}  (input conv {t_input * 1e3:.1f}, "
              f"recurrent convs {t_rec * 1e3:.1f}, rest {max(0.0, t_ref - t_input - t_rec) * 1e3:.1f} ms)  "
              f"max|err| {err:.1e}", flush=True)
    return rows


def markdown(rows, table, loaded_rows=None):
    """The quiet table (with the loaded ratio beside it when measured), then where the time went."""
    loaded = {r["name"]: r for r in loaded_rows or []}
    rows = [{**r, "shape": "(b {}, T {}, {}x{}x{}, {} filters)".format(*r["shape"]),
             "loaded_ratio": "{:.2f}".format(loaded[r["name"]]["ratio"]) if r["name"] in loaded else "-",
             **{k.replace("_s", "_ms"): r[k] * 1e3 for k in ("reference_s", "tf_function_s", "input_conv_s",
                                                              "recurrent_convs_s", "rest_s")}} for r in rows]
    return ["ConvLSTM2D (3x3, 'same', float32, return_sequences): reference vs tf.function(Keras 3), "
            f"target ratio <= {TARGET_RATIO}; ms are quiet, the loaded ratio is with the other core busy:", "",
            table(rows, [("name", "{}"), ("shape", "{}"), ("reference_ms", "{:.1f}"), ("tf_function_ms", "{:.1f}"),
                         ("ratio", "{:.2f}"), ("loaded_ratio", "{}"), ("input_conv_ms", "{:.1f}"),
                         ("recurrent_convs_ms", "{:.1f}"), ("rest_ms", "{:.1f}"), ("max_abs_err", "{:.1e}")]), ""]
