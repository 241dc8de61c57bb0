"""Small models of the architectures users check (written for these tests), in either Keras.

Each builder takes the Keras module (keras or tf_keras) and returns (model, inputs); weights are the
framework's own random initialisation, seeded, so every gate and unit differs.
"""
from __future__ import annotations

import numpy as np

from rnnparity.targets import registry

B, T, V = 4, 7, 20  # batch, time steps, vocabulary


def keras_module(target):
    ok, why = registry.availability(target)
    if not ok:
        import pytest

        pytest.skip(why)
    K = registry.get(target).K
    K.utils.set_random_seed(1)
    return K


def padded_tokens(rng, vocab=V, batch=B, steps=T):
    """Token ids in [1, vocab), zero at the padded steps: rows 1, 3 right-padded, row 2 left-padded."""
    x = rng.randint(1, vocab, size=(batch, steps))
    x[1, 4:] = 0
    x[2, :3] = 0
    if batch > 3:
        x[3, 2:] = 0
    return x


def seq2seq(K, concat_states=False):
    """Encoder Embedding(mask_zero) -> LSTM(return_state) (or Bidirectional, its states concatenated)
    whose states start a decoder LSTM over float inputs."""
    L = K.layers
    tokens = L.Input((None,), dtype="int32", name="tokens")
    emb = L.Embedding(V, 5, mask_zero=True, name="enc_emb")(tokens)
    if concat_states:
        _, fh, fc, bh, bc = L.Bidirectional(L.LSTM(3, return_state=True), name="encoder")(emb)
        states = [L.Concatenate(name="h")([fh, bh]), L.Concatenate(name="c")([fc, bc])]
        units = 6
    else:
        _, h, c = L.LSTM(6, return_state=True, name="encoder")(emb)
        states, units = [h, c], 6
    dec_in = L.Input((None, 4), name="decoder_in")
    seq = L.LSTM(units, return_sequences=True, name="decoder")(dec_in, initial_state=states)
    model = K.Model([tokens, dec_in], L.Dense(3, name="out")(seq))
    rng = np.random.RandomState(0)
    return model, [padded_tokens(rng), rng.normal(size=(B, 5, 4)).astype("float32")]


def nmt_encoder(K):
    """Embedding(mask_zero) + Bidirectional(GRU, merge_mode='sum', return_state) + a GRU on top."""
    L = K.layers
    tokens = L.Input((None,), dtype="int32", name="tokens")
    emb = L.Embedding(V, 6, mask_zero=True, name="emb")(tokens)
    seq, fh, bh = L.Bidirectional(L.GRU(5, return_sequences=True, return_state=True),
                                  merge_mode="sum", name="bi_gru")(emb)
    top = L.GRU(5, name="top_gru")(seq, initial_state=L.Add(name="state_sum")([fh, bh]))
    model = K.Model(tokens, top)
    return model, padded_tokens(np.random.RandomState(1))


def stateful_char_gru(K):
    """Embedding -> GRU(stateful=True, return_sequences) -> Dense over consecutive batches."""
    L = K.layers
    model = K.Sequential([L.Input((T,), batch_size=2, dtype="int32"), L.Embedding(V, 4, name="chars"),
                          L.GRU(5, stateful=True, return_sequences=True, name="char_gru"),
                          L.Dense(V, name="logits")])
    rng = np.random.RandomState(2)
    batches = [rng.randint(0, V, size=(2, T)) for _ in range(5)]
    return model, (lambda k: batches[k])


def explicit_mask(K):
    """A GRU given an explicit boolean mask input."""
    L = K.layers
    x = L.Input((None, 3), name="x")
    m = L.Input((None,), dtype="bool", name="m")
    out = L.GRU(4, return_sequences=True, name="masked_gru")(x, mask=m)
    model = K.Model([x, m], out)
    rng = np.random.RandomState(3)
    mask = np.ones((B, T), bool)
    mask[1, 3:] = mask[2, :4] = False
    return model, [rng.normal(size=(B, T, 3)).astype("float32"), mask]


