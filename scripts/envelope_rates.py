"""Measure the rounding envelope's false-fail and false-pass rates (check/envelope.py, envelope_verdict.py).

(a) False failures on honest runs: seeded random configurations outside the grid (unbounded
    activations elu/relu/linear/selu/swish, weights uniform(-s, s) with s in 0.3-1.6, T up to 60,
    SimpleRNN, LSTM, GRU with reset_after both, Bidirectional with every merge mode, stacked cells,
    masks, initial states, stateful plans with a reset; float32 and float64) run on the live Keras 3
    and tf_keras layers: the framework is the oracle, every verdict but `pass` and `ill-conditioned`
    is a false failure.
(b) False passes on planted rounding-sized bugs (tests/envelope_bugs.py) applied to a copy of the
    reference, whose outputs play the framework: every `pass` of a bug that changes the outputs is a
    false pass.
For each case the worst ratio |framework - centre| / envelope over the decidable elements is kept, so
the rates are printed for several K (and THETA, RUNS) at once.

    PYTHONPATH=src TF_CPP_MIN_LOG_LEVEL=2 python scripts/envelope_rates.py --configs 150
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter, defaultdict

import numpy as np

import rnnparity as rp
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from rnnparity.check.compare import compare_outputs  # noqa: E402
from rnnparity.check.envelope import rounding_envelope, run_plan  # noqa: E402
from rnnparity.check.envelope_verdict import FAIL, ILL, K, PASS, computed_in, judge_envelope  # noqa: E402
from rnnparity.keras_to_reference import from_keras, from_spec  # noqa: E402
from rnnparity.check import runner  # noqa: E402
from rnnparity.matrix.data import make_mask  # noqa: E402
from rnnparity.plan import Call, Plan, Reset, seeded_weights  # noqa: E402
from tests.envelope_bugs import BUGS  # noqa: E402

ACTIVATIONS = ("elu", "relu", "linear", "selu", "swish", "tanh")
GATES = ("sigmoid", "hard_sigmoid", "softsign")
KINDS = ("SimpleRNN", "LSTM", "GRU", "GRU_before", "bidi", "stacked")
MERGES = ("concat", "sum", "mul", "ave", None)
KS = (2, 4, 8, 16, 32, 64)
THETAS = (1e-3, 1e-2, 1e-1)
RUN_COUNTS = (8, 16)


# -- random configurations outside the grid --------------------------------------------------------
def _cell(rng, kind, units, dtype):
    act = str(rng.choice(ACTIVATIONS))
    if kind == "SimpleRNN":
        return "SimpleRNNCell", {"units": units, "activation": act, "dtype": dtype}
    config = {"units": units, "activation": act, "recurrent_activation": str(rng.choice(GATES)),
              "dtype": dtype}
    if kind.startswith("GRU"):
        config["reset_after"] = kind == "GRU"
        return "GRUCell", config
    return "LSTMCell", config


def random_config(i):
    rng = np.random.RandomState(1000 + i)
    kind = str(rng.choice(KINDS))
    dtype = str(rng.choice(("float32", "float64")))
    units, features, batch = int(rng.randint(2, 9)), int(rng.randint(2, 6)), int(rng.randint(1, 4))
    steps = int(rng.randint(2, 61))
    flags = {"return_sequences": bool(rng.rand() < 0.8), "return_state": bool(rng.rand() < 0.5),
             "go_backwards": bool(rng.rand() < 0.25) and kind != "bidi",
             "stateful": bool(rng.rand() < 0.2)}
    wrapper, n_states = None, []
    if kind == "stacked":
        cells = [_cell(rng, str(rng.choice(KINDS[:4])), units if k else int(rng.randint(2, 9)), dtype)
                 for k in range(2)]
        spec = {"class": "RNN", "config": {**flags, "dtype": dtype}, "stacked": True,
                "cells": [{"class": c, "config": cfg} for c, cfg in cells]}
        n_states = [(2 if c == "LSTMCell" else 1, cfg["units"]) for c, cfg in cells]
    else:
        inner = str(rng.choice(KINDS[:4])) if kind == "bidi" else kind
        cls, cfg = _cell(rng, inner, units, dtype)
        spec = {"class": cls[:-4], "config": {**cfg, **flags}}
        n_states = [(2 if cls == "LSTMCell" else 1, units)]
        if kind == "bidi":
            wrapper = {"merge_mode": MERGES[rng.randint(len(MERGES))], "dtype": dtype}
    spec["wrapper"] = wrapper
    scale = float(rng.uniform(0.3, 1.6))
    mask_kind = str(rng.choice(("none", "none", "right", "holes")))

    def states():
        groups = [[rng.uniform(-1, 1, (batch, u)).astype(dtype) for _ in range(n)] for n, u in n_states]
        flat = groups if kind == "stacked" else groups[0]
        return flat + flat if wrapper is not None else flat

    def call(label, with_state):
        x = rng.normal(size=(batch, steps, features)).astype(dtype)
        return Call(x, make_mask(mask_kind, batch, steps, rng), states() if with_state else None, label)

    first = call("call", rng.rand() < 0.4 and not flags["stateful"])
    plan = Plan([first])
    if flags["stateful"]:
        plan.steps += [call("batch 2 (state carried)", False), Reset(), call("batch 3 (after reset)", False)]
    name = f"{i}-{kind}-{dtype}-T{steps}-s{scale:.2f}"
    return name, spec, plan, scale, kind, dtype


def scaled(scale, seed):
    return lambda shapes: [w * (scale / 0.6) for w in seeded_weights(shapes, seed, "float64")]


# -- (a) honest runs -------------------------------------------------------------------------------
def honest(target, i):
    """(record of the verdicts) for one configuration on a live framework, or None when the
    framework rejected it."""
    name, spec, plan, scale, kind, dtype = random_config(i)
    kept = {}

    def copy_reference(layer):
        kept["ref"] = from_keras(layer)
    rec = runner.record_spec(target, spec, plan, i, name, plan.calls[0].x.shape,
                             on_built=copy_reference, weights=scaled(scale, i))
    if rec.outcome.error is not None:
        return {"name": name, "rejected": f"{rec.outcome.error[1]}: {rec.outcome.error[2][:80]}"}
    plain = any(compare_outputs(e, a, steps=c.x.shape[1], precision=dtype)
                for e, a, c in zip(rec.outcome.outputs, run_plan(_fresh(kept["ref"]), plan), plan.calls))
    record = {"name": name, "target": target, "kind": kind, "dtype": dtype, "plain_fail": plain,
              **verdicts(kept["ref"], plan, rec.outcome.outputs)}
    # a float64 case outside the envelope: is the framework's result a valid float32 computation
    # (or one that float32 cannot decide)?
    record["float32_inside"] = dtype == "float64" and status_at(record, K) == FAIL and \
        computed_in("float32", kept["ref"], plan, rec.outcome.outputs).status in (PASS, ILL)
    return record


def _fresh(ref):
    import copy
    return copy.deepcopy(ref)


def envelopes(ref, plan):
    """{runs: envelope} for every RUN_COUNTS, and the ms of the default (N=16) one."""
    envs, ms = {}, None
    for runs in RUN_COUNTS:
        t = time.perf_counter()
        envs[runs] = rounding_envelope(ref, plan, runs=runs)
        if runs == 16:
            ms = 1000 * (time.perf_counter() - t)
    return envs, ms


def verdicts(ref, plan, outputs, envs=None):
    """Worst ratio and undecidability for every (runs, theta), and the ms of the default envelope."""
    envs, ms = envelopes(ref, plan) if envs is None else (envs, None)
    out = {"ms": ms}
    for runs, env in envs.items():
        for theta in THETAS:
            v = judge_envelope(env, outputs, k=np.inf, theta=theta)
            # the worst ratio over the decidable elements the tolerance table rejects
            out[(runs, theta)] = (v.worst_ratio, v.status == ILL)
    # the stricter measure: every element judged by the envelope, the table ignored
    out["every element"] = judge_envelope(envs[16], outputs, k=np.inf, table=False).worst_ratio
    return out


def status_at(record, k, runs=16, theta=1e-2):
    ratio, ill = record[(runs, theta)]
    return FAIL if ratio > k else ILL if ill else PASS


# -- (b) planted bugs --------------------------------------------------------------------------------
def planted(i):
    name, spec, plan, scale, kind, dtype = random_config(i)
    ref = from_spec(spec, "keras3")
    try:
        shapes = [w.shape for w in _weight_shapes(ref, plan.calls[0].x.shape[-1])]
        ref.set_weights(scaled(scale, i)(shapes))
        clean = run_plan(_fresh(ref), plan)
    except Exception as exc:  # noqa: BLE001 - a configuration the reference refuses
        return [{"name": name, "rejected": str(exc)[:80]}]
    rows, envs = [], envelopes(ref, plan)[0]
    for bug, mutate in BUGS.items():
        buggy = run_plan(mutate(ref), plan)
        same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(_flat(clean), _flat(buggy)))
        plain = any(compare_outputs(a, b, steps=c.x.shape[1], precision=dtype)
                    for a, b, c in zip(buggy, clean, plan.calls))
        row = {"name": name, "kind": kind, "dtype": dtype, "bug": bug, "no_effect": same,
               "plain_fail": plain}
        if not same:
            row.update(verdicts(ref, plan, buggy, envs))
        rows.append(row)
    return rows


def _flat(outputs):
    from rnnparity.check.envelope import flatten
    return [a for out in outputs for _, a in flatten(out)]


def _weight_shapes(ref, features):
    """The weight arrays' shapes (zeros of them) for a reference on inputs of ``features``."""
    from rnnparity.check.mca import cells_of, layers_of
    arrays = []
    for layer in layers_of(ref):
        inputs = features
        for cell in cells_of(layer):
            for _, shape in cell.weight_specs(inputs):
                arrays.append(np.zeros(shape))
            inputs = cell.units
    return arrays


