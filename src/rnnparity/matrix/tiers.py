"""The tiers: `cases(tier, targets)`, the case list of a tier on some targets. The default and full
tiers are made in cases.py; the smaller grids here are made of the same cases (same ids, data, weights):

- quick: the 16 flag combinations x every layer x (no wrapper, Bidirectional concat), plus one case
  for every value of every other axis (layer, flags and wrapper rotating): a smoke gate.
- runtime: quick, plus every mask pattern x every layer, with and without initial states: the
  curated grid a converted runtime (tflite, onnx) runs in its default tier, where each case costs a
  conversion.
- runtime_quick: a converted runtime's quick tier: each of the 16 flag combinations once (layer
  rotating, plain and Bidirectional concat alternating), then one masked case with initial states per
  layer. About a second of conversion per case: 20 cases keep the smoke gate within its minute.
- default_no_stateful_t100: the default grid without its stateful T=100 cases (the full tier keeps
  them), for a target that compiles every call of a long sequence afresh: keras3-openvino, where
  a T=100 call is a graph unrolled over 100 steps (about 5,700 ops for a GRU) that OpenVINO compiles
  in 30-60 s, and a stateful case makes six calls (targets/keras3_openvino_eval.py has the figures).
  Its T=100 cases that are not stateful stay.
"""
from __future__ import annotations

import itertools

from ..targets import registry
from . import cases as m
from . import conv_lstm_cases


def _rotating(targets, overrides):
    layers, flags = list(m.LAYERS), m.flag_product()
    out = []
    for target in targets:
        for n, override in enumerate(overrides):
            layer = layers[n % len(layers)]
            if str(override.get("activation", "")).startswith("ract") and layer == "simple_rnn":
                layer = "lstm"
            case = m.with_flags(m.Case(layer=layer, target=target, **override), flags[(5 * n) % len(flags)])
            out.append(case)
    return out


def quick_cases(targets=m.TARGETS):
    core = [m.with_flags(m.Case(layer=layer, wrapper=wrapper, target=target), flags)
            for target in targets
            for layer, wrapper, flags in itertools.product(m.LAYERS, ("none", "bidi_concat"), m.flag_product())]
    others = [{"wrapper": w} for w in list(m.WRAPPERS)[2:]]
    others += [o for values in m.extra_axes().values() for o in values]
    others += [o for values in m.NEW_VALUES.values() for o in values]
    return m.unique(c for c in core + _rotating(targets, others) if m.fits(c))


def runtime_cases(targets=m.TARGETS):
    layers, flags = list(m.LAYERS), m.flag_product()
    masks = []
    for target in targets:
        for n, (layer, mask, init) in enumerate(itertools.product(layers, m.MASKS[1:], (False, True))):
            wrapper = ("none", "bidi_concat")[n % 2]
            masks.append(m.with_flags(m.Case(layer=layer, wrapper=wrapper, mask=mask, initial_state=init,
                                              target=target), flags[(3 * n + 1) % len(flags)]))
    return m.unique([*quick_cases(targets), *masks])


def default_no_stateful_t100_cases(targets=m.TARGETS):
    return [c for c in m.default_cases(targets) if not (c.stateful and c.steps == "t100")]


def runtime_quick_cases(targets=m.TARGETS):
    layers, out = list(m.LAYERS), []
    for target in targets:
        for n, flags in enumerate(m.flag_product()):
            out.append(m.with_flags(m.Case(layer=layers[n % len(layers)], wrapper=("none", "bidi_concat")[n // 4 % 2],
                                            target=target), flags))
        for n, layer in enumerate(layers):
            out.append(m.Case(layer=layer, mask=m.MASKS[1 + n % (len(m.MASKS) - 1)], initial_state=True,
                              return_sequences=True, target=target))
    return m.unique(c for c in out if m.fits(c))


TIERS = ("quick", "default", "full")


def cases(tier="default", targets=m.TARGETS):
    """The cases of a tier on the targets. A target may run a smaller grid in the default tier
    (registry: TargetInfo.default_tier, e.g. "runtime" for a converted runtime)."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}: expected one of {', '.join(TIERS)}")
    make = {"quick": quick_cases, "default": m.default_cases, "full": m.full_cases,
            "runtime": runtime_cases, "runtime_quick": runtime_quick_cases,
            "default_no_stateful_t100": default_no_stateful_t100_cases}

    def own(target):
        runtime = registry.info(target).default_tier == "runtime"
        return {"default": registry.info(target).default_tier,
                "quick": "runtime_quick" if runtime else "quick"}.get(tier, tier)

    out = []  # consecutive targets of the same grid are made together: the order they always had
    for grid, group in itertools.groupby(targets, own):
        out += make[grid](tuple(group))
    for grid, group in itertools.groupby(targets, own):  # then ConvLSTM's, keeping the ids above in order
        out += conv_lstm_cases.cases(grid, group)
    return out


def case_of(case_id: str):
    """The matrix case an id names, Keras (matrix/cases.py, conv_lstm_cases.py) or tf1 (matrix/tf1_cases.py)."""
    from .tf1_cases import Tf1Case

    if case_id.startswith("conv_lstm"):
        return conv_lstm_cases.ConvLstmCase.from_id(case_id)
    return Tf1Case.from_id(case_id) if case_id.startswith("tf1-") else m.case_from_id(case_id)
