"""rp.diagnose names the ConvLSTM porting mistakes behind a port's outputs.

As in test_diagnose.py, the oracle is the framework: each scenario builds a live ConvLSTM layer
(Keras 3 or tf_keras), a correct port agrees with its outputs, and the port's outputs come from the
reference with one mistake applied; they must differ from the framework's, and rp.diagnose must
name that mistake first. Every ConvLSTM catalogue entry has a scenario here.

Shapes are tiny (spatial 4x5, 2 filters, T 3): the file runs in seconds."""
from __future__ import annotations

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.check import conv_lstm_mistakes, mistakes
from rnnparity.check.compare import as_list
from rnnparity.check.diagnose import AGREES, EXPLAINED, UNEXPLAINED, diagnose_plan, run
from rnnparity.keras_to_reference import from_keras
from rnnparity.plan import Call
from rnnparity.targets import registry
from tests.saturation import needs

pytestmark = pytest.mark.live
B, T, CHANNELS, FILTERS = 2, 3, 2, 2  # channels == filters: the two kernels can be swapped
SEQ_STATE = {"return_sequences": True, "return_state": True, "padding": "same", "kernel_size": (3, 2)}

# mistake name -> (target, config changes, options): options: rank (default 2), spatial, init,
# wrapper (Bidirectional merge mode)
SCENARIOS = {
    "conv_kernel_flipped": ("keras3", {}, {}),
    "conv_same_padding_extra_at_start": ("tf_keras", {}, {}),
    "conv_recurrent_padding_valid": ("keras3", {}, {}),
    "conv_recurrent_strided": ("tf_keras", {"strides": 2}, {}),
    "conv_recurrent_dilated": ("keras3", {"dilation_rate": (2, 1)}, {}),
    "conv_outputs_in_other_data_format": ("tf_keras", {"data_format": "channels_first"}, {}),
    "conv_states_in_other_data_format": ("keras3", {}, {}),
    "conv_states_spatially_transposed": ("tf_keras", {}, {}),
    "conv_initial_state_spatially_transposed": ("keras3", {}, {"init": True, "spatial": (4, 4)}),
}
for _k, _m in enumerate(conv_lstm_mistakes.GATE_ORDERS):  # both frameworks, ranks 1-3 in turn
    SCENARIOS[_m.name] = ("keras3" if _k % 2 else "tf_keras", {}, {"rank": (2, 1, 3)[_k % 3]})

# general mistakes (mistakes.py) that a ConvLSTM port makes as well: named on a ConvLSTM too
GENERAL = {
    "kernel_and_recurrent_kernel_swapped": ("keras3", {}, {}),
    "bias_ignored": ("tf_keras", {}, {}),
    "go_backwards_ignored": ("keras3", {"go_backwards": True}, {}),
    "initial_state_ignored": ("tf_keras", {}, {"init": True}),
    "bidi_state_order_swapped": ("keras3", {}, {"wrapper": "concat"}),
}


def _live(target, changes, options):
    needs(target)
    rank = options.get("rank", 2)
    config = {**SEQ_STATE, "filters": FILTERS, **changes}
    config["kernel_size"] = {1: (2,), 2: config["kernel_size"], 3: (2, 3, 1)}[rank]
    for key in ("strides", "dilation_rate"):
        if isinstance(config.get(key), tuple) and len(config[key]) != rank:
            config[key] = config[key][:1] * rank
    spatial = options.get("spatial", {1: (5,), 2: (4, 5), 3: (3, 4, 5)}[rank])
    first = config.get("data_format") == "channels_first"
    shape = (B, T, CHANNELS, *spatial) if first else (B, T, *spatial, CHANNELS)
    spec = {"class": f"ConvLSTM{rank}D", "config": config,
            "wrapper": {"merge_mode": options["wrapper"]} if "wrapper" in options else None}
    layer = registry.get(target).build(spec, shape)
    rng = np.random.default_rng(sum(map(ord, target)) + rank)
    layer.set_weights([rng.uniform(-0.6, 0.6, np.shape(w)).astype("float32") for w in layer.get_weights()])
    x = rng.standard_normal(shape).astype("float32")
    init = None
    if options.get("init"):
        step = rp.explain({"class": spec["class"], "config": {**config, "return_sequences": False}},
                          shape).outputs[0].shape
        init = [rng.uniform(-1, 1, step).astype("float32") for _ in range(2)]
    return layer, x, init


def _keras(target, layer, x, init):
    return [[np.asarray(a) for a in as_list(registry.get(target).call(layer, x, None, init))]]


def test_every_conv_lstm_mistake_has_a_scenario():
    assert sorted(SCENARIOS) == sorted(conv_lstm_mistakes.BY_NAME)
    assert not set(conv_lstm_mistakes.BY_NAME) & set(mistakes.BY_NAME)  # one catalogue's names


@pytest.mark.parametrize("name", sorted(SCENARIOS) + sorted(GENERAL))
def test_conv_lstm_mistake_is_named(name):
    target, changes, options = SCENARIOS.get(name) or GENERAL[name]
    layer, x, init = _live(target, changes, options)
    reference = from_keras(layer)
    steps = [Call(x, None, init, "batch 1")]
    keras = _keras(target, layer, x, init)
    assert diagnose_plan(reference, steps, keras).verdict == AGREES  # the reference is a correct port
    mistake = conv_lstm_mistakes.BY_NAME.get(name) or mistakes.get(name)
    port = run(reference, steps, mistake)
    assert diagnose_plan(reference, steps, port, keras=keras, pairs=False).verdict != AGREES, \
        f"{name} has no effect on its scenario: the test would prove nothing"
    diagnosis = rp.diagnose(layer, x, port[0], initial_state=init)
    assert diagnosis.verdict == EXPLAINED, str(diagnosis)
    assert diagnosis.names[0] == name, str(diagnosis)
    assert mistake.says in str(diagnosis)


@pytest.mark.parametrize("target,rank", [("keras3", 3), ("tf_keras", 1)])
def test_correct_conv_lstm_port_agrees_and_noise_is_not_a_mistake(target, rank):
    layer, x, _ = _live(target, {}, {"rank": rank})
    keras = _keras(target, layer, x, None)[0]
    assert rp.diagnose(layer, x, keras).verdict == AGREES
    if rank == 3:
        return  # the noise search (every pair of mistakes) once, on the cheaper 1-D layer
    rng = np.random.default_rng(3)
    noisy = [a + rng.normal(scale=0.05, size=a.shape).astype(a.dtype) for a in keras]
    diagnosis = rp.diagnose(layer, x, noisy)
    assert diagnosis.verdict == UNEXPLAINED and not diagnosis.findings, str(diagnosis)
    assert "first divergence from Keras: output [0]" in diagnosis.divergence
    assert "timestep t=0, batch 0, position (" in diagnosis.divergence, diagnosis.divergence


def test_conv_lstm_x_of_the_wrong_rank_is_refused():
    ref = rp.ConvLSTM2D(2, 3, padding="same")
    rng = np.random.default_rng(0)
    ref.set_weights([rng.uniform(-0.5, 0.5, s).astype("float32")
                     for s in [(3, 3, 1, 8), (3, 3, 2, 8), (8,)]])
    x = rng.standard_normal((1, 2, 4, 4, 1)).astype("float32")
    assert rp.diagnose(ref, x, ref(x)).verdict == AGREES
    with pytest.raises(ValueError, match=r"x must have rank 5 \(batch, time, \*spatial, channels\)"):
        rp.diagnose(ref, x[0], ref(x))
