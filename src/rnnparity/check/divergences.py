"""Known framework bugs: each is a strict xfail with its reason, evidence and a minimal repro.

Strict means the day the framework fixes the bug the case XPASSes and the suite fails, saying so;
then the entry is removed. Behaviour that is surprising but deliberate (and that the reference
therefore models) is listed in `SURPRISES` for the docs, not here: those cases pass.
"""
from __future__ import annotations

from dataclasses import dataclass
import types
from typing import Callable

from .mask_broadcast import conv_lstm_mask_misapplied


@dataclass(frozen=True)
class Divergence:
    key: str
    targets: tuple
    reason: str
    evidence: str
    repro: str
    applies: Callable  # Case -> bool
    # the upstream reports ("owner/repo#N", optionally followed by a note); () = not reported upstream
    # that we could find (searched in the frameworks' issue trackers)
    upstream: tuple = ()

    def matches(self, case) -> bool:
        return case.target in self.targets and bool(self.applies(case))

    def xfail_reason(self) -> str:
        # the first clause; the full reason, evidence and repro are in the registry and docs/known-bugs.md
        return f"known framework bug [{self.key}]: {self.reason.split(': ')[0].split(', so ')[0]}"


def _stacked(case):
    # duck-typed cases (tests/test_hypothesis_live.py) predate the cell axis and mixed precision
    return getattr(case, "cell", "layer") == "stacked"


def _mixed(case):
    return str(getattr(case, "dtype", "f32")).startswith("mixed")


# The Keras 3 backends run in worker processes (targets/keras3_backend.py). The layer-level bugs
# (keras/src/layers/...) and the float64 one are shared by every backend measured (numpy, jax and
# torch); the time-loop bugs belong to the backend's own rnn() (numpy and jax share one design, torch
# has its own: measured on torch 2.14.1 and 2.13.0, default tier, the numpy/jax loop bugs do not
# occur there).
_BACKENDS = ("keras3-numpy", "keras3-jax", "keras3-torch")
_NUMPY_JAX = ("keras3-numpy", "keras3-jax")


def _starts_masked_from_state(case):
    """Whether a call starts (in processing order) with masked steps while the state it starts from
    is not zero (given initial states, or the state carried into a stateful layer's second batch),
    and the outputs show it: every output of a plain layer's sequence, or the last output of a row
    masked throughout (Bidirectional(return_sequences=True) zeroes masked outputs instead)."""
    import numpy as np

    from ..matrix.data import make_plan

    if case.mask == "none" or case.unroll:
        return False
    if case.wrapper != "none" and (case.return_sequences or case.go_backwards or case.time_major):
        return False  # zero outputs for the mask, or rejected at construction
    calls = make_plan(case).calls[:2 if case.stateful else 1]  # batch 3 starts after a reset
    nonzero = np.full(case.n_batch, bool(case.initial_state))  # per row: does its state start nonzero
    for call in calls:
        mask = np.asarray(call.mask)
        first = mask[:, -1] if case.go_backwards else mask[:, 0]
        seen = (case.return_sequences and case.wrapper == "none" and (nonzero & ~first).any()) or \
            (nonzero & ~mask.any(axis=1)).any()
        if seen:
            return True
        nonzero |= mask.any(axis=1)  # a row that ran a step carries a nonzero state into the next call
    return False


def _keras3_rejects_backwards_in_bidirectional(case):
    """Keras 3 rejects Bidirectional(layer with go_backwards=True) at construction, unless a
    backward_layer of the other direction is given (a view from `rnnparity explore` says so)."""
    return case.wrapper != "none" and case.go_backwards and not getattr(case, "backward_layer", False)


def _conv_lstm_zero_output_shows(case):
    """Whether a masked Bidirectional ConvLSTM sequence that ignores zero_output_for_mask differs from
    one that zeroes masked steps: each direction repeats its previous output at a masked step that
    comes after one of its valid steps (before any, its output is 0 either way: the time loop starts
    from zeros). Under merge_mode='mul' the product stays 0 unless both directions repeat one: a
    masked step with valid steps before and after it in its row."""
    import numpy as np

    from ..matrix.conv_lstm_cases import make_plan

    if case.mask == "none":
        return False
    masks = getattr(case, "masks", None)  # a view of a call outside the matrix carries its own masks
    if masks is None:
        masks = [c.mask for c in make_plan(case).calls]
    for m in masks:
        if m is None:
            continue
        m = np.asarray(m, bool)
        valid_before = np.cumsum(m, axis=1) - m > 0
        valid_after = np.cumsum(m[:, ::-1], axis=1)[:, ::-1] - m > 0
        forward, backward = ~m & valid_before, ~m & valid_after  # where each direction repeats
        if ((forward & backward) if case.wrapper == "bidi_mul" else (forward | backward)).any():
            return True
    return False


