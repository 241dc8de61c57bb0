"""Sizes of the example models and their data, shared by the builders, the data and the catalog.
Small on purpose (vocab <= 50, units <= 32, T <= 20): every example builds and trains in seconds."""

S2S_ENC_TOKENS, S2S_DEC_TOKENS, S2S_ENC_T, S2S_DEC_T = 12, 14, 8, 9
IMDB_VOCAB, IMDB_T = 50, 20
CHAR_VOCAB, CHAR_BATCH, CHAR_T, CHAR_SAMPLE_BATCHES = 30, 4, 10, 3
NMT_SRC_VOCAB, NMT_TGT_VOCAB, NMT_SRC_T, NMT_TGT_T = 40, 36, 12, 10
VIDEO_FRAMES, VIDEO_FEATURES, VIDEO_CLASSES = 20, 12, 5
SERIES_T, SERIES_FEATURES = 15, 6
ROWS, COLS = 8, 8
CELLS_VOCAB, CELLS_T = 30, 12

TRAIN_ROWS = 32   # training set per example (the stateful model: its batches, see data.py)
SAMPLE_ROWS = 6   # sample inputs per example, padded rows included where the model masks
