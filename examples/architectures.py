"""The example models, written from the published architectures (sizes shrunk so they build in seconds).

Every builder takes `K`, the Keras module of one dialect (`keras` for Keras 3, `tf_keras` for Keras 2),
and uses only API the two share, so one definition serves both. Layer names are explicit: the catalog
and the tests find the recurrent layers by name in either dialect. The synthetic data lives in
`data.py`; which public example each model follows is in `catalog.py`."""
from __future__ import annotations

from .sizes import (CHAR_BATCH, CHAR_VOCAB, IMDB_VOCAB, NMT_SRC_VOCAB, NMT_TGT_VOCAB, ROWS, COLS,
                    S2S_DEC_TOKENS, S2S_ENC_TOKENS, SERIES_FEATURES, VIDEO_CLASSES, VIDEO_FEATURES,
                    VIDEO_FRAMES, CELLS_VOCAB)


def seq2seq_chars(K):
    """Teacher-forced character seq2seq: the encoder's final (h, c) start the decoder."""
    enc_in = K.Input(shape=(None, S2S_ENC_TOKENS), name="encoder_inputs")
    _, state_h, state_c = K.layers.LSTM(16, return_state=True, name="encoder_lstm")(enc_in)
    dec_in = K.Input(shape=(None, S2S_DEC_TOKENS), name="decoder_inputs")
    dec_seq, _, _ = K.layers.LSTM(16, return_sequences=True, return_state=True,
                                  name="decoder_lstm")(dec_in, initial_state=[state_h, state_c])
    out = K.layers.Dense(S2S_DEC_TOKENS, activation="softmax", name="decoder_dense")(dec_seq)
    model = K.Model([enc_in, dec_in], out, name="seq2seq_chars")
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    return model


