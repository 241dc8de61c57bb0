"""The NumPy TF1 reference refuses bad input with clear errors, and the tf1 case matrix is well formed.
No framework is needed (nothing here imports TensorFlow)."""
from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from rnnparity import tf1
from rnnparity.matrix.tf1_cases import CELLS, DTYPES, FUNCTIONS, SEQLENS, Tf1Case, tf1_cases

DEPTH = 3


def built(cls="LSTMCell", dtype="float32", **kwargs):
    cell = getattr(tf1, cls)(4, dtype=dtype, **kwargs)
    rng = np.random.default_rng(0)
    cell.set_weights([rng.uniform(-1, 1, s) for _, s in cell.weight_specs(DEPTH)])
    return cell


def x(shape=(2, 5, DEPTH), dtype="float32"):
    return np.zeros(shape, dtype)


# -- inputs --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["dynamic_rnn", "bidirectional_dynamic_rnn"])
def test_wrong_rank(fn):
    cells = (built(), built()) if "bidirectional" in fn else (built(),)
    with pytest.raises(ValueError, match=r"rank 3, got shape \(2, 3\)"):
        getattr(tf1, fn)(*cells, np.zeros((2, 3), "float32"), dtype="float32")


def test_wrong_feature_size():
    with pytest.raises(ValueError, match="5 features but the cell's kernel was built for input_depth=3"):
        tf1.dynamic_rnn(built(), x((2, 4, 5)), dtype="float32")


def test_wrong_input_dtype():
    with pytest.raises(ValueError, match="dtype float64 but the cell computes in float32"):
        tf1.dynamic_rnn(built(), x(dtype="float64"), dtype="float64")


def test_zero_timesteps():
    with pytest.raises(ValueError, match="0 timesteps"):
        tf1.dynamic_rnn(built(), x((2, 0, DEPTH)), dtype="float32")


def test_no_dtype_no_initial_state():
    with pytest.raises(ValueError, match="argument `dtype` must be specified"):
        tf1.dynamic_rnn(built(), x())


def test_dtype_argument_differs_from_cell():
    with pytest.raises(ValueError, match="dtype=float64 does not match the cell's dtype float32"):
        tf1.dynamic_rnn(built(), x(), dtype="float64")


@pytest.mark.parametrize("lengths, match", [
    (np.array([[1], [2]]), "must be a vector of length 2"),
    (np.array([1, 2, 3]), "must be a vector of length 2"),
    (np.array([1.0, 2.0]), "must hold integers"),
    (np.array([1, -1]), "must be >= 0"),
])
def test_bad_sequence_length(lengths, match):
    with pytest.raises((ValueError, TypeError), match=match):
        tf1.dynamic_rnn(built(), x(), sequence_length=lengths, dtype="float32")


def test_static_inputs_must_be_a_list():
    with pytest.raises(TypeError, match="must be a sequence"):
        tf1.static_rnn(built(), x(), dtype="float32")
    with pytest.raises(ValueError, match="must not be empty"):
        tf1.static_rnn(built(), [], dtype="float32")
    with pytest.raises(ValueError, match=r"must all be \(batch, input_size\)"):
        tf1.static_rnn(built(), [x((2, 3))[0], x((3, 3))[0]], dtype="float32")


# -- initial states ------------------------------------------------------------------------------------
def test_tuple_state_expected():
    cell = built(state_is_tuple=True)
    with pytest.raises(ValueError, match=r"state_is_tuple=True, so initial_state must be a \(c, h\) pair"):
        tf1.dynamic_rnn(cell, x(), initial_state=np.zeros((2, 8), "float32"))


def test_concatenated_state_expected():
    cell = built(state_is_tuple=False)
    with pytest.raises(ValueError, match=r"state_is_tuple=False, so initial_state must be one array"):
        tf1.dynamic_rnn(cell, x(), initial_state=tf1.LSTMStateTuple(np.zeros((2, 4)), np.zeros((2, 4))))


def test_state_part_shape_and_batch():
    cell = built(num_proj=2)
    c, h = np.zeros((2, 4), "float32"), np.zeros((2, 2), "float32")
    with pytest.raises(ValueError, match=r"initial_state.h must have shape \(batch, 2\), got \(2, 4\)"):
        tf1.dynamic_rnn(cell, x(), initial_state=(c, c))
    with pytest.raises(ValueError, match="has batch 3, the inputs have batch 2"):
        tf1.dynamic_rnn(cell, x(), initial_state=(np.zeros((3, 4), "float32"), np.zeros((3, 2), "float32")))
    with pytest.raises(ValueError, match="initial_state.c has dtype float64"):
        tf1.dynamic_rnn(cell, x(), initial_state=(c.astype("float64"), h))


def test_bidirectional_names_the_direction():
    with pytest.raises(ValueError, match="initial_state_bw must have shape"):
        tf1.bidirectional_dynamic_rnn(built("GRUCell"), built("GRUCell"), x(),
                                      initial_state_fw=np.zeros((2, 4), "float32"),
                                      initial_state_bw=np.zeros((2, 5), "float32"))


# -- cells and weights ---------------------------------------------------------------------------------
def test_weights_count():
    cell = tf1.LSTMCell(4, use_peepholes=True)
    with pytest.raises(ValueError, match=r"expected 5 weight arrays \(kernel\(7, 16\), bias\(16,\), "
                                         r"w_f_diag\(4,\), w_i_diag\(4,\), w_o_diag\(4,\)\), got 2"):
        cell.set_weights([np.zeros((7, 16)), np.zeros(16)])


def test_weight_shape():
    cell = tf1.GRUCell(4)
    with pytest.raises(ValueError, match=r"weight 'candidate_kernel' must have shape \(7, 4\), got \(7, 8\)"):
        cell.set_weights([np.zeros((7, 8)), np.zeros(8), np.zeros((7, 8)), np.zeros(4)])