# -- printing ----------------------------------------------------------------------------------------
def table(records, title, bad, rows=((16, 1e-2),)):
    """Counts of ``bad`` / ill-conditioned verdicts for each K, for each (RUNS, THETA) of ``rows``."""
    n = len(records)
    print(f"{title}: {n} cases" + ("" if n else ", none"))
    if not n:
        return
    print("    K:              " + "".join(f"{k:>9}" for k in KS) + f"    ({bad} / ill-conditioned)")
    for runs, theta in rows:
        counts = [sum(status_at(r, k, runs, theta) == bad for r in records) for k in KS]
        ill = [sum(status_at(r, k, runs, theta) == ILL for r in records) for k in KS]
        print(f"    N={runs:<2} THETA={theta:<6g}" + "".join(f"{c:>6}/{q:<2}" for c, q in zip(counts, ill)))


ALL_ROWS = tuple((16, t) for t in THETAS) + ((8, 1e-2),)


# -- cost ---------------------------------------------------------------------------------------------
def cost(repeats=5):
    """ms of one envelope for typical grid cases (units 4, batch 2), against one reference run."""
    print("\ncost of the envelope (median of %d), units 4, batch 2, one call:" % repeats)
    layers = {"SimpleRNN": lambda d: rp.SimpleRNN(4, return_sequences=True, dtype=d),
              "LSTM": lambda d: rp.LSTM(4, return_sequences=True, return_state=True, dtype=d),
              "GRU": lambda d: rp.GRU(4, return_sequences=True, dtype=d),
              "Bidirectional(LSTM)": lambda d: rp.Bidirectional(
                  rp.LSTM(4, return_sequences=True, dtype=d), dtype=d),
              "RNN([GRUCell, LSTMCell])": lambda d: rp.RNN([rp.GRUCell(4, dtype=d), rp.LSTMCell(4, dtype=d)],
                                                           return_sequences=True, return_state=True, dtype=d)}
    print(f"    {'layer':<26}{'dtype':<9}{'T':>4}{'1 run':>9}" + "".join(f"{f'N={n}':>9}" for n in RUN_COUNTS))
    for name, make in layers.items():
        for dtype in ("float32", "float64"):
            for steps in (5, 10, 20):
                ref = make(dtype)
                ref.set_weights(seeded_weights([w.shape for w in _weight_shapes(ref, 3)], 0, dtype))
                plan = Plan([Call(np.random.RandomState(0).normal(size=(2, steps, 3)).astype(dtype))])
                row = [_median_ms(lambda: run_plan(_fresh(ref), plan), repeats)]
                row += [_median_ms(lambda: rounding_envelope(ref, plan, runs=n), repeats) for n in RUN_COUNTS]
                print(f"    {name:<26}{dtype:<9}{steps:>4}" + "".join(f"{ms:>7.1f}ms" for ms in row))


