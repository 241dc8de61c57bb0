"""Seeded synthetic data for the example models: what each one is trained on for a few steps, and the
sample inputs saved beside it. NumPy only, so both dialects get the very same arrays.

Sample inputs are what the model really gets: token ids within each vocabulary (0 is the padding id),
one-hot characters, boolean frame masks. Where a model masks, the rows are padded on the right and on
the left (`PADDING`); the stateful model's samples are consecutive batches of one text."""
from __future__ import annotations

import numpy as np

from . import sizes as S

# (side, padded steps) for each sample row of a masking model: full rows, right and left padding, and a
# row with a single real step
PADDING = (("right", 0), ("right", 3), ("left", 4), ("right", None), ("left", 1), ("right", 0))
assert len(PADDING) == S.SAMPLE_ROWS


def _valid(t, layout):
    """Boolean (rows, t): True at the real steps of each row, per a (side, padded steps) layout; None
    padded steps means all but one."""
    valid = np.ones((len(layout), t), dtype=bool)
    for row, (side, pad) in enumerate(layout):
        pad = t - 1 if pad is None else pad
        if pad:
            if side == "right":
                valid[row, t - pad:] = False
            else:
                valid[row, :pad] = False
    return valid


def _random_layout(rng, rows, t):
    """Right-padded rows of random length (>= 2 real steps), as `pad_sequences(padding="post")` makes."""
    return [("right", int(p)) for p in rng.randint(0, t - 1, size=rows)]


def _ids(rng, valid, vocab):
    """Token ids 1..vocab-1 at the real steps, the padding id 0 elsewhere."""
    return np.where(valid, rng.randint(1, vocab, size=valid.shape), 0).astype("int32")


def _one_hot(ids, depth):
    return np.eye(depth, dtype="float32")[ids]


def _features(rng, valid, features):
    """Normal features at the real steps, exact zeros (what Masking(0.0) masks) elsewhere."""
    x = rng.normal(size=valid.shape + (features,)).astype("float32")
    return np.where(valid[..., None], x, np.float32(0.0))


def seq2seq_chars(rng, rows, sample):
    # one-hot characters, padded with a space token (id 0) like the published example: nothing masks
    enc = _one_hot(rng.randint(0, S.S2S_ENC_TOKENS, size=(rows, S.S2S_ENC_T)), S.S2S_ENC_TOKENS)
    dec_ids = rng.randint(0, S.S2S_DEC_TOKENS, size=(rows, S.S2S_DEC_T + 1))
    dec_ids[:, 0] = 1  # the start token
    inputs = {"encoder_inputs": enc, "decoder_inputs": _one_hot(dec_ids[:, :-1], S.S2S_DEC_TOKENS)}
    return inputs, _one_hot(dec_ids[:, 1:], S.S2S_DEC_TOKENS)


def imdb_bilstm(rng, rows, sample):
    # pre-padded like pad_sequences' default; the model has no mask, so padding ids are just tokens
    layout = [("left", p) for p, _ in zip((0, 5, 12, 1, 18, 0), range(rows))] if sample else \
        [("left", int(p)) for p in rng.randint(0, S.IMDB_T - 1, size=rows)]
    ids = _ids(rng, _valid(S.IMDB_T, layout), S.IMDB_VOCAB)
    return {"tokens": ids}, rng.randint(0, 2, size=(rows, 1)).astype("float32")


def stateful_char_gru(rng, rows, sample):
    """Consecutive batches: row i of batch k+1 continues row i of batch k (one text per batch row)."""
    batches = S.CHAR_SAMPLE_BATCHES if sample else max(1, rows // S.CHAR_BATCH)
    text = rng.randint(0, S.CHAR_VOCAB, size=(S.CHAR_BATCH, batches * S.CHAR_T + 1))
    x = np.concatenate([text[:, k * S.CHAR_T:(k + 1) * S.CHAR_T] for k in range(batches)])
    y = np.concatenate([text[:, k * S.CHAR_T + 1:(k + 1) * S.CHAR_T + 1] for k in range(batches)])
    return {"chars": x.astype("int32")}, y.astype("int32")


def nmt_bigru(rng, rows, sample):
    src_layout = PADDING[:rows] if sample else _random_layout(rng, rows, S.NMT_SRC_T)
    # the target rows are padded differently from the source rows: each embedding's own mask matters
    tgt_layout = PADDING[::-1][:rows] if sample else _random_layout(rng, rows, S.NMT_TGT_T)
    src = _ids(rng, _valid(S.NMT_SRC_T, src_layout), S.NMT_SRC_VOCAB)
    tgt = _ids(rng, _valid(S.NMT_TGT_T, tgt_layout), S.NMT_TGT_VOCAB)
    return {"source_tokens": src, "target_tokens": tgt}, rng.randint(0, S.NMT_TGT_VOCAB, size=tgt.shape)


def video_gru_mask(rng, rows, sample):
    valid = _valid(S.VIDEO_FRAMES, PADDING[:rows] if sample else _random_layout(rng, rows, S.VIDEO_FRAMES))
    inputs = {"frame_features": _features(rng, valid, S.VIDEO_FEATURES), "frame_mask": valid}
    return inputs, rng.randint(0, S.VIDEO_CLASSES, size=(rows,))


def masked_series(rng, rows, sample):
    valid = _valid(S.SERIES_T, PADDING[:rows] if sample else _random_layout(rng, rows, S.SERIES_T))
    return {"series": _features(rng, valid, S.SERIES_FEATURES)}, rng.normal(size=(rows, 1)).astype("float32")


def hierarchical_rnn(rng, rows, sample):
    image = rng.uniform(0.0, 1.0, size=(rows, S.ROWS, S.COLS, 1)).astype("float32")
    return {"image": image}, rng.randint(0, 10, size=(rows,))


def rnn_cells(rng, rows, sample):
    valid = _valid(S.CELLS_T, PADDING[:rows] if sample else _random_layout(rng, rows, S.CELLS_T))
    return {"tokens": _ids(rng, valid, S.CELLS_VOCAB)}, rng.randint(0, 2, size=(rows, 1)).astype("float32")


_MAKERS = {f.__name__: f for f in (seq2seq_chars, imdb_bilstm, stateful_char_gru, nmt_bigru,
                                  video_gru_mask, masked_series, hierarchical_rnn, rnn_cells)}

TRAIN_SEED, SAMPLE_SEED = 1234, 5678


def training_data(name):
    """(inputs by input name, targets) the example is fitted on."""
    return _MAKERS[name](np.random.RandomState(TRAIN_SEED), S.TRAIN_ROWS, sample=False)


def sample_inputs(name):
    """The sample inputs saved with the example: {input name: array}."""
    return _MAKERS[name](np.random.RandomState(SAMPLE_SEED), S.SAMPLE_ROWS, sample=True)[0]