def nested(K):
    """Masking -> a nested Sequential holding an LSTM -> a SimpleRNN."""
    L = K.layers
    inner = K.Sequential([L.Input((None, 3)), L.LSTM(4, return_sequences=True, name="inner_lstm")],
                         name="inner")
    x = L.Input((None, 3), name="x")
    out = L.SimpleRNN(2, name="outer_rnn")(inner(L.Masking(name="masking")(x)))
    model = K.Model(x, out)
    xs = np.random.RandomState(4).normal(size=(B, T, 3)).astype("float32")
    xs[1, 5:] = 0.0
    return model, xs


def time_distributed(K):
    """TimeDistributed(SimpleRNN) over (batch, sentences, words, features)."""
    L = K.layers
    x = L.Input((2, 5, 3), name="x")
    out = L.TimeDistributed(L.SimpleRNN(3, name="word_rnn"), name="per_sentence")(x)
    model = K.Model(x, out)
    return model, np.random.RandomState(5).normal(size=(B, 2, 5, 3)).astype("float32")


def subclassed(K):
    """A subclassed model whose recurrent layers are attributes (one in a list)."""
    L = K.layers

    class Tagger(K.Model):
        def __init__(self):
            super().__init__(name="tagger")
            self.emb = L.Embedding(V, 4, mask_zero=True)
            self.blocks = [L.LSTM(3, return_sequences=True, name="block_lstm"),
                           L.Bidirectional(L.GRU(2, return_sequences=True), name="block_bi")]

        def call(self, x):
            h = self.emb(x)
            for block in self.blocks:
                h = block(h)
            return h

    model = Tagger()
    x = padded_tokens(np.random.RandomState(6))
    model(x)
    return model, x


LIVE = {"seq2seq": seq2seq, "seq2seq_concat": lambda K: seq2seq(K, concat_states=True),
        "nmt_encoder": nmt_encoder, "explicit_mask": explicit_mask, "nested": nested,
        "time_distributed": time_distributed, "subclassed": subclassed}
# the rows each model has: name -> (class, mask source); a dict of sources where the targets differ
# (Keras 3 passes no propagated mask to a layer called with initial_state; tf_keras does)
PROPAGATED = "a propagated Keras mask (no graph to trace it in)"
DROPPED = "none (the mask its input carries is not passed)"
ROWS = {
    "seq2seq": {"encoder": ("LSTM", "Embedding 'enc_emb' (mask_zero)"), "decoder": ("LSTM", "none")},
    "seq2seq_concat": {"encoder": ("Bidirectional(LSTM)", "Embedding 'enc_emb' (mask_zero)"),
                       "decoder": ("LSTM", "none")},
    "nmt_encoder": {"bi_gru": ("Bidirectional(GRU)", "Embedding 'emb' (mask_zero)"),
                    "top_gru": ("GRU", {"keras3": DROPPED,
                                        "tf_keras": "Embedding 'emb' (mask_zero), via 'bi_gru'"})},
    "explicit_mask": {"masked_gru": ("GRU", "explicit mask= from input 'm'")},
    "nested": {"inner/inner_lstm": ("LSTM", "Masking 'masking' (mask_value=0)"),
               "outer_rnn": ("SimpleRNN", "Masking 'masking' (mask_value=0), via 'inner/inner_lstm'")},
    "time_distributed": {"per_sentence/word_rnn": ("TimeDistributed(SimpleRNN)", "none")},
    "subclassed": {"block_lstm": ("LSTM", PROPAGATED), "block_bi": ("Bidirectional(GRU)", PROPAGATED)},
}


def expected_rows(name, target):
    return {row: (cls, source[target] if isinstance(source, dict) else source)
            for row, (cls, source) in ROWS[name].items()}
