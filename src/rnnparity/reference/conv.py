"""N-d convolution as Keras computes it on TensorFlow (`tf.nn.convolution`), in NumPy.

Keras' "convolution" is a cross-correlation: the kernel is applied as stored, never flipped,

    y[b, p, f] = sum over kernel offsets q and channels ch of  x[b, s*p + d*q - pad_before, ch] * w[q, ch, f]

with s the strides, d the dilation_rate and x zero outside its bounds. Layout channels_last:
x (batch, *spatial, channels), kernel (*kernel_size, channels, filters) -> (batch, *out, filters).

- padding 'valid': no padding; out = floor((n - span) / s) + 1 with span = d (k - 1) + 1.
- padding 'same': out = ceil(n / s); TensorFlow pads total = max((out - 1) s + span - n, 0) zeros,
  total // 2 before and the rest after: an odd total puts the extra zero at the *end* (PyTorch's
  symmetric padding='same' puts it at the start for even kernels, which is a different result).

Computed as im2col: every window is gathered once (numpy's sliding_window_view, then a copy) into
one row of a matrix, and a matrix product with the kernel gives every output position and filter
(in blocks of rows: see `cross_correlate`).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import threads

PADDINGS = ("valid", "same")


def span(kernel_size, dilation):
    """How many input positions one dilated kernel window covers."""
    return dilation * (kernel_size - 1) + 1


def output_length(n, kernel_size, stride, dilation, padding):
    """Output length of a convolution along one axis (TF/Keras conv_output_length); <= 0 when a
    'valid' window does not fit."""
    if padding == "same":
        return -(-n // stride)
    return (n - span(kernel_size, dilation)) // stride + 1


def same_padding(n, kernel_size, stride, dilation):
    """(before, after) zeros TensorFlow adds along one axis for padding='same': the extra at the end."""
    total = max((output_length(n, kernel_size, stride, dilation, "same") - 1) * stride
                + span(kernel_size, dilation) - n, 0)
    return total // 2, total - total // 2


def windows(x, kernel_size, strides, dilation, padding):
    """Every kernel window of ``x`` (batch, *spatial, channels), padded as TF pads: a view of shape
    (batch, *out, *kernel_size, channels), the kernel's own axis order."""
    rank = len(kernel_size)
    if padding == "same":
        pads = [same_padding(n, k, s, d) for n, k, s, d in zip(x.shape[1:-1], kernel_size, strides, dilation)]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    spans = [span(k, d) for k, d in zip(kernel_size, dilation)]
    view = sliding_window_view(x, spans, axis=tuple(range(1, rank + 1)))  # (batch, *n', channels, *spans)
    every = slice(None)
    view = view[(every, *(slice(None, None, s) for s in strides), every,
                 *(slice(None, None, d) for d in dilation))]  # windows every s, taps every d
    return np.moveaxis(view, rank + 1, -1)


def cross_correlate(x, kernel, strides, dilation, padding, matmul=np.matmul, bias=None, then=None):
    """Keras' conv (channels_last): x (batch, *spatial, channels), kernel (*kernel_size, channels,
    filters) -> (batch, *out, filters), plus ``bias`` (filters,) when given. ``matmul`` is the
    compute dtype's matrix product.

    The columns are gathered and multiplied block by block (about threads.PRODUCT_BLOCK_ROWS output
    positions: whole batch rows, or a few output lines of one), on the free cores (threads.py): a block's
    columns are still in cache for its product, and the blocks depend only on the shapes, so the
    result has the same bits on any number of threads. ``then(z, where)``, when given, is called on
    each block ``z`` = result[where] as soon as it is computed, on the same thread (a ConvLSTM step's
    gate equations on the block while it is in cache)."""
    rank = kernel.ndim - 2
    view = windows(x, kernel.shape[:rank], strides, dilation, padding)  # (batch, *out, *kernel, channels)
    weights = kernel.reshape(-1, kernel.shape[-1])  # (taps x channels, filters)
    dtype = (np.result_type(x.dtype, weights.dtype) if matmul is np.matmul else  # the product's dtype
             matmul(np.zeros((0, weights.shape[0]), x.dtype), weights).dtype)
    out = np.empty(view.shape[:rank + 1] + weights.shape[-1:], dtype)
    blocks = _blocks(view.shape[:rank + 1], threads.PRODUCT_BLOCK_ROWS)

    def block(k):
        columns = view[blocks[k]].reshape(-1, weights.shape[0])  # im2col of this block: its one copy
        z = out[blocks[k]]  # contiguous: the product is written into it
        if matmul is np.matmul:
            np.matmul(columns, weights, out=z.reshape(columns.shape[0], -1))
        else:
            z.reshape(columns.shape[0], -1)[...] = matmul(columns, weights)
        if bias is not None:
            z += bias
        if then is not None:
            then(z, blocks[k])

    threads.product_blocks(block, len(blocks), math.prod(out.shape[:-1]) * weights.size)
    return out


def _blocks(leading, rows):
    """Index tuples into arrays of leading shape (batch, *out) cutting them into blocks of about
    ``rows`` positions: whole batch rows while one is smaller than that, else runs of output lines
    (all axes but the first) of one batch row. Each block is contiguous in a C-ordered array."""
    batch, per_row = leading[0], math.prod(leading[1:])
    if per_row <= rows:
        group = max(1, rows // max(per_row, 1))
        return [(slice(b, b + group),) for b in range(0, batch, group)]
    lines = max(1, rows // max(math.prod(leading[2:]), 1))
    return [(b, slice(start, start + lines)) for b in range(batch) for start in range(0, leading[1], lines)]
