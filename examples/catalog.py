"""What each example model is, which public example it follows, and what each of its recurrent layers
receives (its mask and where that mask comes from, its initial states). The tests check every one of
these claims against the live framework; the README and the check-model tests iterate over `EXAMPLES`.
Framework-free: importing it imports neither Keras nor NumPy's heavy friends.

Mask sources are "<kind>:<name>": `embedding:NAME` (Embedding(mask_zero=True)), `masking:NAME` (a
Masking layer), `input:NAME` (a boolean model input passed as `mask=`). `mask_via` names the recurrent
layers that passed the mask on (return_sequences=True keeps it). Initial states name the tensor they
are: `LAYER[i]` is output i of LAYER, a bare `LAYER` its only output."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import sizes as S

DIALECTS = ("keras3", "tf_keras")
FORMATS = ("keras", "h5")
BUILT = Path(__file__).resolve().parent / "built"  # where build_examples.py writes by default


@dataclass(frozen=True)
class Recurrent:
    """One recurrent layer of an example and what it receives."""
    name: str                       # the layer's name (the same in both dialects)
    cls: str                        # e.g. "LSTM", "Bidirectional(GRU)", "RNN(StackedRNNCells)"
    mask: str | None = None         # "<kind>:<name>" of the mask's origin, None: the layer gets no mask
    mask_via: tuple[str, ...] = ()  # recurrent layers between the origin and this one
    initial_state: tuple[str, ...] = ()
    stateful: bool = False
    inside: str | None = None       # the wrapper layer holding it (TimeDistributed), None: the model
    drops_mask: tuple[str, ...] = ()  # dialects whose framework never passes it that mask (NOTES)

    def mask_in(self, dialect: str) -> str | None:
        """The mask source this layer really gets in `dialect` (None: no mask reaches it)."""
        return None if dialect in self.drops_mask else self.mask


@dataclass(frozen=True)
class Example:
    name: str             # also the builder in architectures.py and the data maker in data.py
    follows: str          # the public example, by its published title
    url: str
    differs: str          # what this small version changes, so no one mistakes it for the original
    inputs: tuple[str, ...]  # the model's input names, in model.inputs order
    recurrent: tuple[Recurrent, ...]
    batch_size: int | None = None  # a fixed batch size (stateful models)
    batches: int = 1               # consecutive batches in the sample inputs
    dialects: tuple[str, ...] = field(default=DIALECTS)

    def file(self, dialect: str, fmt: str) -> str:
        """The saved model's file name, e.g. `nmt_bigru.keras3.keras`."""
        if dialect not in self.dialects or fmt not in FORMATS:
            raise ValueError(f"{self.name}: no file for dialect={dialect!r}, format={fmt!r}; "
                             f"expected a dialect in {self.dialects} and a format in {FORMATS}")
        return f"{self.name}.{dialect}.{fmt}"

    @property
    def inputs_file(self) -> str:
        """The sample inputs (one npz for both dialects): one array per model input, by input name."""
        return f"{self.name}.inputs.npz"

    def outputs_file(self, dialect: str) -> str:
        """What the in-memory model returned on the sample inputs when it was built and saved."""
        self.file(dialect, "keras")  # validates the dialect
        return f"{self.name}.{dialect}.outputs.npz"

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(f for d in self.dialects for f in (self.file(d, "keras"), self.file(d, "h5"),
                                                       self.outputs_file(d))) + (self.inputs_file,)