# Where a case meets two bugs, the first listed names it: the layer-level bugs (below) before the
# backends' own, which a case meets later (e.g. a float64 Bidirectional fails at its first call).
_BACKEND_DIVERGENCES = (
    Divergence(
        key="keras3-backend-masked-output-from-state",
        targets=_NUMPY_JAX,
        reason=("Keras 3 on the numpy and jax backends outputs the state a row started from at its "
                "leading masked steps, where the TensorFlow backend (and tf_keras) outputs 0: with "
                "initial states, or on the second batch of a stateful layer, a row whose first steps "
                "(in processing order) are masked outputs the initial / carried h there, and a fully "
                "masked row's last output is that h instead of 0. Their rnn() takes the masked step's "
                "output from states[0] ('Assume the first state is the previous output'), the TF "
                "backend from the previous step's output, zeros before the first. The TF backend "
                "follows the documented contract (a masked step repeats the previous step's output; "
                "there is none before the first step) and states[0] is not the output for every cell"),
        evidence=("keras/src/backend/numpy/rnn.py and keras/src/backend/jax/rnn.py rnn(), unroll=False "
                  "with a mask: `output_tm1 = states[0]` ... `masked_outs = where(is_masked, output_tm1, "
                  "output_t)`; keras/src/backend/tensorflow/rnn.py starts from `zeros_like(output)` "
                  "(seen on keras 3.15.1)"),
        repro=("# KERAS_BACKEND=numpy (or jax) vs KERAS_BACKEND=tensorflow\n"
               "import keras, numpy as np\n"
               "l = keras.layers.SimpleRNN(2, return_sequences=True, kernel_initializer='ones', "
               "recurrent_initializer='ones')\n"
               "h = np.ones((1, 2), 'float32'); m = np.array([[False, True]])\n"
               "print(l(np.ones((1, 2, 1), 'float32'), initial_state=[h], mask=m)[0, 0])  "
               "# numpy/jax: [1. 1.] (h); tensorflow: [0. 0.]"),
        applies=_starts_masked_from_state,
    ),
    Divergence(
        key="keras3-backend-unroll-mask-output-not-zeroed",
        targets=_NUMPY_JAX,
        reason=("Keras 3 on the numpy and jax backends ignores zero_output_for_mask when unrolled: a "
                "masked step repeats the previous output instead of 0, so unrolled, masked "
                "Bidirectional(return_sequences=True) sequence outputs (which set it on both "
                "sub-layers) differ from the TensorFlow backend's while_loop and from unroll=False on "
                "the same backend"),
        evidence=("keras/src/backend/numpy/rnn.py and keras/src/backend/jax/rnn.py rnn(), unroll branch "
                  "with a mask: `output = where(tiled_mask_t, output, prev_output)`, with no "
                  "zero_output_for_mask test (the scan branch has one) (seen on keras 3.15.1)"),
        repro=("# KERAS_BACKEND=numpy (or jax)\n"
               "import keras, numpy as np\n"
               "x = np.ones((1, 3, 1), 'float32'); m = np.array([[True, True, False]])\n"
               "for unroll in (False, True):\n"
               "    b = keras.layers.Bidirectional(keras.layers.SimpleRNN(2, return_sequences=True, "
               "unroll=unroll, kernel_initializer='ones'), merge_mode=None)\n"
               "    print(unroll, b(x, mask=m)[0][0, 2])  # False: [0. 0.]; True: the previous output"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=lambda c: (c.unroll and c.mask != "none" and c.wrapper != "none" and c.return_sequences
                           and not (c.go_backwards or c.time_major)),
    ),
    Divergence(
        key="keras3-backend-float64-computed-in-float32",
        targets=_BACKENDS,
        reason=("Keras 3 on the numpy backend computes float64 layers partly in float32, and on the jax "
                "backend (x64 off, jax's default) entirely in float32: keras.ops.convert_to_tensor "
                "of a float64 array without a dtype gives float32 on every backend but TensorFlow, so "
                "the activations (ops.sigmoid / ops.tanh) of a float64 LSTM or SimpleRNN return "
                "float32 and the outputs err by about 1e-8 against a float64 computation; jax cannot "
                "hold float64 at all unless JAX_ENABLE_X64=1. On torch only SimpleRNN and GRU(reset_after="
                "False) show it: LSTM and GRU(reset_after=True) run torch's own fused kernels "
                "(keras/src/backend/torch/rnn.py lstm(), gru()), which keep float64. The TensorFlow "
                "backend computes in float64. Under Bidirectional (a float32 wrapper) only the float64 "
                "states show it"),
        evidence=("keras/src/backend/common/dtypes.py: `BIT64_TO_BIT32_DTYPE = {'float64': 'float64' if "
                  "config.backend() == 'tensorflow' else 'float32'}` applied by result_type, which "
                  "keras/src/backend/numpy/core.py convert_to_tensor uses when no dtype is given "
                  "('to be aligned with JAX's default behavior') (seen on keras 3.15.1)"),
        repro=("# KERAS_BACKEND=numpy\n"
               "import keras, numpy as np\n"
               "print(keras.ops.convert_to_tensor(np.zeros(2)).dtype)  # float32 (tensorflow: float64)\n"
               "l = keras.layers.LSTM(2, dtype='float64'); l.build((1, 2, 1))\n"
               "print(l.cell(np.ones((1, 1)), [np.zeros((1, 2))] * 2)[0].dtype)  # float32"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=lambda c: c.dtype == "f64" and (c.wrapper == "none" or (
            c.return_state and not (c.go_backwards or c.time_major))) and (
            c.target != "keras3-torch" or c.layer in ("simple_rnn", "gru_reset_before")),
    ),
    Divergence(
        key="keras3-torch-unroll-mask-backwards-flip",
        targets=("keras3-torch",),
        reason=("Keras 3's torch rnn(unroll=True) with a mask and go_backwards=True raises AttributeError "
                "('tuple' object has no attribute 'shape'): it flips the tuple that torch.unbind returned "
                "with torch.flip(mask_list, dims=mask_list.shape). A Bidirectional's backward layer goes "
                "backwards, so every unrolled masked Bidirectional fails too; the TensorFlow backend runs"),
        evidence=("keras/src/backend/torch/rnn.py rnn(), unroll branch: `mask_list = torch.unbind(mask)` "
                  "then `torch.flip(mask_list, dims=mask_list.shape)` (seen on keras 3.15.1, torch 2.14.1 "
                  "and 2.13.0; SimpleRNN, LSTM and GRU alike, measured)"),
        repro=("import os; os.environ['KERAS_BACKEND'] = 'torch'\n"
               "import keras, numpy as np\n"
               "x = np.random.rand(2, 3, 2).astype('float32'); m = np.array([[1, 1, 0], [1, 1, 1]], bool)\n"
               "keras.layers.GRU(2, go_backwards=True, unroll=True)(x, mask=m)  # AttributeError"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=lambda c: (c.unroll and c.mask != "none" and not c.time_major
                           and (c.go_backwards or c.wrapper != "none")
                           and not (c.wrapper != "none" and c.go_backwards)),
    ),
    Divergence(
        key="keras3-torch-mixed-precision-state-not-carried",
        targets=("keras3-torch",),
        reason=("Keras 3 on torch does not carry the state of a stateful layer under the mixed_float16 "
                "and mixed_bfloat16 policies: after a call the state variables are still zero, so the next batch starts from "
                "zeros (the first batch agrees; the carried ones differ by up to 0.6). TensorFlow, numpy "
                "and jax carry it; float32 carries it on torch"),
        evidence=("keras/src/layers/rnn/rnn.py RNN.call: `self_state.assign(state)` assigns the float16 "
                  "states to the float32 state variables; on torch they stay zero (measured on keras "
                  "3.15.1, torch 2.14.1 and 2.13.0, SimpleRNN, LSTM and GRU alike)"),
        repro=("import os; os.environ['KERAS_BACKEND'] = 'torch'\n"
               "import keras, numpy as np\n"
               "l = keras.layers.SimpleRNN(2, stateful=True, dtype='mixed_float16')\n"
               "l(np.random.rand(2, 3, 2).astype('float32'))\n"
               "print(keras.ops.convert_to_numpy(l.states[0]))  # zeros (float32 policy: the last h)"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        # initial states given at every call make the carried state irrelevant; a Bidirectional
        # mul/ave last output in bfloat16 stays inside the bfloat16 rows (measured: those cases pass)
        applies=lambda c: (_mixed(c) and c.stateful and not c.time_major and not c.initial_state
                           and not (c.wrapper != "none" and c.go_backwards)
                           and not (c.dtype == "mixed_bf16" and c.wrapper in ("bidi_mul", "bidi_ave")
                                    and not c.return_sequences and not c.return_state)),
    ),
)


# TensorFlow.js layers (targets/tfjs.py): the Keras 3 layer loaded from the layers format in
# @tensorflow/tfjs 4.22.0 (cpu backend) in node. The repros are node scripts, run with NODE_PATH set to
# the node_modules that `rnnparity install-tfjs` installs.
_TFJS_NODE = "// NODE_PATH=<rnnparity install-tfjs dir>/node_modules node repro.js\nconst tf = require('@tensorflow/tfjs');\n"


def _tfjs_starts_masked_from_state(case):
    """The keras3-backend-masked-output-from-state condition; TF.js ignores unroll (its loop runs
    either way), so unrolled cases show it too."""
    import dataclasses

    if case.mask == "none" or case.time_major:  # Keras 3 rejects time_major at construction
        return False
    return _starts_masked_from_state(dataclasses.replace(case, unroll=False))


def _tfjs_bidirectional_masked_nonzero(case):
    """Whether a masked step of a Bidirectional(return_sequences=True) call outputs nonzero in TF.js,
    where Keras outputs 0: each direction outputs its carried state there, nonzero once it processed
    an unmasked step of the row or started from a nonzero state (initial states, or the second batch
    of a stateful layer); merge_mode='mul' shows it only where both directions are nonzero."""
    import numpy as np

    from ..matrix.data import make_plan

    if case.wrapper == "none" or not case.return_sequences or case.mask == "none":
        return False
    if case.go_backwards or case.time_major:
        return False  # Keras 3 rejects these Bidirectional configurations at construction
    started = np.full(case.n_batch, bool(case.initial_state))
    for call in make_plan(case).calls[:2 if case.stateful else 1]:  # batch 3 starts after a reset
        mask = np.asarray(call.mask)
        seen_before = (np.cumsum(mask, axis=1) - mask) > 0
        seen_after = (np.cumsum(mask[:, ::-1], axis=1)[:, ::-1] - mask) > 0
        forward = (seen_before | started[:, None]) & ~mask
        backward = (seen_after | started[:, None]) & ~mask
        if ((forward & backward) if case.wrapper == "bidi_mul" else (forward | backward)).any():
            return True
        started |= mask.any(axis=1)
    return False


_TFJS_DIVERGENCES = (
    Divergence(
        key="tfjs-bidirectional-of-rnn-cells-fails",
        targets=("tfjs",),
        reason=("TensorFlow.js cannot build a Bidirectional around an RNN of a cell or of stacked cells "
                "(RNN(cell), RNN([cell, cell])): the constructor fails with 'layer: Improper config format' (the "
                "RNN's config holds the live cell, which its deserializer refuses), so such a model does not load. "
                "Bidirectional(LSTM(...)) and an unwrapped RNN(cell) load"),
        evidence=("tfjs-layers/src/layers/wrappers.ts Bidirectional constructor: deserialize({className, config: "
                  "args.layer.getConfig()}) (seen on @tensorflow/tfjs-layers 4.22.0)"),
        repro=(_TFJS_NODE + "tf.layers.bidirectional({layer: tf.layers.rnn({cell: tf.layers.lstmCell({units: 2})})});  "
               "// Error: layer: Improper config format: {...}"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=lambda c: (getattr(c, "cell", "layer") != "layer" and c.wrapper != "none"
                           and not (c.go_backwards or c.time_major)),
        upstream=("tensorflow/tfjs#3247 (closed without a fix)",),
    ),
    Divergence(
        key="tfjs-stacked-cells-state-order-reversed",
        targets=("tfjs",),
        reason=("TensorFlow.js keeps the states of stacked cells (RNN([cell, cell])) in reverse cell order, "
                "[h2, c2, h1, c1], as Keras did before 2.2.3: returned states come back last cell first, and "
                "initial states given in Keras' order [h1, c1, h2, c2] are fed to the wrong cells (with cells of "
                "different widths, a matMul shape error). Keras 2.2.3+ and Keras 3 use cell order; the outputs "
                "of a stack run without initial states agree"),
        evidence=("tfjs-layers/src/layers/recurrent.ts StackedRNNCells.stateSize: 'States are a flat list in "
                  "reverse order of the cell stack' (seen on @tensorflow/tfjs-layers 4.22.0); Keras changed to "
                  "cell order in keras-team/keras#11021"),
        repro=(_TFJS_NODE + "const r = tf.layers.rnn({cell: [tf.layers.lstmCell({units: 4}), "
               "tf.layers.lstmCell({units: 5})], returnState: true});\n"
               "console.log(r.apply(tf.ones([1, 3, 2])).map(t => t.shape));  "
               "// [[1,5],[1,5],[1,5],[1,4],[1,4]]; Keras 3: (out, [h1, c1] (4 units), [h2, c2] (5 units))"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=lambda c: (_stacked(c) and (c.return_state or c.initial_state) and not c.time_major
                           and not (c.wrapper != "none" and c.go_backwards)),
        upstream=("keras-team/keras#11021 (Keras' change to cell order, 2018; TF.js kept the old order: no "
                  "TF.js report found)",),
    ),
    Divergence(
        key="tfjs-bidirectional-masked-steps-not-zeroed",
        targets=("tfjs",),
        reason=("TensorFlow.js Bidirectional(returnSequences=true) does not zero the outputs at masked steps: "
                "each direction outputs what its rnn() carries there (the state), where Keras' Bidirectional sets "
                "zero_output_for_mask on both layers and outputs 0. TF.js' RNN has no zero_output_for_mask"),
        evidence=("tfjs-layers/src/layers/wrappers.ts Bidirectional.call merges the two layers' outputs as "
                  "they are; tfjs-layers/src/layers/recurrent.ts rnn() outputs states[0] at a masked step "
                  "(seen on @tensorflow/tfjs-layers 4.22.0); keras/src/layers/rnn/bidirectional.py sets "
                  "zero_output_for_mask = return_sequences"),
        repro=(_TFJS_NODE + "const b = tf.layers.bidirectional({layer: tf.layers.simpleRNN({units: 1, "
               "returnSequences: true, kernelInitializer: 'ones', recurrentInitializer: 'ones'}), mergeMode: "
               "'concat'});\n"
               "b.apply(tf.ones([1, 3, 1]), {mask: tf.tensor2d([[1, 1, 0]], [1, 3], 'bool')}).print();  "
               "// step 3 (masked): [0.9427, 0]; Keras: [0, 0]"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=_tfjs_bidirectional_masked_nonzero,
        upstream=("tensorflow/tfjs#2279 (masking in Bidirectional, added by tensorflow/tfjs#2371 without zeroing "
                  "the masked outputs; no report of this found)",),
    ),
    Divergence(
        key="tfjs-masked-step-outputs-state",
        targets=("tfjs",),
        reason=("TensorFlow.js outputs states[0] at a masked step, where Keras outputs the previous step's "
                "output (0 before the first step): with initial states, or on the second batch of a stateful "
                "layer, a row whose first steps (in processing order) are masked outputs the initial / carried "
                "h there, and a fully masked row's last output is that h instead of 0. Keras 2.2.5+ made the "
                "masked output independent of the states"),
        evidence=("tfjs-layers/src/layers/recurrent.ts rnn(): `output = add(mul(stepOutputs[0], stepMask), "
                  "mul(states[0], negStepMask))` (seen on @tensorflow/tfjs-layers 4.22.0); Keras: "
                  "keras-team/keras#11499, tensorflow/tensorflow#23632"),
        repro=(_TFJS_NODE + "const l = tf.layers.simpleRNN({units: 2, returnSequences: true, kernelInitializer: "
               "'ones', recurrentInitializer: 'ones'});\n"
               "l.apply(tf.ones([1, 2, 1]), {initialState: [tf.ones([1, 2])], mask: tf.tensor2d([[0, 1]], "
               "[1, 2], 'bool')}).print();  // step 1 (masked): [1, 1] (h); Keras: [0, 0]"),
        applies=_tfjs_starts_masked_from_state,
        upstream=("keras-team/keras#11499 (the same design, fixed in Keras in 2018; no TF.js report found)",),
    ),
    Divergence(
        key="tfjs-hard-sigmoid-is-keras2s",
        targets=("tfjs",),
        reason=("TensorFlow.js' 'hard_sigmoid' (hardSigmoid) is Keras 2's clip(0.2 x + 0.5, 0, 1), while Keras 3's "
                "is relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1): a Keras 3 layer with activation or "
                "recurrent_activation 'hard_sigmoid' loads under the same name and computes another function"),
        evidence=("tfjs-layers/src/backend/tfjs_backend.ts hardSigmoid: `0.2 * x + 0.5` clipped to [0, 1] "
                  "(seen on @tensorflow/tfjs-layers 4.22.0); keras/src/activations/activations.py hard_sigmoid "
                  "(keras 3.15.1)"),
        repro=(_TFJS_NODE + "tf.layers.activation({activation: 'hardSigmoid'}).apply(tf.tensor1d([1])).print();  "
               "// 0.7; Keras 3: keras.activations.hard_sigmoid(1.0) = 0.6667"),
        # Keras 3 rejects time_major, and go_backwards under Bidirectional, at construction
        applies=lambda c: (c.activation in ("act_hard_sigmoid", "ract_hard_sigmoid") and not c.time_major
                           and not (c.wrapper != "none" and c.go_backwards)),
    ),
)


# The openvino target: the Keras 3 layer converted by openvino.convert_model, run by the CPU plugin
# (targets/openvino.py). Measured on openvino 2026.4.1, keras 3.15.1, TF 2.21.
_OPENVINO_DIVERGENCES = (
    Divergence(
        key="keras3-openvino-float64-mask-select",
        targets=("keras3-openvino",),
        reason=("Keras 3 on the openvino backend cannot run a masked float64 layer: the step's output "
                "comes out float32 while the masked alternative (zeros, or the previous output) is float64, "
                "and OpenVINO's Select refuses the pair (RuntimeError: 'Argument 1 and 2 element types must "
                "match'), for SimpleRNN, LSTM and GRU alike. Unmasked float64 layers run (in float32 "
                "precision: openvino-cpu-float64-computed-in-float32)"),
        evidence=("measured on keras 3.15.1, openvino 2026.4.1: 'While validating node opset1::Select "
                  "(Gather[0]:boolean[3,1], Tanh[0]:f32[3,5], Broadcast[0]:f64[3,5])', raised from "
                  "keras/src/backend/openvino/rnn.py's time loop; keras.activations.tanh of a float64 "
                  "tensor alone stays float64"),
        repro=("import os; os.environ['KERAS_BACKEND'] = 'openvino'\n"
               "import keras, numpy as np\n"
               "x = np.random.RandomState(0).rand(3, 7, 3); m = np.ones((3, 7), bool); m[1, 5:] = False\n"
               "keras.layers.SimpleRNN(5, dtype='float64')(x, mask=m)  # RuntimeError: ... element types "
               "must match"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=lambda c: c.dtype == "f64" and c.mask != "none" and not (
            c.wrapper != "none" and (c.go_backwards or c.time_major)),
    ),
    Divergence(
        key="openvino-cpu-float64-computed-in-float32",
        targets=("openvino", "keras3-openvino"),
        reason=("OpenVINO's CPU plugin runs a float64 model in float32: the converted float64 layer takes "
                "and returns float64 arrays, but its outputs carry float32 rounding (errors of 1e-8 to "
                "1e-7 against Keras' float64 computation, whatever INFERENCE_PRECISION_HINT or "
                "EXECUTION_MODE_HINT=ACCURACY say). Keras 3 on the openvino backend, whose graphs run on "
                "the same plugin, shows the same errors (measured; its convert_to_tensor keeps float64). Under "
                "Bidirectional (a float32 wrapper) only the float64 states show it"),
        evidence=("docs.openvino.ai, CPU Device, 'Supported Model Precision': the CPU plugin's inference "
                  "precisions are f32, bf16 and f16, no f64 (seen on openvino 2026.4.1: the compiled "
                  "model's output tensors are f64, the values are float32's)"),
        repro=("import numpy as np, keras, openvino as ov, tempfile\n"
               "inp = keras.Input((None, 3), dtype='float64'); l = keras.layers.SimpleRNN(4, dtype='float64')\n"
               "d = tempfile.mkdtemp(); keras.Model(inp, l(inp)).export(d)\n"
               "x = np.random.RandomState(0).rand(2, 5, 3)\n"
               "y = ov.Core().compile_model(ov.convert_model(d), 'CPU')(x)[0]\n"
               "print(y.dtype, np.abs(y - np.asarray(l(x))).max())  # float64 ~3e-8 (float64 maths: ~1e-16)"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=lambda c: c.dtype == "f64" and (c.wrapper == "none" or (
            c.return_state and not (c.go_backwards or c.time_major))),
    ),
    Divergence(
        key="keras3-openvino-gru-reset-before-float16",
        targets=("keras3-openvino",),
        reason=("Keras 3 on the openvino backend computes a float16 GRU(reset_after=False) wrongly (also "
                "under mixed_float16, which computes in float16): with "
                "every weight 1 and zero biases its output is 0.1877 where the TensorFlow backend (and "
                "the float32 layer on openvino) gives 0.4087; on the matrix's seeded weights the outputs "
                "saturate at +-1 and err by 1 to 2.8, some non-finite. GRU(reset_after=True) in float16, "
                "which the backend runs as one GRUSequence, agrees (0.4084), as does reset_after=False "
                "in float32 (the same Keras GRUCell ops through the backend's generic rnn loop)"),
        evidence=("measured on keras 3.15.1, openvino 2026.4.1 (the matrix: every gru_reset_before float16 "
                  "case run failed, no other float16 case); keras/src/backend/openvino/rnn.py gru() "
                  "takes its GRUSequence path only for reset_after=True, so reset_after=False runs "
                  "GRUCell.call op by op in float16; the failing op was not located"),
        repro=("import os; os.environ['KERAS_BACKEND'] = 'openvino'  # vs 'tensorflow'\n"
               "import keras, numpy as np\n"
               "x = np.random.RandomState(0).rand(1, 3, 2).astype('float16')\n"
               "g = keras.layers.GRU(2, reset_after=False, dtype='float16', kernel_initializer='ones', "
               "recurrent_initializer='ones')\n"
               "print(keras.ops.convert_to_numpy(g(x)))  # openvino: [[0.1877 0.1877]]; tensorflow: "
               "[[0.4087 0.4087]]"),
        applies=lambda c: c.dtype in ("f16", "mixed_f16") and c.layer == "gru_reset_before" and not (
            c.wrapper != "none" and (c.go_backwards or c.time_major)),
    ),
    Divergence(
        key="keras3-openvino-conv-lstm-mask-broadcast",
        targets=("keras3-openvino",),
        reason=("Keras 3 on the openvino backend misapplies a mask to ConvLSTM1D/2D/3D with a batch of "
                "2 or more: its time loop selects between new and previous states with a (batch, 1) "
                "step mask, which lines up with the state's last two axes instead of its batch axis, so "
                "the call raises RuntimeError ('Argument shapes are inconsistent' at OpenVINO's Select), "
                "or, where the second-to-last axis has the batch's length (a channels_first "
                "ConvLSTM1D: its filters), runs and applies row r's mask to index r of that axis in "
                "every row: wrong values, no error; where that axis has length 1 the state broadcasts "
                "to a new shape. Batch 1 is right; the TensorFlow backend tiles the mask to the "
                "state's rank"),
        evidence=("measured on keras 3.15.1, openvino 2026.4.1: every masked batch-2 ConvLSTM case of "
                  "the keras3 default grid run on keras3-openvino raised, the batch-1 ones passed; a "
                  "channels_first ConvLSTM1D returns wrong values and a ConvLSTM3D whose state is "
                  "(2, 2, 1, 1, 2) a wrong shape (tests/test_target_openvino.py); "
                  "keras/src/backend/openvino/rnn.py rnn() unsqueezes the (time, batch) mask to "
                  "(time, batch, 1) and _rnn_unrolled (the path every ConvLSTM takes) selects "
                  "`ov_opset.select(mask_t, new_state, old_state)` with its (batch, 1) slice; the "
                  "TensorFlow backend's _expand_mask tiles it. Which cases it hits: "
                  "rnnparity.check.mask_broadcast"),
        repro=("import os; os.environ['KERAS_BACKEND'] = 'openvino'\n"
               "import keras, numpy as np\n"
               "x = np.random.RandomState(0).rand(2, 3, 2, 5).astype('float32'); "
               "m = np.array([[True] * 3, [True, True, False]])\n"
               "l = keras.layers.ConvLSTM1D(2, 2, padding='same', data_format='channels_first', "
               "return_sequences=True)\n"
               "y = keras.ops.convert_to_numpy(l(x, mask=m))\n"
               "print(np.allclose(y[1, 2], y[1, 1]), np.allclose(y[:, 2, 1], y[:, 1, 1]))  "
               "# False True: row 1's mask applied to filter 1 of both rows\n"
               "keras.layers.ConvLSTM1D(2, 2, padding='same')(x.transpose(0, 1, 3, 2), mask=m)  "
               "# RuntimeError: ... Argument shapes are inconsistent"),
        applies=conv_lstm_mask_misapplied,
    ),
)


REGISTRY = (
    Divergence(
        key="keras3-bidirectional-stateful-return-state",
        # tflite, onnx, openvino: the same Keras 3 layer, converted
        targets=("keras3", "tflite", "onnx", "openvino", *_BACKENDS, "keras3-openvino"),
        reason=("Keras 3 Bidirectional(stateful=True, return_state=True) raises TypeError on call: "
                "compute_mask builds `state_mask = (None for _ in self.states)` (a generator) and "
                "multiplies it by 2"),
        evidence="keras/src/layers/rnn/bidirectional.py, Bidirectional.compute_mask (seen on keras 3.15.1)",
        repro=("import keras, numpy as np\n"
               "b = keras.layers.Bidirectional(keras.layers.LSTM(2, stateful=True, return_state=True))\n"
               "b(np.zeros((1, 3, 1), 'float32'))  # TypeError: unsupported operand type(s) for *: "
               "'generator' and 'int'"),
        # go_backwards and time_major configurations are rejected earlier, at construction
        applies=lambda c: (c.wrapper != "none" and c.stateful and c.return_state
                           and not _keras3_rejects_backwards_in_bidirectional(c) and not c.time_major),
    ),
    Divergence(
        key="unroll-mask-go-backwards-zero-output",
        targets=("tf_keras", "keras3", "tflite"),  # tflite converts Keras 3's unrolled graph, bug included
        reason=("rnn(unroll=True, go_backwards=True, zero_output_for_mask=True) zeroes the "
                "outputs, which are in processing (reversed) order, with the un-reversed mask, so the "
                "wrong steps are zeroed. Bidirectional(return_sequences=True) sets "
                "zero_output_for_mask on both sub-layers and its backward layer goes backwards, so "
                "every unrolled, masked Bidirectional sequence output is affected"),
        evidence=("tf_keras/src/backend.py rnn() and keras/src/backend/tensorflow/rnn.py rnn(), unroll "
                  "branch: `outputs = tf.where(_expand_mask(mask, outputs, fixed_dim=2), outputs, "
                  "zeros_like(outputs))` after `mask_list.reverse()`; the while_loop branch agrees with "
                  "the reference (seen on tf_keras 2.21.0 and keras 3.15.1)"),
        repro=("import tf_keras, numpy as np\n"
               "x = np.random.rand(1, 4, 2).astype('float32'); m = np.array([[1, 1, 1, 0]], bool)\n"
               "for unroll in (False, True):\n"
               "    b = tf_keras.layers.Bidirectional(tf_keras.layers.SimpleRNN(2, return_sequences=True,"
               " unroll=unroll), merge_mode=None)\n"
               "    b.build(x.shape); b.set_weights([np.full(w.shape, .5, 'float32') for w in b.get_weights()])\n"
               "    print(unroll, b(x, mask=m)[1].numpy()[0, :, 0])  # unrolled: the wrong step is zero"),
        # Keras 3 rejects go_backwards (without a backward_layer) and time_major Bidirectional
        # configurations at construction
        applies=lambda c: (c.unroll and c.mask != "none" and c.wrapper != "none" and c.return_sequences
                           and not (c.target in ("keras3", "tflite") and (
                               c.time_major or _keras3_rejects_backwards_in_bidirectional(c)))),
        upstream=("keras-team/keras#17596 (the backward layer's zero_output_for_mask, open)",
                  "keras-team/tf-keras#252 (the same report for tf_keras, open)"),
    ),
    Divergence(
        key="keras3-stacked-cells-mixed-precision-mask",
        # onnx: the same layer, traced for the conversion (TypeError); keras3-openvino: OpenVINO's Select
        # refuses the f16/f32 pair (RuntimeError: 'Argument 1 and 2 element types must match')
        targets=("keras3", "onnx", "keras3-openvino"),
        reason=("Keras 3 RNN([cell, ...]) with mixed-precision cells fails on a masked input with "
                "InvalidArgumentError (SelectV2: half expected, float given): RNN wraps the list in a "
                "StackedRNNCells that gets the default float32 policy, RNN.call casts the initial "
                "states to that float32 compute dtype, the cells return float16 states, and the masked "
                "step's tf.where(mask, new_states, old_states) mixes the two. Unmasked it runs (and "
                "agrees with the reference); a global mixed policy or StackedRNNCells(cells, "
                "dtype=policy) avoids it"),
        evidence=("keras/src/layers/rnn/rnn.py RNN.call: `initial_state = tree.map_structure(lambda x: "
                  "backend.convert_to_tensor(x, dtype=self.cell.compute_dtype), initial_state)`, with "
                  "self.cell the float32 StackedRNNCells; keras/src/backend/tensorflow/rnn.py masks with "
                  "tf.where (seen on keras 3.15.1, mixed_float16 and mixed_bfloat16)"),
        repro=("import keras, numpy as np\n"
               "cells = [keras.layers.GRUCell(4, dtype='mixed_float16'), keras.layers.GRUCell(4, "
               "dtype='mixed_float16')]\n"
               "rnn = keras.layers.RNN(cells, dtype='mixed_float16')\n"
               "rnn(np.ones((1, 3, 2), 'float32'), mask=np.array([[True, True, False]]))  "
               "# InvalidArgumentError: cannot compute SelectV2"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=lambda c: (_stacked(c) and _mixed(c) and c.mask != "none"
                           and not c.time_major and not (c.wrapper != "none" and c.go_backwards)),
    ),
    Divergence(
        key="tf_keras-stacked-cells-masked-state-lists",
        targets=("tf_keras",),
        reason=("tf_keras RNN over stacked cells raises ValueError ('The two structures don't have the "
                "same nested structure') on a masked input when a one-state cell's initial state is "
                "given as a list ([h], the structure Keras 3 itself uses) rather than a bare array: the "
                "masked step repacks the new states in the structure StackedRNNCells returns (a bare "
                "array for a one-state cell), the unmasked step in the initial states' structure. "
                "Unmasked, or unrolled, it runs and agrees with the reference"),
        evidence=("tf_keras/src/backend.py rnn(), while_loop branch with a mask: `new_states = "
                  "tf.nest.pack_sequence_as(new_states, flat_final_state)`; without a mask: "
                  "`tf.nest.pack_sequence_as(initial_states, flat_new_state)` (seen on tf_keras 2.21.0)"),
        repro=("import tf_keras, numpy as np\n"
               "rnn = tf_keras.layers.RNN([tf_keras.layers.GRUCell(2), tf_keras.layers.GRUCell(2)])\n"
               "h = np.zeros((1, 2), 'float32'); x = np.ones((1, 3, 2), 'float32')\n"
               "rnn(x, initial_state=[[h], [h]])  # runs\n"
               "rnn(x, initial_state=[[h], [h]], mask=np.array([[True, True, False]]))  # ValueError"),
        # the matrix gives every stacked cell's initial states as a list (data.py); a non-stateful
        # mixed-precision layer refuses the float32 initial states first (modelled, see precision.py)
        # a live call's view names every stacked cell's kind; a matrix case stacks one kind
        applies=lambda c: (_stacked(c) and any(k != "lstm" for k in getattr(c, "stacked_kinds", (c.layer,)))
                           and c.initial_state and c.mask != "none" and not c.unroll
                           and not (_mixed(c) and not c.stateful)),
    ),
    Divergence(
        key="keras3-stacked-stateful-reset",
        targets=("keras3", *_BACKENDS, "keras3-openvino"),
        reason=("Keras 3 reset_state() (and reset_states()) of a stateful RNN over stacked cells raises "
                "AttributeError ('ListWrapper' object (numpy, jax backends: 'list' object) has no attribute 'assign'): the states of stacked "
                "cells are one list per cell, and reset_state assigns zeros to each entry of "
                "self.states without flattening them. Carrying the states between calls works (and "
                "agrees with the reference); only the reset fails, also under Bidirectional"),
        evidence=("keras/src/layers/rnn/rnn.py RNN.reset_state: `for v in self.states: "
                  "v.assign(ops.zeros_like(v.value))`, while _create_state_variables builds "
                  "self.states with tree.map_structure over the nested initial state (seen on "
                  "keras 3.15.1)"),
        repro=("import keras, numpy as np\n"
               "rnn = keras.layers.RNN([keras.layers.GRUCell(2), keras.layers.GRUCell(2)], stateful=True)\n"
               "rnn(np.ones((1, 3, 2), 'float32'))\n"
               "rnn.reset_state()  # AttributeError: 'ListWrapper' object has no attribute 'assign'"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=lambda c: (_stacked(c) and c.stateful and not c.time_major
                           and not (c.wrapper != "none" and c.go_backwards)),
    ),
    Divergence(
        key="onnx-stateful-state-frozen",
        targets=("onnx",),
        reason=("A stateful Keras layer converted by tf2onnx keeps no state: an ONNX model is "
                "stateless, so tf2onnx freezes the state variables into constants (their zero initial "
                "values) and strips the AssignVariableOps without a warning (only an INFO line 'TF "
                "freezing failed. Attempting to fix freezing errors. Removed ... AssignVariableOp'). "
                "Every call starts from zeros: the first call after a reset agrees, a call that should "
                "carry the state differs (by 0.002-0.7 on the matrix)"),
        evidence=("onnx/tensorflow-onnx#1152 (maintainer: 'All onnx models are stateless ... the model "
                  "will just always use the initial state'; make the state an input and an output), "
                  "onnx/keras-onnx#676 (same with keras2onnx); seen on tf2onnx 1.17.0, onnxruntime "
                  "1.32.0, keras 3.15.1"),
        repro=("import keras, numpy as np, tensorflow as tf, tf2onnx, onnxruntime as ort\n"
               "from keras.src.export.tf2onnx_lib import patch_tf2onnx; patch_tf2onnx()\n"
               "lstm = keras.layers.LSTM(4, stateful=True); lstm.build((1, 3, 2))\n"
               "x = np.random.RandomState(0).rand(1, 3, 2).astype('float32')\n"
               "sig = [tf.TensorSpec((1, 3, 2), tf.float32)]\n"
               "proto, _ = tf2onnx.convert.from_function(tf.function(lambda x: lstm(x), "
               "input_signature=sig), input_signature=sig)\n"
               "s = ort.InferenceSession(proto.SerializeToString(), providers=['CPUExecutionProvider'])\n"
               "print(lstm(x) - s.run(None, {s.get_inputs()[0].name: x})[0])  # call 1: ~1e-8\n"
               "print(lstm(x) - s.run(None, {s.get_inputs()[0].name: x})[0])  # call 2: ~0.03-0.07, "
               "Keras carried its state"),
        # Keras 3 rejects go_backwards and time_major Bidirectional configurations at construction
        applies=lambda c: (c.stateful and not c.time_major
                           and not (c.wrapper != "none" and c.go_backwards)),
    ),
    Divergence(
        key="keras3-conv-lstm-channels-first-cpu",
        targets=("keras3",),
        reason=("Keras 3 on TensorFlow cannot run ConvLSTM1D / ConvLSTM2D with "
                "data_format='channels_first' on a CPU: the call raises UnimplementedError (the "
                "convolution runs as tf.nn.convolution in NCW / NCHW layout, which has no CPU kernel), "
                "where tf_keras transposes to channels_last itself and runs it. ConvLSTM3D runs "
                "(through an XLA-compiled convolution)"),
        evidence=("keras/src/backend/tensorflow/nn.py conv: channels_first is passed to "
                  "tf.nn.convolution as NCW / NCHW unless XLA compiles it (3-D); tf_keras "
                  "base_conv_lstm.py transposes on CPU (seen on keras 3.15.1, tensorflow 2.21.0)"),
        repro=("import keras, numpy as np\n"
               "l = keras.layers.ConvLSTM2D(2, 3, data_format='channels_first')\n"
               "l(np.ones((1, 2, 1, 5, 5), 'float32'))  # UnimplementedError: The Conv2D op currently "
               "only supports the NHWC tensor format on the CPU"),
        # configurations Keras 3 rejects at construction (as the reference does) never reach a call
        applies=lambda c: (getattr(c, "data_format", "cl") == "cf" and getattr(c, "rank", 0) in (1, 2)
                           and not (c.strides != "s1" and c.dilation != "d1")
                           and not _keras3_rejects_backwards_in_bidirectional(c)),
    ),
    Divergence(
        key="tf_keras-conv-lstm-stateful-float32-states",
        targets=("tf_keras",),
        reason=("tf_keras ConvLSTM1D/2D/3D with stateful=True and any dtype but float32 (float64, "
                "float16, mixed_float16) raises ValueError at the first call ('Tensor conversion "
                "requested dtype float32 for Tensor with dtype float64'): the state variables are "
                "created float32 whatever the layer's dtype, and the new states cannot be assigned to "
                "them. Keras 3 (and tf_keras' LSTM) create them in the layer's dtype"),
        evidence=("tf_keras/src/layers/rnn/base_conv_rnn.py ConvRNN.reset_states: "
                  "`self.states = [backend.zeros(get_tuple_shape(dim)) for dim in ...]` with no dtype "
                  "(seen on tf_keras 2.21.0)"),
        repro=("import tf_keras, numpy as np\n"
               "l = tf_keras.layers.ConvLSTM1D(2, 2, stateful=True, dtype='float64')\n"
               "l(np.ones((1, 3, 5, 2)))  # ValueError: Tensor conversion requested dtype float32 for "
               "Tensor with dtype float64"),
        applies=lambda c: (getattr(c, "layer", "").startswith("conv_lstm") and c.stateful
                           and c.dtype != "f32"),
    ),
    Divergence(
        key="keras3-backend-conv-lstm-mask-broadcast",
        targets=_NUMPY_JAX,
        reason=("Keras 3 on the numpy and jax backends cannot run a ConvLSTM1D/2D/3D with a mask and a "
                "batch of 2 or more: the call raises ValueError ('operands could not be broadcast "
                "together with shapes (2,1) (2,5,2) (2,5,2)'), where the TensorFlow and torch backends "
                "run it: their rnn() reduces each step's mask to (batch, 1) and selects with it between "
                "states of rank 3-5, which lines up with the state's last two axes. Where the "
                "second-to-last axis has the batch's length (a channels_first ConvLSTM1D: its filters) "
                "it runs and applies row r's mask to index r of that axis: wrong values, no error. "
                "Batch 1 runs right"),
        evidence=("keras/src/backend/numpy/rnn.py (and jax/rnn.py) rnn(), unroll=False with a mask: "
                  "`is_masked = all(logical_not(current_mask), axis=-1, keepdims=True)` then "
                  "`where(is_masked, output_tm1, output_t)`; the TensorFlow backend tiles the mask to "
                  "the output's rank with _expand_mask (seen on keras 3.15.1; the full tier's masked "
                  "ConvLSTM cases on keras3-numpy: the batch-1 ones agree, the channels_first "
                  "ConvLSTM1D ones differ in value). Which cases it hits: rnnparity.check.mask_broadcast"),
        repro=("# KERAS_BACKEND=numpy (or jax)\n"
               "import keras, numpy as np\n"
               "l = keras.layers.ConvLSTM1D(2, 2, padding='same', return_sequences=True)\n"
               "x = np.ones((2, 3, 5, 2), 'float32'); m = np.array([[True, True, False], [True] * 3])\n"
               "y = np.asarray(l(x[:1], mask=m[:1])); print(np.allclose(y[0, 2], y[0, 1]))  "
               "# True: batch 1 runs as Keras means\n"
               "l(x, mask=m)  # ValueError: operands could not be broadcast together (jax: Incompatible "
               "shapes)"),
        applies=conv_lstm_mask_misapplied,
    ),
    Divergence(
        key="tf_keras-conv-lstm-ignores-zero-output-for-mask",
        targets=("tf_keras",),
        reason=("tf_keras ConvLSTM1D/2D/3D ignores zero_output_for_mask, which Bidirectional sets on "
                "both sub-layers when return_sequences=True: a masked step repeats the previous step's "
                "output instead of 0, so a masked Bidirectional(ConvLSTM, return_sequences=True) "
                "differs from tf_keras' own Bidirectional(LSTM) and from Keras 3 wherever a row has a "
                "masked step after a valid one (in either direction's processing order); under "
                "merge_mode='mul' only where a masked step has valid steps on both sides (elsewhere "
                "one direction's factor is 0 either way: before its first valid step)"),
        evidence=("tf_keras/src/layers/rnn/base_conv_rnn.py ConvRNN.call: `backend.rnn(step, inputs, "
                  "initial_state, constants=constants, go_backwards=self.go_backwards, mask=mask, "
                  "input_length=timesteps)`, without zero_output_for_mask (RNN.call passes it) (seen "
                  "on tf_keras 2.21.0)"),
        repro=("import tf_keras, numpy as np\n"
               "b = tf_keras.layers.Bidirectional(tf_keras.layers.ConvLSTM1D(1, 1, return_sequences=True,"
               " kernel_initializer='ones', recurrent_initializer='ones'))\n"
               "print(b(np.ones((1, 2, 1, 1), 'float32'), mask=np.array([[True, False]]))[0, 1])  "
               "# [[0.3414 0.]]: the forward half repeats step 0's output; Keras 3, and tf_keras' "
               "Bidirectional(LSTM) on the same input: zeros"),
        applies=lambda c: (getattr(c, "layer", "").startswith("conv_lstm") and c.wrapper != "none"
                           and c.return_sequences and _conv_lstm_zero_output_shows(c)),
    ),
    Divergence(
        key="tfjs-conv-lstm2d-mask-transpose",
        targets=("tfjs",),
        reason=("TensorFlow.js ConvLSTM2D cannot take a mask: the call raises 'Error in transpose: rank "
                "of input 2 must match length of perm 1,0,2,3,4': its rnn() transposes the (batch, "
                "time) mask with the 5-D input's batch/time permutation"),
        evidence=("measured on @tensorflow/tfjs 4.22.0 (cpu backend, node): every masked ConvLSTM2D "
                  "case of the matrix, and the repro below; the permutation in the error is the 5-D "
                  "input's (batch <-> time) applied to the 2-D mask. Not reported upstream that we "
                  "could find"),
        repro=(_TFJS_NODE + "const l = tf.layers.convLstm2d({filters: 1, kernelSize: 1, returnSequences: true});\n"
               "l.apply(tf.ones([1, 2, 1, 1, 1]), {mask: tf.tensor2d([[1, 0]], [1, 2], 'bool')});  "
               "// Error in transpose: rank of input 2 must match length of perm 1,0,2,3,4"),
        # Keras 3 rejects go_backwards Bidirectional configurations before TF.js sees them
        applies=lambda c: (getattr(c, "layer", "") == "conv_lstm2d" and c.mask != "none"
                           and not (c.wrapper != "none" and c.go_backwards)),
    ),
    Divergence(
        key="tflite-conv-lstm2d-channels-first-dilated",
        targets=("tflite",),
        reason=("A Keras 3 ConvLSTM2D with data_format='channels_first' and dilation_rate > 1 converts "
                "to TFLite but cannot run: allocate_tensors raises RuntimeError (SPACE_TO_BATCH_ND: "
                "'block_shape->dims->data[0] != spatial_dims_num (3 != 2)'): the dilated NCHW "
                "convolution is lowered to a SpaceToBatchND over three axes, which the kernel refuses"),
        evidence=("tensorflow/lite/kernels/space_to_batch_nd.cc:67 (seen on tensorflow 2.21.0, keras "
                  "3.15.1, TFLiteConverter.from_keras_model); channels_last, or no dilation, runs"),
        repro=("import tensorflow as tf, keras\n"
               "x = keras.Input((3, 2, 5, 4), batch_size=1)\n"
               "m = keras.Model(x, keras.layers.ConvLSTM2D(2, 2, padding='same', dilation_rate=2, "
               "data_format='channels_first')(x))\n"
               "i = tf.lite.Interpreter(model_content=tf.lite.TFLiteConverter.from_keras_model(m).convert())\n"
               "i.allocate_tensors()  # RuntimeError: ... SPACE_TO_BATCH_ND failed to prepare"),
        applies=lambda c: (getattr(c, "layer", "") == "conv_lstm2d" and c.data_format == "cf"
                           and c.dilation != "d1" and c.strides == "s1"
                           and not (c.wrapper != "none" and c.go_backwards)),
    ),
) + _BACKEND_DIVERGENCES + _TFJS_DIVERGENCES + _OPENVINO_DIVERGENCES


# Bugs in a built-in activation, keyed by (target, activation name): they apply to the activation sweep.
ACTIVATION_BUGS = {
    ("keras3", "sparsemax"): Divergence(
        key="keras3-sparsemax-threshold",
        targets=("keras3",),
        reason=("Keras 3 sparsemax computes tau = (sum of the cumulative sums over the support - 1) / k "
                "instead of (cumulative sum at k - 1) / k (Martins & Astudillo 2016, eq. 2), so its "
                "output does not sum to 1 whenever the support has 2 or more elements"),
        evidence=("keras/src/backend/{tensorflow,jax,numpy}/nn.py sparsemax: `tau = (sum(where(support, "
                  "logits_cumsum, 0)) - 1) / k` (seen on keras 3.15.1)"),
        repro=("import keras, numpy as np\n"
               "print(keras.ops.sum(keras.activations.sparsemax(np.array([[1.0, 0.9]]))))  "
               "# 0.05, a simplex projection sums to 1 ([0.55, 0.45])"),
        applies=lambda case: True,
        upstream=("keras-team/keras#23425 (closed)", "keras-team/keras#23469 (the fix, merged; keras 3.15.1 still has the bug)"),
    ),
}


# Bugs met on bad or edge-case input, keyed by (target, row id of tests/test_bad_input.py).
INPUT_BUGS = {
    ("keras3", "empty_batch_lstm"): Divergence(
        key="keras3-lstm-empty-batch",
        targets=("keras3",),
        reason=("Keras 3 (TensorFlow backend) LSTM fails on an empty batch with InvalidArgumentError "
                "'Biases must be 1D: [0,8]', even with use_bias=False: LSTMCell adds h @ "
                "recurrent_kernel with ops.add, whose bias_add shortcut ignores size-0 and size-1 axes "
                "when deciding that the (0, 4 units) second operand 'looks like a bias'. SimpleRNN, GRU "
                "and tf_keras return empty outputs"),
        evidence=("keras/src/backend/tensorflow/numpy.py add(): `x2_squeeze_shape = [d for d in "
                  "x2.shape.as_list() if d is None or d > 1]`; keras/src/layers/rnn/lstm.py LSTMCell.call "
                  "`z = ops.add(z, ops.matmul(h_tm1, self.recurrent_kernel))` (seen on keras 3.15.1)"),
        repro=("import keras, numpy as np\n"
               "l = keras.layers.LSTM(2); l.build((None, None, 3))\n"
               "l(np.zeros((0, 4, 3), 'float32'))  # InvalidArgumentError: Biases must be 1D: [0,8]"),
        applies=lambda row: True,
    ),
    ("keras3", "initial_state_too_many_gru"): Divergence(
        key="keras3-gru-extra-initial-states",
        targets=("keras3",),
        reason=("Keras 3 GRU silently drops initial states beyond the first: given 2 where it expects 1, "
                "its output equals passing the first alone (also under Bidirectional(GRU) with 3 "
                "states). Keras 3 SimpleRNN and LSTM, and every tf_keras layer, raise on a wrong count"),
        evidence=("keras/src/layers/rnn/gru.py GRU.inner_loop: `if tree.is_nested(initial_state): "
                  "initial_state = initial_state[0]`, with no count check in RNN.call (seen on "
                  "keras 3.15.1)"),
        repro=("import keras, numpy as np\n"
               "g = keras.layers.GRU(2); x = np.random.rand(2, 4, 3).astype('float32')\n"
               "h1, h2 = np.random.rand(2, 2, 2).astype('float32')\n"
               "print(np.array_equal(g(x, initial_state=[h1, h2]), g(x, initial_state=[h1])))  # True"),
        applies=lambda row: True,
    ),
}


# Bugs met on the ways of passing stacked cells' states, keyed by (target, row id of
# tests/test_cells_live.py STRUCTURES).
STACKED_STATE_BUGS = {
    ("keras3", "lstm_stack_too_few_entries"): Divergence(
        key="keras3-stacked-cells-too-few-initial-states",
        targets=("keras3",),
        reason=("Keras 3 RNN over stacked cells given initial states for fewer cells than it stacks "
                "silently runs only those first cells: RNN([LSTMCell(4), LSTMCell(5)]) with one [h, c] "
                "entry returns cell 0's 4-unit output and states, and cell 1 never runs. tf_keras "
                "raises ValueError ('Layer has 2 states but was passed 1 initial states')"),
        evidence=("keras/src/layers/rnn/stacked_rnn_cells.py StackedRNNCells.call: `for cell, states in "
                  "zip(self.cells, states)` stops at the shorter list, with no count check in RNN.call "
                  "(seen on keras 3.15.1)"),
        repro=("import keras, numpy as np\n"
               "rnn = keras.layers.RNN([keras.layers.LSTMCell(4), keras.layers.LSTMCell(5)])\n"
               "h = np.zeros((1, 4), 'float32')\n"
               "print(rnn(np.ones((1, 3, 2), 'float32'), initial_state=[[h, h]]).shape)  # (1, 4), not (1, 5)"),
        applies=lambda row: True,
    ),
}


def input_divergence(target, row_id):
    return INPUT_BUGS.get((target, row_id))


# Behaviour of the framework that depends on the machine it runs on: a probe on the live framework
# (tests/tf_platform.py) decides where an entry applies; the tests it affects are strict xfails there.
PLATFORM_BUGS = {
    "bfloat16_matmul": Divergence(
        key="tensorflow-cpu-bfloat16-matmul-truncates",
        targets=("keras3", "tf_keras"),
        reason=("TensorFlow's bfloat16 MatMul on some CPUs rounds its float32 product toward zero "
                "(truncates the low 16 bits) instead of to nearest even, so bfloat16 and "
                "mixed_bfloat16 layers differ from a once-rounded product by up to 1 bfloat16 ulp "
                "per product; the other bfloat16 ops (add, sigmoid, tanh) round to nearest there"),
        evidence=("TF 2.21.0 on an AMD EPYC with AVX2 and no AVX-512: a 7x13 @ 13x20 bfloat16 "
                  "product equals the truncated float32 product on all 140 elements and the "
                  "rounded-to-nearest one on 69; on an Intel Skylake-X (AVX-512) the same TF rounded "
                  "to nearest. The probe: tests/tf_platform.py bfloat16_matmul_mode"),
        repro=("import numpy as np, ml_dtypes, tensorflow as tf\n"
               "bf = ml_dtypes.bfloat16; r = np.random.RandomState(0)\n"
               "a, b = r.uniform(-1, 1, (7, 13)).astype(bf), r.uniform(-1, 1, (13, 20)).astype(bf)\n"
               "exact = a.astype('float32') @ b.astype('float32')\n"
               "print((tf.matmul(a, b).numpy() != exact.astype(bf)).sum())  # 0 where TF rounds to nearest; 71 here\n"
               "print((tf.matmul(a, b).numpy().astype('float32') != (exact.view('uint32') & 0xFFFF0000)"
               ".view('float32')).sum())  # 0: truncated"),
        applies=lambda case: False,  # not a case-matrix entry: the probe decides, per machine
        upstream=("tensorflow/tensorflow#123551 (related: CPU bfloat16 rounding that depends on the "
                  "code path)",),
    ),
}


# Bugs a live call meets that the case matrix does not build (it gives stacked cells their dtype):
# checked by divergence_for_call on the call's view (call_view).
def _float64_stack_in_float32(view):
    return (getattr(view, "cell", "layer") == "stacked" and getattr(view, "layer_dtype", None) == "float64"
            and getattr(view, "stacked_dtype", None) == "float32")


def _stack_dtype_differs(view):
    """Stacked cells whose layer computes in float64 or float16 while the StackedRNNCells RNN built
    around them computes in float32 (its default policy)."""
    return (getattr(view, "cell", "layer") == "stacked"
            and getattr(view, "layer_dtype", None) in ("float64", "float16")
            and getattr(view, "stacked_dtype", None) == "float32")


CALL_BUGS = (
    Divergence(
        key="tf_keras-unrolled-stacked-cells-state-structure",
        targets=("tf_keras",),
        reason=("tf_keras RNN over stacked cells with unroll=True and return_state=True returns a "
                "one-state cell's final state as a bare tensor when its initial state was given as a "
                "list ([[h]], the per-cell structure), where the same layer with unroll=False (and the "
                "reference) returns the list [h]: the output structure depends on unroll. Found by "
                "rnnparity explore"),
        evidence=("tf_keras/src/backend.py rnn(): the unrolled branch repacks the final states in "
                  "the structure StackedRNNCells returns, the while_loop branch in the initial "
                  "states' structure (seen on tf_keras 2.21.0)"),
        repro=("import tf_keras as K, tensorflow as tf\n"
               "x, h = tf.ones((1, 3, 2)), tf.zeros((1, 7))\n"
               "for unroll in (False, True):\n"
               "    rnn = K.layers.RNN([K.layers.SimpleRNNCell(7)], unroll=unroll, return_state=True)\n"
               "    print(unroll, type(rnn(x, initial_state=[[h]])[1]).__name__)  # list, then EagerTensor"),
        applies=lambda view: (getattr(view, "cell", "layer") == "stacked" and view.unroll
                              and view.return_state and view.initial_state
                              and any(k != "lstm" for k in (getattr(view, "stacked_kinds", None) or ()))),
    ),
    Divergence(
        key="keras3-stacked-cells-own-dtype-masked-select",
        targets=("keras3",),
        reason=("Keras 3 RNN([cells], dtype='float64') (or 'float16') called with a mask raises "
                "InvalidArgumentError ('cannot compute SelectV2 as input #2 was expected to be a "
                "double tensor but is a float tensor', 'half' for float16): the StackedRNNCells it "
                "builds computes in float32 (see float64-stacked-cells-compute-in-float32) and the "
                "masked step selects between its float32 output and the carried state of the "
                "layer's dtype. Found by rnnparity explore (float16) and issue 21 (float64)"),
        evidence=("keras/src/layers/rnn/rnn.py RNN.__init__ wraps a list of cells in "
                  "StackedRNNCells(cells) without the layer's dtype; keras/src/backend/tensorflow/rnn.py "
                  "rnn() masks with tf.where (seen on keras 3.15.1)"),
        repro=("import keras, numpy as np\n"
               "L = keras.layers\n"
               "rnn = L.RNN([L.GRUCell(4, dtype='float64'), L.LSTMCell(4, dtype='float64')], dtype='float64')\n"
               "x = np.random.rand(2, 5, 3); m = np.array([[1, 1, 1, 0, 0], [1] * 5], bool)\n"
               "rnn(x, mask=m)  # InvalidArgumentError: ... SelectV2 ... double tensor but is a float tensor\n"
               "# fine: L.RNN(L.StackedRNNCells([...], dtype='float64'), dtype='float64')\n"
               "# float16 alike: L.RNN([L.GRUCell(1, reset_after=False, dtype='float16')], dtype='float16')"),
        applies=lambda view: _stack_dtype_differs(view) and getattr(view, "mask", "none") != "none",
    ),
    Divergence(
        key="float64-stacked-cells-compute-in-float32",
        targets=("keras3", "tf_keras"),
        reason=("RNN([cells], dtype='float64') (every cell float64 too) returns float64 arrays but "
                "computes in float32: the StackedRNNCells it builds around the list takes the global "
                "float32 policy, not the layer's, and casts the step's inputs to float32, so the "
                "outputs differ from a float64 computation by float32 rounding (relative 7e-8 to 1e-6 "
                "from t=0)"),
        evidence=("keras/src/layers/rnn/rnn.py and tf_keras/src/layers/rnn/base_rnn.py: RNN.__init__ "
                  "does `cell = StackedRNNCells(cell)` for a list, with no dtype; its dtype_policy is "
                  "float32 in both (seen on keras 3.15.1 and tf_keras 2.21.0); with "
                  "StackedRNNCells(cells, dtype='float64') the same layer agrees with the reference to "
                  "4e-14. rnnparity's verdict names it: 'float32 rounding inside a float64 run'"),
        repro=("import keras, numpy as np  # or: import tf_keras as keras\n"
               "L = keras.layers\n"
               "cells = lambda: [L.GRUCell(4, dtype='float64'), L.LSTMCell(4, dtype='float64')]\n"
               "a = L.RNN(cells(), dtype='float64'); a.build((2, 5, 3))\n"
               "b = L.RNN(L.StackedRNNCells(cells(), dtype='float64'), dtype='float64'); b.build((2, 5, 3))\n"
               "b.set_weights(a.get_weights()); x = np.random.rand(2, 5, 3)\n"
               "print(a.cell.dtype_policy.name)  # float32\n"
               "print(np.max(np.abs(np.asarray(a(x)) - np.asarray(b(x)))))  # ~1e-7, not ~1e-16"),
        applies=_float64_stack_in_float32,
    ),
)


def stacked_state_divergence(target, row_id):
    return STACKED_STATE_BUGS.get((target, row_id))


# The INPUT_BUGS rows a live call can meet, by the call's view (see divergence_for_call). The other
# rows (e.g. too many initial states) are refused by assert_parity's input checks before any call.
_INPUT_BUG_CALLS = {
    "empty_batch_lstm": lambda view: view.layer == "lstm" and view.batch == 0,
}


def divergence_for_call(view):
    """The registered divergence a live call meets (rnnparity.testing.assert_parity), or None.

    ``view`` has the Case fields the registry reads (target, layer, wrapper, the four flags, mask,
    initial_state, time_major, unroll) plus ``batch``, ``activation`` and ``recurrent_activation``."""
    known = divergence_for(view)
    if known is not None:
        return known
    for bug in CALL_BUGS:
        if bug.matches(view):
            return bug
    for (target, row_id), bug in INPUT_BUGS.items():
        applies = _INPUT_BUG_CALLS.get(row_id)
        if target == view.target and applies is not None and applies(view):
            return bug
    for name in (view.activation, view.recurrent_activation):
        if isinstance(name, str) and activation_divergence(view.target, name):
            return activation_divergence(view.target, name)
    return None


def activation_divergence(target, name):
    return ACTIVATION_BUGS.get((target, name))


def all_divergences() -> list:
    """Every registered divergence: the case matrix's, then the activation, input and stacked-state bugs."""
    return (list(REGISTRY) + list(ACTIVATION_BUGS.values()) + list(INPUT_BUGS.values())
            + list(STACKED_STATE_BUGS.values()) + list(CALL_BUGS) + list(PLATFORM_BUGS.values()))


def divergence_for(case):
    """The registered divergence that applies to a case, or None."""
    for d in REGISTRY:
        if d.matches(case):
            return d
    return None


@dataclass(frozen=True)
class Surprise:
    title: str
    targets: tuple
    detail: str
    repro: str


# Deliberate framework behaviour that surprises people; the reference models each one.
SURPRISES = (
    Surprise(
        "Keras 3 cannot load its own .h5 of a functional model with Embedding(mask_zero=True)",
        ("keras3",),
        "Keras 3 writes the mask's NotEqual op into the .h5 config as a layer, and its own load_model "
        "then fails with \"Unknown layer: 'NotEqual'\" (a Sequential model, and the .keras format, "
        "load). Also, a .h5 compiled with loss='mse' loads only with compile=False (\"Could not "
        "deserialize 'keras.metrics.mse'\"). Seen on keras 3.15.1; tests/test_examples.py keeps both "
        "as strict xfails.",
        "keras.Model(ids, GRU(3)(Embedding(10, 4, mask_zero=True)(ids))).save('m.h5'); "
        "keras.models.load_model('m.h5')  # ValueError: Unknown layer: 'NotEqual'",
    ),
    Surprise(
        "Keras 3 drops the propagated mask of a recurrent layer called with initial_state",
        ("keras3",),
        "Keras 3's Layer.__call__ fills in the Keras mask of the input (Embedding(mask_zero=True), "
        "Masking, an earlier layer's output mask) only when the call has a single tensor argument; "
        "with initial_state= as well, the layer runs unmasked and the padded steps count as real "
        "ones (a seq2seq / NMT decoder). tf_keras passes the mask. Pass mask= explicitly. Not "
        "reported upstream that we could find (keras/src/layers/layer.py, __call__, step 6; seen "
        "on keras 3.15.1).",
        "g(e(ids), initial_state=s)  # keras3: unmasked, 0.0145 from g(e(ids), initial_state=s, "
        "mask=e.compute_mask(ids)) on [[3, 5, 0, 0]]; tf_keras: identical",
    ),
    Surprise(
        "go_backwards does not re-reverse the output sequence",
        ("keras3", "tf_keras"),
        "With go_backwards=True and return_sequences=True the outputs come in processing order: "
        "output[:, 0] belongs to the *last* input step. Only Bidirectional flips the backward "
        "layer's sequence back.",
        "LSTM(4, go_backwards=True, return_sequences=True)(x)[:, 0]  # h after reading x[:, -1]",
    ),
    Surprise(
        "Keras 3 Bidirectional rejects a layer with go_backwards=True",
        ("keras3",),
        "Keras 3 builds the backward copy with go_backwards=True unconditionally (Keras 2 flips the "
        "flag), so wrapping a go_backwards=True layer raises ValueError ('Forward layer and backward "
        "layer should have different `go_backwards` value').",
        "keras.layers.Bidirectional(keras.layers.GRU(4, go_backwards=True))  # ValueError",
    ),
    Surprise(
        "hard_sigmoid means two different functions",
        ("keras3", "tf_keras"),
        "Keras 2: clip(0.2 x + 0.5, 0, 1). Keras 3: relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1). "
        "A model using recurrent_activation='hard_sigmoid' changes its outputs when moved from "
        "Keras 2 to Keras 3.",
        "keras.activations.hard_sigmoid(1.0)  # 0.6667; tf_keras.activations.hard_sigmoid(1.0)  # 0.7",
    ),
    Surprise(
        "Bidirectional runs float64 layers through float32",
        ("keras3", "tf_keras"),
        "The wrapper has its own dtype policy (float32 unless dtype= is passed to Bidirectional): "
        "inputs are cast to float32 before the float64 sub-layers see them, and Keras 3 also casts "
        "the merged output to float32 (the states stay float64).",
        "keras.layers.Bidirectional(keras.layers.LSTM(4, dtype='float64'))(x64).dtype  # float32",
    ),
    Surprise(
        "Masked steps carry the previous output, except under Bidirectional(return_sequences=True)",
        ("keras3", "tf_keras"),
        "At a masked step the state is carried and the output repeats the previous step's output "
        "(zeros before the first unmasked step). Bidirectional forces zero_output_for_mask="
        "return_sequences on both sub-layers, so there masked steps output zeros.",
        "LSTM(4, return_sequences=True)(x, mask=m)  # masked rows repeat the last unmasked h",
    ),
    Surprise(
        "float64 gelu and leaky_relu use float32 constants",
        ("keras3", "tf_keras"),
        "tf.nn.gelu computes 0.5 x erfc(-x c) with c = tf.cast(0.7071067811865476, dtype), and the "
        "Python float becomes a float32 tensor before the cast, so c = float32(1/sqrt 2) even in "
        "float64 (a 4e-9 difference from the exact GELU); leaky_relu's alpha is a float32 attribute "
        "(0.2 -> 0.20000000298).",
        "tf.nn.gelu(tf.constant([-1.0], tf.float64)) - (-0.5 * math.erfc(1 / math.sqrt(2)))  # 4e-9",
    ),
    Surprise(
        "Stacked cells return one entry of states per cell, in the structure they were given",
        ("keras3", "tf_keras"),
        "RNN([LSTMCell(4), GRUCell(5)], return_state=True) returns the last cell's output, then each "
        "cell's states: Keras 3 `(out, [h1, c1], [h2])`, tf_keras `[out, [h1, c1], h2]` (a bare array "
        "for a one-state cell). Given initial states, both return the final states in that same "
        "structure (a tuple entry comes back a tuple, a bare array bare). A stack of one cell keeps "
        "its entry: RNN([LSTMCell(5)]) returns `(out, [h, c])`, RNN(LSTMCell(5)) `(out, h, c)`.",
        "keras.layers.RNN([keras.layers.GRUCell(4), keras.layers.GRUCell(5)], return_state=True)(x)"
        "  # (out, [h1], [h2])",
    ),
    Surprise(
        "tf_keras does not cast initial states to a mixed-precision layer's compute dtype",
        ("tf_keras",),
        "Under mixed_float16 / mixed_bfloat16 (float32 variables, low-precision compute) Keras 3 casts "
        "inputs and initial states to the compute dtype; tf_keras casts only the inputs, so a float32 "
        "initial state on a non-stateful layer fails with InvalidArgumentError in the matmul (a "
        "stateful layer casts its states, so there it works). Outputs and states are float16 / "
        "bfloat16, get_weights() is float32 in both.",
        "tf_keras.layers.GRU(4, dtype='mixed_float16')(x, initial_state=[h32])  # InvalidArgumentError",
    ),
    Surprise(
        "A tf_keras stateful layer ignores initial_state once its states are not all zero",
        ("tf_keras",),
        "tf_keras' RNN._process_inputs uses the stored states instead of a given initial_state whenever "
        "any stored state is nonzero (so only the first call after a reset takes it); Keras 3 always "
        "starts from the initial_state it is given.",
        "l = tf_keras.layers.LSTM(4, stateful=True); l(x1); l(x2, initial_state=s)  # s is ignored",
    ),
    Surprise(
        "TFLite's reset_all_variables() does not reset a converted stateful layer",
        ("tflite",),
        "A Keras 3 stateful layer converted with experimental_enable_resource_variables keeps its states "
        "in resource variables of the interpreter (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, "
        "zeroed once by CALL_ONCE), carried from one invoke to the next as Keras carries them. "
        "Interpreter.reset_all_variables() resets only the legacy variable tensors, so the state stays "
        "carried; a fresh interpreter on the same model is the reset (what the tflite target does). "
        "The same question, for TFLite's fused LSTM: tensorflow#46620, #47813; TFLite Micro added a "
        "resource-variable reset (tflite-micro#948). Seen on TF 2.21 and ai_edge_litert 2.3.0.",
        "it.get_signature_runner()(x); it.reset_all_variables(); it.get_signature_runner()(x)  "
        "# differs from the first call: the state was carried",
    ),
    Surprise(
        "Return containers differ",
        ("keras3", "tf_keras"),
        "With return_state=True (or Bidirectional merge_mode=None) Keras 3 returns a tuple and "
        "Keras 2 a list.",
        "type(keras.layers.GRU(2, return_state=True)(x))  # tuple; tf_keras: list",
    ),
)


def markdown() -> str:
    """The sections on known bugs and surprises of docs/known-bugs.md, generated from the registries."""
    parts = ["## Known framework bugs (strict xfails)", "",
             "Each is registered in `src/rnnparity/check/divergences.py` and applied as a strict xfail: the day "
             "the framework fixes it the case XPASSes, the suite fails and says so, and the entry is "
             "removed. Nothing else is skipped or xfailed.", ""]
    for d in all_divergences():
        upstream = "; ".join(d.upstream) if d.upstream else "not reported upstream (none found)"
        parts += [f"### `{d.key}` ({', '.join(d.targets)})", "", f"{d.reason}.", "",
                  f"Evidence: {d.evidence}.", "", f"Upstream: {upstream}.", "",
                  "```python", d.repro, "```", ""]
    parts += ["## Surprising but deliberate framework behaviour (modelled by the reference)", ""]
    for s in SURPRISES:
        parts.append(f"- **{s.title}** ({', '.join(s.targets)}). {s.detail}\n  `{s.repro}`")
    return "\n".join(parts) + "\n"


def call_view(target, layer, x, mask, states):
    """The Case fields the divergence registry reads, for this layer and call."""
    inner = getattr(layer, "forward_layer", layer)  # a Bidirectional's forward layer
    config = inner.get_config()
    cls, cell_kind, cell_config = type(inner).__name__, "layer", config
    if cls == "RNN":  # RNN(cell) or stacked cells: the layer kind is the (first) cell's
        stack = getattr(inner.cell, "cells", None)
        first = stack[0] if stack else inner.cell
        cls, cell_kind, cell_config = (type(first).__name__.removesuffix("Cell"),
                                       "stacked" if stack else "rnn_cell", first.get_config())
    layer_id = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "ConvLSTM1D": "conv_lstm1d",
                "ConvLSTM2D": "conv_lstm2d", "ConvLSTM3D": "conv_lstm3d"}.get(cls) or (
        "gru" if cell_config.get("reset_after", True) else "gru_reset_before")
    policy = str(getattr(getattr(inner, "dtype_policy", None), "name", ""))
    dtype = {"mixed_float16": "mixed_f16", "mixed_bfloat16": "mixed_bf16"}.get(policy, "f32")
    stacked = getattr(getattr(inner, "cell", None), "cells", None)
    stacked_dtype = str(getattr(inner.cell, "compute_dtype", "")) if stacked else None
    stacked_kinds = tuple({"LSTMCell": "lstm", "GRUCell": "gru", "SimpleRNNCell": "simple_rnn"}.get(
        type(c).__name__, type(c).__name__) for c in stacked) if stacked else None
    time_major = bool(config.get("time_major", False))
    view = types.SimpleNamespace(
        target=target, layer=layer_id, cell=cell_kind, dtype=dtype,
        wrapper="none" if inner is layer else f"bidi_{str(layer.merge_mode).lower()}",
        return_sequences=bool(config.get("return_sequences")), return_state=bool(config.get("return_state")),
        go_backwards=bool(config.get("go_backwards")), stateful=bool(config.get("stateful")),
        time_major=time_major, unroll=bool(config.get("unroll")),
        mask="none" if mask is None else "given", initial_state=states is not None,
        batch=x.shape[1 if time_major else 0],
        activation=config.get("activation"), recurrent_activation=config.get("recurrent_activation"),
        layer_dtype=str(getattr(inner, "compute_dtype", "")), stacked_dtype=stacked_dtype,
        stacked_kinds=stacked_kinds)
    if layer_id.startswith("conv_lstm"):  # the ConvLstmCase fields the ConvLSTM entries read
        import numpy as np

        vars(view).update(
            rank=int(layer_id[len("conv_lstm")]),
            data_format="cf" if config.get("data_format") == "channels_first" else "cl",
            strides="s1" if np.max(config.get("strides", 1)) == 1 else "s2",
            dilation="d1" if np.max(config.get("dilation_rate", 1)) == 1 else "d2",
            masks=None if mask is None else [np.asarray(mask, bool)])
    return view
