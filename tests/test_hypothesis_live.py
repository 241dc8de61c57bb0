"""Property-based search against the live frameworks: hypothesis draws a configuration (layer,
wrapper and merge mode, the 4 flags, activations of the target's dialect, use_bias, reset_after), a
shape (batch 1-4, T 1-12, features 1-5, units 1-6), arbitrary boolean masks, initial states and a
dtype; the live layer gets seeded weights, the reference is copied from it with `from_keras`, both
run the same plan (for stateful layers: two batches, a reset, a third batch) and
`compare_outputs` must find nothing.

Profiles (RNNPARITY_HYPOTHESIS_PROFILE): `ci` (default) is derandomized, 60 examples per target;
`deep` is 2000 random examples per target. Known framework bugs are recognised through the
registry in `rnnparity.check.divergences` (the exact registered conditions, then `reject()`), nothing else.
"""
from __future__ import annotations

import os
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

from rnnparity.targets import registry
from rnnparity.check import runner
from rnnparity.plan import Call, LayerSpec, Plan, Reset
from rnnparity.check.divergences import activation_divergence, divergence_for
from rnnparity.reference import activations

settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("RNNPARITY_HYPOTHESIS_PROFILE", "ci")

TARGETS = ("keras3", "tf_keras")
DIALECT = {"keras3": "keras3", "tf_keras": "keras2"}
MERGE_MODES = ("concat", "sum", "mul", "ave", None)
# The search stays where the tolerance table is meaningful: gates (recurrent_activation) map into
# [-1, 1], so the recurrence is contractive; an unbounded gate (relu, exponential...) makes h grow
# geometrically (seen: 7.8e3 after 7 steps, float32) and one-ULP differences grow with it past any
# fixed tolerance. Every built-in name is checked as a gate, in float64, by the activation sweep
# (suite/test_activations.py). Cell activations: in float32 those that grow at most linearly; in
# float64 every modelled name except exponential (seen: 7.5e235 after 3 steps).
GATE_ACTIVATIONS = {"keras2": ("sigmoid", "hard_sigmoid", "tanh", "softsign", "softmax"),
                    "keras3": ("sigmoid", "hard_sigmoid", "tanh", "softsign", "softmax", "hard_tanh",
                               "sparse_sigmoid", "sparsemax")}
F32_ACTIVATIONS = ("tanh", "sigmoid", "hard_sigmoid", "relu", "linear", "elu", "softsign", "softplus",
                   "swish", "gelu", "mish", "selu")


def _activation_names(dialect, dtype):
    if dtype == "float32":
        return F32_ACTIVATIONS
    return tuple(n for n in activations.names(dialect)
                 if n not in activations.UNUSABLE[dialect] and n != "exponential")


@st.composite
def configurations(draw, target):
    dialect = DIALECT[target]
    dtype = draw(st.sampled_from(("float32", "float64")))
    layer = draw(st.sampled_from(("SimpleRNN", "LSTM", "GRU")))
    names = _activation_names(dialect, dtype)
    config = {"units": draw(st.integers(1, 6)), "dtype": dtype,
              "use_bias": draw(st.booleans())}
    for flag in ("return_sequences", "return_state", "go_backwards", "stateful"):
        config[flag] = draw(st.booleans())
    if draw(st.booleans()):
        config["activation"] = draw(st.sampled_from(names))
    if layer != "SimpleRNN" and draw(st.booleans()):
        config["recurrent_activation"] = draw(st.sampled_from(GATE_ACTIVATIONS[dialect]))
    if layer == "GRU":
        config["reset_after"] = draw(st.booleans())
    wrapped = draw(st.booleans())
    wrapper = {"merge_mode": draw(st.sampled_from(MERGE_MODES))} if wrapped else None
    spec = LayerSpec(layer, config, wrapper=wrapper)

    batch, steps, features = draw(st.integers(1, 4)), draw(st.integers(1, 12)), draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.RandomState(seed)
    n_states = (2 if layer == "LSTM" else 1) * (2 if wrapped else 1)
    use_mask = draw(st.booleans())

    def batch_call(label, initial=False):
        x = rng.normal(size=(batch, steps, features)).astype(dtype)
        mask = None
        if use_mask:  # arbitrary patterns: holes, fully masked rows, masked first/last steps
            mask = np.array(draw(st.lists(st.booleans(), min_size=batch * steps, max_size=batch * steps)),
                            bool).reshape(batch, steps)
        init = None
        if initial:
            init = [rng.uniform(-0.8, 0.8, size=(batch, config["units"])).astype(dtype)
                    for _ in range(n_states)]
        return Call(x, mask, init, label)

    initial = draw(st.booleans())
    if config["stateful"]:
        plan = Plan([batch_call("batch 1", initial), batch_call("batch 2 (state carried)"), Reset(),
                     batch_call("batch 3 (after reset)")])
    else:
        plan = Plan([batch_call("call", initial)])
    return spec, plan, seed, (batch, steps, features), use_mask


def _as_case(target, spec, use_mask):
    """The Case fields the divergence registry reads, for a drawn configuration."""
    c = spec.config
    wrapper = spec.wrapper
    return types.SimpleNamespace(
        target=target, layer=spec.cls,
        wrapper="none" if wrapper is None else f"bidi_{str(wrapper['merge_mode']).lower()}",
        return_sequences=c["return_sequences"], return_state=c["return_state"],
        go_backwards=c["go_backwards"], stateful=c["stateful"], time_major=False, unroll=False,
        mask="holes" if use_mask else "none", initial_state=False)


def _known_bug(target, spec, use_mask):
    known = divergence_for(_as_case(target, spec, use_mask))
    if known is not None:
        return known
    for option in ("activation", "recurrent_activation"):
        name = spec.config.get(option)
        if name and activation_divergence(target, name):
            return activation_divergence(target, name)
    return None


RUN = {}  # target -> {"checked": n, "rejected": n}, for the summary line and the vacuity check


def _check(target, drawn):
    spec, plan, seed, input_shape, use_mask = drawn
    known = _known_bug(target, spec, use_mask)
    counts = RUN.setdefault(target, {"checked": 0, "rejected": 0})
    if known is not None:
        counts["rejected"] += 1
        note(f"known framework bug {known.key}: rejected")
        reject()
    counts["checked"] += 1
    shape = (input_shape[0] if spec.config["stateful"] else None, None, input_shape[2])
    case_id = f"hypothesis-{spec.cls}-{target}-seed{seed}"
    note(f"spec={spec!r} input_shape={input_shape} mask={'yes' if use_mask else 'no'}")
    _, problems = runner.check_spec_live(target, spec, plan, seed, case_id, shape)
    assert not problems, runner.failure_report(case_id, problems)


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_reference_matches_framework(target):
    ok, reason = registry.availability(target)
    if not ok:
        pytest.skip(reason)

    @settings(settings.get_profile(PROFILE))
    @given(drawn=configurations(target))
    def search(drawn):
        _check(target, drawn)

    RUN.pop(target, None)
    search()
    counts = RUN.get(target, {"checked": 0, "rejected": 0})
    print(f"\n[hypothesis {PROFILE}] {target}: {counts['checked']} examples compared, "
          f"{counts['rejected']} rejected as known framework bugs")
    # not vacuous: most drawn configurations were really compared
    minimum = settings.get_profile(PROFILE).max_examples // 2
    assert counts["checked"] >= minimum, counts