EXAMPLES = (
    Example(
        name="seq2seq_chars",
        follows="Keras example 'Character-level recurrent sequence-to-sequence model' (lstm_seq2seq)",
        url="https://keras.io/examples/nlp/lstm_seq2seq/",
        differs=f"latent_dim 16, {S.S2S_ENC_TOKENS}/{S.S2S_DEC_TOKENS} tokens, random one-hot text",
        inputs=("encoder_inputs", "decoder_inputs"),
        recurrent=(Recurrent("encoder_lstm", "LSTM"),
                   Recurrent("decoder_lstm", "LSTM", initial_state=("encoder_lstm[1]", "encoder_lstm[2]"))),
    ),
    Example(
        name="imdb_bilstm",
        follows="Keras example 'Bidirectional LSTM on IMDB'",
        url="https://keras.io/examples/nlp/bidirectional_lstm_imdb/",
        differs=f"vocabulary {S.IMDB_VOCAB}, embedding 8, 8 units per direction, random pre-padded ids",
        inputs=("tokens",),
        recurrent=(Recurrent("bilstm_1", "Bidirectional(LSTM)"), Recurrent("bilstm_2", "Bidirectional(LSTM)")),
    ),
    Example(
        name="stateful_char_gru",
        follows="TensorFlow tutorial 'Text generation with an RNN', TF 2.0-2.3 edition (Sequential: "
                "Embedding with a fixed batch size, GRU(stateful=True), Dense)",
        url="https://www.tensorflow.org/tutorials/text/text_generation",
        differs=f"vocabulary {S.CHAR_VOCAB}, 16 units, batch {S.CHAR_BATCH}, random text; the samples are "
                f"{S.CHAR_SAMPLE_BATCHES} consecutive batches of T={S.CHAR_T}",
        inputs=("chars",),
        recurrent=(Recurrent("char_gru", "GRU", stateful=True),),
        batch_size=S.CHAR_BATCH,
        batches=S.CHAR_SAMPLE_BATCHES,
    ),
    Example(
        name="nmt_bigru",
        follows="TensorFlow tutorial 'Neural machine translation with attention' (Embedding(mask_zero=True),"
                " Bidirectional(GRU, merge_mode='sum') encoder, GRU decoder started from the encoder state,"
                " attention over the encoder sequence)",
        url="https://www.tensorflow.org/text/tutorials/nmt_with_attention",
        differs="16 units; the encoder also returns its two final states (return_state=True) and their sum "
                "starts the decoder; additive attention layer instead of the tutorial's attention module",
        inputs=("source_tokens", "target_tokens"),
        recurrent=(Recurrent("encoder_bigru", "Bidirectional(GRU)", mask="embedding:source_embedding"),
                   Recurrent("decoder_gru", "GRU", mask="embedding:target_embedding",
                             initial_state=("encoder_state",), drops_mask=("keras3",))),
    ),
    Example(
        name="video_gru_mask",
        follows="Keras example 'Video Classification with a CNN-RNN Architecture' (its sequence model: "
                "GRU(16, return_sequences=True)(frame_features, mask=frame_mask), GRU(8), Dropout, Dense)",
        url="https://keras.io/examples/vision/video_classification/",
        differs=f"{S.VIDEO_FRAMES} frames of {S.VIDEO_FEATURES} random features instead of CNN features, "
                f"{S.VIDEO_CLASSES} classes; sample rows padded on the right and on the left",
        inputs=("frame_features", "frame_mask"),
        recurrent=(Recurrent("frame_gru", "GRU", mask="input:frame_mask"),
                   Recurrent("clip_gru", "GRU", mask="input:frame_mask", mask_via=("frame_gru",))),
    ),
    Example(
        name="masked_series",
        follows="Keras guides 'Understanding masking & padding' (a Masking layer in front of recurrent "
                "layers, the mask passed on by each) and 'Working with RNNs' (SimpleRNN, stacked layers)",
        url="https://keras.io/guides/understanding_masking_and_padding/",
        differs=f"{S.SERIES_FEATURES} random features, T={S.SERIES_T}, zero-padded steps",
        inputs=("series",),
        recurrent=(Recurrent("simple_rnn", "SimpleRNN", mask="masking:masking"),
                   Recurrent("lstm_1", "LSTM", mask="masking:masking", mask_via=("simple_rnn",)),
                   Recurrent("lstm_2", "LSTM", mask="masking:masking", mask_via=("simple_rnn", "lstm_1"))),
    ),
    Example(
        name="hierarchical_rnn",
        follows="Keras 2 example 'Hierarchical RNN (HRNN) to classify MNIST digits' "
                "(TimeDistributed(LSTM) over pixel rows, then an LSTM over the row encodings)",
        url="https://github.com/keras-team/keras/blob/2.3.1/examples/mnist_hierarchical_rnn.py",
        differs=f"{S.ROWS}x{S.COLS} random images, 16 units",
        inputs=("image",),
        recurrent=(Recurrent("row_lstm", "LSTM", inside="rows"), Recurrent("column_lstm", "LSTM")),
    ),
    Example(
        name="rnn_cells",
        follows="Keras guide 'Working with RNNs', section 'RNN layers and RNN cells' (RNN(LSTMCell)), and "
                "the keras.layers.RNN documentation (a list of cells is stacked)",
        url="https://keras.io/guides/working_with_rnns/",
        differs=f"a masked embedding (vocabulary {S.CELLS_VOCAB}) in front, 16/8 units",
        inputs=("tokens",),
        recurrent=(Recurrent("rnn_lstm_cell", "RNN(LSTMCell)", mask="embedding:embedding"),
                   Recurrent("rnn_stacked_cells", "RNN(StackedRNNCells(GRUCell, SimpleRNNCell))",
                             mask="embedding:embedding", mask_via=("rnn_lstm_cell",))),
    ),
)