def _median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return sorted(times)[len(times) // 2]


# -- the examples of issue 21 --------------------------------------------------------------------------
def examples():
    """The verdicts on the issue's examples, live (the framework is the oracle)."""
    import tf_keras

    from rnnparity.targets.keras_adapter import to_numpy

    def live(layers, make, x, scale, seed, warm=None, states=None):
        layer = make(layers)
        layer.build(x.shape)
        layer.set_weights([w * scale for w in seeded_weights([w.shape for w in layer.get_weights()],
                                                               seed, "float64")])
        cold = make(layers)  # the same layer, never called: what a reset layer computes
        cold.build(x.shape)
        cold.set_weights(layer.get_weights())
        if warm is not None:
            layer(warm)
        out = layer(x) if states is None else layer(x, initial_state=states)
        return from_keras(cold), Plan([Call(x, None, states)]), [to_numpy(out)]

    def x(shape, dtype="float32", seed=0):
        return np.random.RandomState(seed).normal(size=shape).astype(dtype)

    cases = {
        "LSTM(activation='linear', recurrent_activation='softsign') float32, T=50, outputs ~1e11":
            (lambda L: L.LSTM(4, activation="linear", recurrent_activation="softsign",
                              return_sequences=True), x((2, 50, 3), seed=5), 1.4 / 0.6, 5, None),
        "GRU(reset_after=False, activation='elu') float64, T=31, values ~8e4":
            (lambda L: L.GRU(4, activation="elu", reset_after=False, return_sequences=True,
                             dtype="float64"), x((2, 31, 3), "float64"), 2.7 / 0.6, 0, None),
        "warm stateful Bidirectional(LSTM) never reset (the 0.40 false pass)":
            (lambda L: L.Bidirectional(L.LSTM(4, return_sequences=True, stateful=True)),
             x((2, 10, 3)), 1.0, 0, x((2, 10, 3), seed=1)),
        "chaotic SimpleRNN(16), weights x3, T=150":
            (lambda L: L.SimpleRNN(16, return_sequences=True, return_state=True), x((2, 150, 4)), 3.0, 0,
             None),
        "SimpleRNN(activation='linear') overflowing on both sides, T=60":
            (lambda L: L.SimpleRNN(4, activation="linear", return_sequences=True), x((1, 60, 3)), 6.0, 0,
             None),
        "tf_keras RNN([GRUCell(4), LSTMCell(4)], return_state=True, unroll=True) float32, nested states":
            (lambda L: L.RNN([L.GRUCell(4), L.LSTMCell(4)], return_sequences=True, return_state=True,
                             unroll=True), x((2, 12, 3)), 2.0, 0, None),
        "RNN([GRUCell, LSTMCell]) float64 (the stacked-cells surprise)":
            (lambda L: L.RNN([L.GRUCell(4, dtype="float64"), L.LSTMCell(4, dtype="float64")],
                             return_sequences=True, dtype="float64"), x((2, 12, 3), "float64"), 1.0, 0, None),
    }
    for title, (make, xs, scale, seed, warm) in cases.items():
        ref, plan, out = live(tf_keras.layers, make, xs, scale, seed, warm)
        plain = compare_outputs(out[0], run_plan(_fresh(ref), plan)[0], steps=xs.shape[1],
                                precision=xs.dtype.name)
        verdict = judge_envelope(rounding_envelope(ref, plan), out)
        print(f"\n## {title} (tf_keras): tolerance table {'fails' if plain else 'passes'}")
        print(verdict.report())
        if not plain:
            alone = judge_envelope(rounding_envelope(ref, plan), out, table=False)
            print(f"every element judged by the envelope alone (table=False): {alone.status}, "
                  f"worst {alone.worst_ratio:.2g} x the envelope")
        if verdict.status == FAIL and xs.dtype == np.float64:
            print("float32 hypothesis: " + computed_in("float32", ref, plan, out).report())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=150)
    parser.add_argument("--targets", default="keras3,tf_keras")
    parser.add_argument("--skip-honest", action="store_true")
    parser.add_argument("--skip-bugs", action="store_true")
    parser.add_argument("--cost", action="store_true", help="only measure the cost of the envelope")
    parser.add_argument("--examples", action="store_true", help="only the verdicts on the issue's examples")
    args = parser.parse_args()
    if args.cost:
        return cost()
    if args.examples:
        return examples()
    if not args.skip_honest:
        for target in args.targets.split(","):
            records, rejected, t0 = [], Counter(), time.time()
            for i in range(args.configs):
                r = honest(target, i)
                if "rejected" in r:
                    rejected[r["rejected"][:60]] += 1
                    continue
                records.append(r)
                if status_at(r, K) == FAIL:
                    why = " (a valid float32 computation)" if r["float32_inside"] else ""
                    print(f"  [{target}] FAIL at K={K:g}: {r['name']} ratio {r[(16, 1e-2)][0]:.3g}{why}")
                elif status_at(r, K) == ILL:
                    print(f"  [{target}] ill-conditioned: {r['name']}")
                elif r[(16, 1e-2)][0] > 4:
                    print(f"  [{target}] pass, worst ratio {r[(16, 1e-2)][0]:.3g}: {r['name']}")
            print(f"\n== {target}: {len(records)} run, {sum(rejected.values())} rejected by the "
                  f"framework ({time.time() - t0:.0f} s)")
            for reason, c in rejected.most_common(5):
                print(f"   rejected x{c}: {reason}")
            explained = [r for r in records if r["float32_inside"]]
            print(f"  {len(explained)} float64 cases fail because the framework computed them in float32 "
                  f"(their outputs pass, or are ill-conditioned in, the envelope of a float32 computation): "
                  f"{dict(Counter(r['kind'] for r in explained))}; left out of the rates below")
            records = [r for r in records if not r["float32_inside"]]
            table(records, f"(a) honest {target}: false failures", FAIL, ALL_ROWS)
            table([r for r in records if r["plain_fail"]],
                  f"(a) honest {target}, only the cases failing the tolerance table", FAIL, ALL_ROWS)
            ratios = sorted(r[(16, 1e-2)][0] for r in records)
            print(f"  worst ratio per case (N=16, THETA=1e-2): median {ratios[len(ratios) // 2]:.2g}, "
                  f"99th percentile {ratios[int(0.99 * (len(ratios) - 1))]:.2g}, max {ratios[-1]:.2g}")
            every = sorted(r["every element"] for r in records)
            print(f"  the same with every element judged (table=False): median {every[len(every) // 2]:.2g}, "
                  f"99th percentile {every[int(0.99 * (len(every) - 1))]:.2g}, max {every[-1]:.2g}; "
                  f"cases above K: {sum(e > K for e in every)}")
            by_kind = defaultdict(list)
            for r in records:
                by_kind[(r["kind"], r["dtype"])].append(status_at(r, K))
            print(f"  verdicts at K={K:g} by kind: " + "; ".join(
                f"{k[0]} {k[1]}: {dict(Counter(v))}" for k, v in sorted(by_kind.items())))
            ms = sorted(r["ms"] for r in records)
            print(f"  envelope cost (N=16): median {ms[len(ms) // 2]:.0f} ms, max {ms[-1]:.0f} ms")
    if not args.skip_bugs:
        rows = [row for i in range(args.configs) for row in planted(i)]
        live = [r for r in rows if "rejected" not in r and not r["no_effect"]]
        print(f"\n(b) planted bugs: {len(live)} bug x config pairs change the outputs "
              f"({sum(1 for r in rows if r.get('no_effect'))} have no effect)")
        table(live, "(b) all planted bugs: false passes", PASS, ALL_ROWS)
        table([r for r in live if r["plain_fail"]],
              "(b) all planted bugs, only those failing the tolerance table (they reach the verdict)",
              PASS, ALL_ROWS)
        for bug in BUGS:
            for dtype in ("float32", "float64"):
                rows_ = [r for r in live if r["bug"] == bug and r["dtype"] == dtype]
                table(rows_, f"(b) {bug} [{dtype}]: false passes", PASS)
                table([r for r in rows_ if r["plain_fail"]], "      of which failing the table", PASS)


if __name__ == "__main__":
    main()