def imdb_bilstm(K):
    """Two stacked Bidirectional LSTMs over word embeddings, one sigmoid unit (no mask: padded ids are
    embedded like any other token, as in the published example)."""
    ids = K.Input(shape=(None,), dtype="int32", name="tokens")
    x = K.layers.Embedding(IMDB_VOCAB, 8, name="embedding")(ids)
    x = K.layers.Bidirectional(K.layers.LSTM(8, return_sequences=True), name="bilstm_1")(x)
    x = K.layers.Bidirectional(K.layers.LSTM(8), name="bilstm_2")(x)
    out = K.layers.Dense(1, activation="sigmoid", name="score")(x)
    model = K.Model(ids, out, name="imdb_bilstm")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def stateful_char_gru(K):
    """Character language model with a stateful GRU: a fixed batch size, each row continues in the next
    batch, states carried until reset."""
    model = K.Sequential([
        K.Input(shape=(None,), batch_size=CHAR_BATCH, dtype="int32", name="chars"),
        K.layers.Embedding(CHAR_VOCAB, 8, name="embedding"),
        K.layers.GRU(16, return_sequences=True, stateful=True, recurrent_initializer="glorot_uniform",
                     name="char_gru"),
        K.layers.Dense(CHAR_VOCAB, name="logits"),
    ], name="stateful_char_gru")
    model.compile(optimizer="adam", loss=K.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def nmt_bigru(K):
    """NMT with attention: a masked source embedding into a Bidirectional GRU that sums both directions
    and returns its two final states; their sum starts a decoder GRU over the masked target, which
    attends (Bahdanau, additive) over the encoder sequence."""
    src = K.Input(shape=(None,), dtype="int32", name="source_tokens")
    x = K.layers.Embedding(NMT_SRC_VOCAB, 8, mask_zero=True, name="source_embedding")(src)
    enc_seq, fwd_h, bwd_h = K.layers.Bidirectional(
        K.layers.GRU(16, return_sequences=True, return_state=True, recurrent_initializer="glorot_uniform"),
        merge_mode="sum", name="encoder_bigru")(x)
    state = K.layers.Add(name="encoder_state")([fwd_h, bwd_h])
    tgt = K.Input(shape=(None,), dtype="int32", name="target_tokens")
    y = K.layers.Embedding(NMT_TGT_VOCAB, 8, mask_zero=True, name="target_embedding")(tgt)
    dec_seq = K.layers.GRU(16, return_sequences=True, name="decoder_gru")(y, initial_state=state)
    context = K.layers.AdditiveAttention(name="attention")([dec_seq, enc_seq])
    mixed = K.layers.Concatenate(name="decoder_context")([dec_seq, context])
    out = K.layers.Dense(NMT_TGT_VOCAB, name="logits")(mixed)
    model = K.Model([src, tgt], out, name="nmt_bigru")
    model.compile(optimizer="adam", loss=K.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def video_gru_mask(K):
    """Sequence classifier over per-frame feature vectors with an explicit boolean frame mask: the
    first GRU gets the mask input, the second the mask the first one passes on."""
    frames = K.Input(shape=(VIDEO_FRAMES, VIDEO_FEATURES), name="frame_features")
    mask = K.Input(shape=(VIDEO_FRAMES,), dtype="bool", name="frame_mask")
    x = K.layers.GRU(16, return_sequences=True, name="frame_gru")(frames, mask=mask)
    x = K.layers.GRU(8, name="clip_gru")(x)
    x = K.layers.Dropout(0.4, name="dropout")(x)
    x = K.layers.Dense(8, activation="relu", name="hidden")(x)
    out = K.layers.Dense(VIDEO_CLASSES, activation="softmax", name="classes")(x)
    model = K.Model([frames, mask], out, name="video_gru_mask")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def masked_series(K):
    """Padded float series: a Masking layer, a SimpleRNN returning sequences, a stacked LSTM on top."""
    model = K.Sequential([
        K.Input(shape=(None, SERIES_FEATURES), name="series"),
        K.layers.Masking(mask_value=0.0, name="masking"),
        K.layers.SimpleRNN(16, return_sequences=True, name="simple_rnn"),
        K.layers.LSTM(8, return_sequences=True, name="lstm_1"),
        K.layers.LSTM(8, name="lstm_2"),
        K.layers.Dense(1, name="forecast"),
    ], name="masked_series")
    model.compile(optimizer="adam", loss="mse")
    return model


def hierarchical_rnn(K):
    """Hierarchical RNN over images: an LSTM encodes each pixel row (TimeDistributed), a second LSTM
    encodes the sequence of row encodings."""
    img = K.Input(shape=(ROWS, COLS, 1), name="image")
    rows = K.layers.TimeDistributed(K.layers.LSTM(16, name="row_lstm"), name="rows")(img)
    cols = K.layers.LSTM(16, name="column_lstm")(rows)
    out = K.layers.Dense(10, activation="softmax", name="digits")(cols)
    model = K.Model(img, out, name="hierarchical_rnn")
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    return model


def rnn_cells(K):
    """The generic RNN layer: one RNN over a built-in cell, one over a stack of cells, on a masked
    embedding."""
    ids = K.Input(shape=(None,), dtype="int32", name="tokens")
    x = K.layers.Embedding(CELLS_VOCAB, 8, mask_zero=True, name="embedding")(ids)
    x = K.layers.RNN(K.layers.LSTMCell(16), return_sequences=True, name="rnn_lstm_cell")(x)
    x = K.layers.RNN([K.layers.GRUCell(8), K.layers.SimpleRNNCell(8)], name="rnn_stacked_cells")(x)
    out = K.layers.Dense(1, activation="sigmoid", name="score")(x)
    model = K.Model(ids, out, name="rnn_cells")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


BUILDERS = {f.__name__: f for f in (seq2seq_chars, imdb_bilstm, stateful_char_gru, nmt_bigru,
                                    video_gru_mask, masked_series, hierarchical_rnn, rnn_cells)}