def test_kernel_too_small_and_not_real():
    with pytest.raises(ValueError, match="input_depth \\+ 4 rows"):
        tf1.BasicRNNCell(4).set_weights([np.zeros((4, 4)), np.zeros(4)])
    with pytest.raises(TypeError, match="'kernel' must hold real numbers"):
        tf1.BasicRNNCell(4).set_weights([np.zeros((7, 4), complex), np.zeros(4)])


def test_unbuilt_cell():
    with pytest.raises(ValueError, match="weights are not set; call set_weights"):
        tf1.dynamic_rnn(tf1.BasicLSTMCell(4), x(), dtype="float32")


def test_not_a_reference_cell():
    with pytest.raises(TypeError, match="expected a rnnparity.tf1 cell"):
        tf1.dynamic_rnn(object(), x(), dtype="float32")


@pytest.mark.parametrize("activation, match", [
    ("no_such_activation", "activation='no_such_activation' is not a built-in keras2 activation"),
    ("relu6", "activation='relu6' is not a built-in keras2 activation"),
    (np.tanh, "custom activation callables are not modelled"),
])
def test_unknown_activation(activation, match):
    with pytest.raises(ValueError, match=match):
        tf1.GRUCell(4, activation=activation)


def test_option_errors():
    with pytest.raises(ValueError, match="proj_clip is set but num_proj is None"):
        tf1.LSTMCell(4, proj_clip=1.0)
    with pytest.raises(ValueError, match="num_proj must be None or a positive int"):
        tf1.LSTMCell(4, num_proj=0)
    with pytest.raises(ValueError, match="num_units must be a positive int"):
        tf1.BasicRNNCell(0)
    with pytest.raises(ValueError, match="dtype='int32' is not a float dtype"):
        tf1.BasicRNNCell(3, dtype="int32")


def test_return_structures():
    """TF's containers (values are checked against live TF in test_tf1.py)."""
    lstm, gru = built(), built("GRUCell")
    out, state = tf1.dynamic_rnn(lstm, x(), dtype="float32")
    assert isinstance(state, tf1.LSTMStateTuple) and state._fields == ("c", "h")
    outs, state = tf1.static_rnn(built(state_is_tuple=False), list(x().swapaxes(0, 1)), dtype="float32")
    assert isinstance(outs, list) and len(outs) == 5 and state.shape == (2, 8)
    outs, s_fw, s_bw = tf1.static_bidirectional_rnn(gru, gru, list(x().swapaxes(0, 1)), dtype="float32")
    assert outs[0].shape == (2, 8) and s_fw.shape == (2, 4)
    (o_fw, o_bw), (s_fw, s_bw) = tf1.bidirectional_dynamic_rnn(lstm, gru, x((5, 2, DEPTH)), dtype="float32",
                                                               time_major=True)
    assert o_fw.shape == o_bw.shape == (5, 2, 4) and isinstance(s_fw, tf1.LSTMStateTuple)


# -- the case matrix -----------------------------------------------------------------------------------
def test_case_ids_unique_readable_and_sized():
    for tier, expected in (("default", 288), ("full", 864)):
        cases = tf1_cases(tier)
        ids = [c.id for c in cases]
        assert len(cases) == expected and len(set(ids)) == len(ids)
        assert all(i.startswith("tf1-") and " " not in i for i in ids)
    assert Tf1Case("dynamic_rnn", "lstm_cell_peep", "ragged", True, True, "float64").id == \
        "tf1-dynamic_rnn-lstm_cell_peep-seqlen_ragged-time_major-init-f64"


def test_case_ids_stable_across_processes():
    code = "from rnnparity.matrix.tf1_cases import tf1_cases; print(','.join(c.id + str(c.seed) for c in tf1_cases()))"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1 and runs.pop().strip() == ",".join(c.id + str(c.seed) for c in tf1_cases())


def test_default_tier_is_pairwise():
    cases = tf1_cases("default")
    axes = {"function": FUNCTIONS, "cell": tuple(CELLS), "seqlen": SEQLENS, "init": (False, True),
            "dtype": DTYPES, "time_major": (False, True)}
    for (a, va), (b, vb) in itertools.combinations(axes.items(), 2):
        seen = {(getattr(c, a), getattr(c, b)) for c in cases}
        for pair in itertools.product(va, vb):
            if "time_major" in (a, b) and pair[(a, b).index("time_major")] and \
                    "function" in (a, b) and pair[(a, b).index("function")] not in ("dynamic_rnn",
                                                                                   "bidirectional_dynamic_rnn"):
                continue  # static functions have no time_major
            assert pair in seen, f"default tier misses {a}={pair[0]} with {b}={pair[1]}"


def test_case_from_id_round_trips():
    for case in tf1_cases("full"):
        assert Tf1Case.from_id(case.id) == case
    with pytest.raises(ValueError, match="not a tf1 case id"):
        Tf1Case.from_id("lstm-bidi_concat-seq-state-bwd-stateful-mask_left-f32-keras3")


def test_case_rejects_unknown_axes():
    with pytest.raises(ValueError, match="static_rnn has no time_major"):
        Tf1Case("static_rnn", "basic_rnn", time_major=True)
    with pytest.raises(ValueError, match="unknown cell"):
        Tf1Case("dynamic_rnn", "lstm_block_cell")
    with pytest.raises(ValueError, match="tier must be"):
        tf1_cases("huge")


def test_no_framework_imported():
    code = ("import sys, rnnparity.tf1, rnnparity.matrix.tf1_cases, rnnparity.tf1_keras, rnnparity.targets.tf1; "
            "bad = [m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"importing the tf1 modules imported {out.strip()}"