BY_NAME = {e.name: e for e in EXAMPLES}

# What the frameworks do that a reader would not expect, met while building these examples (Keras
# 3.15.1, tf_keras 2.21.0, TensorFlow 2.21.0). Each has a minimal repro.
NOTES = {
    "keras3-initial-state-drops-mask": (
        "Keras 3 passes a layer the propagated mask only when the call has exactly one tensor argument: "
        "`GRU(...)(x, initial_state=s)` with x from Embedding(mask_zero=True) gets mask=None and runs "
        "the padded steps as real ones; tf_keras passes the mask. Repro: ids=Input((None,), "
        "dtype='int32'); s=Input((3,)); e=Embedding(10, 4, mask_zero=True); g=GRU(3, "
        "return_sequences=True); Model([ids, s], g(e(ids), initial_state=s)) differs from the same "
        "with mask=e.compute_mask(ids) on ids [[3, 5, 0, 0]] (0.0099 in Keras 3, 0.0 in tf_keras)"),
    "keras3-h5-embedding-mask-op": (
        "Keras 3 saves a functional model holding Embedding(mask_zero=True) to .h5 with the mask's "
        "NotEqual op as a layer of its config, and its own load_model then fails with \"Unknown layer: "
        "'NotEqual'\" (a Sequential model, and the .keras format, load). Repro: ids=Input((None,), "
        "dtype='int32'); Model(ids, GRU(3)(Embedding(10, 4, mask_zero=True)(ids))).save('m.h5'); "
        "keras.models.load_model('m.h5')"),
    "keras3-h5-loss-alias": (
        "Keras 3 cannot compile a .h5 model whose loss was the string 'mse' (\"Could not deserialize "
        "'keras.metrics.mse'\"); load_model(..., compile=False) loads it, which is how the tests load "
        "every file. Repro: Sequential([Input((3, 2)), LSTM(2)]) compiled with loss='mse', saved to "
        "m.h5, keras.models.load_model('m.h5')"),
}

# (example, dialect, format) -> the NOTES key: files the framework writes but cannot load back
KNOWN_LOAD_FAILURES = {
    ("nmt_bigru", "keras3", "h5"): "keras3-h5-embedding-mask-op",
    ("rnn_cells", "keras3", "h5"): "keras3-h5-embedding-mask-op",
}


def get(name: str) -> Example:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown example {name!r}: expected one of {sorted(BY_NAME)}") from None


def load_inputs(example: Example, directory=BUILT) -> list:
    """The saved sample inputs, in model.inputs order (a stateful example's consecutive batches are
    stacked along axis 0: split them with `batches`)."""
    import numpy as np

    with np.load(Path(directory) / example.inputs_file) as npz:
        missing = set(example.inputs) - set(npz.files)
        if missing:
            raise ValueError(f"{example.inputs_file}: no array for input(s) {sorted(missing)}; has {npz.files}")
        return [npz[name] for name in example.inputs]


def batches(example: Example, inputs: list) -> list[list]:
    """The sample inputs cut into the example's consecutive batches (one batch unless stateful)."""
    if example.batch_size is None:
        return [inputs]
    b = example.batch_size
    return [[x[k * b:(k + 1) * b] for x in inputs] for k in range(example.batches)]
