"""rnnparity benchmarks: reference speed vs a tf.function-wrapped Keras 3 layer, suite speed, scaling.

Absolute times are noisy on a shared machine; every ratio below is taken within one run, with the two
sides timed alternately (round robin) and the median of the repeats kept.

    python benchmarks/bench.py                          # forward + scaling + suite (in process)
    python benchmarks/bench.py --pytest                 # also time the pytest command end to end
    python benchmarks/bench.py --section forward --json /tmp/forward.json
    python benchmarks/bench.py --section forward --section loaded   # quiet and other core busy
    python benchmarks/bench.py --tiny                   # a few seconds; what the smoke test runs

Sections
- forward: reference time / tf.function(Keras 3 layer) time, same weights and input, float32,
  return_sequences=True, for LSTM, GRU (reset_after True and False) and SimpleRNN. Also the max abs
  difference between the two outputs, so a fast but wrong reference cannot hide.
- loaded: the same ratios while a co-running process keeps one core busy (a spinning Python
  process, as the other worker of `pytest -n 2` or a shared CI runner does).
- scaling: reference LSTM (units 64) time over T x batch; time per step and per sample should be flat.
- suite: `runner.check_live` over the default tier's Keras cases in this process, split into time
  inside the framework (the adapter's build / get_weights / set_weights / call / reset) and time in the
  harness (everything else: plan, reference, comparison). The split is done by wrapping the adapter's
  methods here, not in the library.
- pytest (with --pytest): the shipped command end to end, startup included, and its cases/s.
- conv_lstm (only when asked for): ConvLSTM2D at a nowcasting and a video shape (bench_conv_lstm.py),
  quiet and then with --busy co-running busy processes.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from contextlib import contextmanager

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

import rnnparity as rp  # noqa: E402

LAYERS = {  # name -> (Keras class, extra config)
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {"reset_after": True}),
    "gru_reset_before": ("GRU", {"reset_after": False}),
    "simple_rnn": ("SimpleRNN", {}),
}
FORWARD_SHAPES = [(32, 100, 32, 64), (64, 200, 128, 256),  # (batch, time, features, units)
                  (64, 1000, 256, 512)]  # a big layer, as users' models have
BIG_WORK = 64 * 1000 * 256 * 512  # shapes at least this big are timed with fewer repeats
BLAS_ENV_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_", "BLIS_", "GOTO_", "VECLIB_")
SCALING_T = (10, 100, 1000)
SCALING_BATCH = (1, 32, 256)
PYTEST_CMDS = {  # what --pytest times end to end: the live Keras suite, and the fixture replay
    "live": [sys.executable, "-m", "pytest", "src/rnnparity/suite/test_keras.py", "-n", "2", "-q",
             "-p", "no:cacheprovider"],
    "replay": [sys.executable, "-m", "pytest", "src/rnnparity/suite/test_replay.py", "-n", "2", "-q",
               "-p", "no:cacheprovider"],
}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _round_robin(fns, repeats, min_time=0.0):
    """Time each fn `repeats` times, alternating between them; return the best (minimum) seconds of
    each: on a shared machine the minimum is the least disturbed sample (timeit's advice)."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            n, t0 = 0, time.perf_counter()
            while True:  # loop tiny workloads so one sample is not dominated by timer resolution
                fn()
                n += 1
                elapsed = time.perf_counter() - t0
                if elapsed >= min_time:
                    break
            times[k].append(elapsed / n)
    return [min(t) for t in times]


def _keras_layer(name, features, units, seed=0):
    import keras

    cls, extra = LAYERS[name]
    layer = getattr(keras.layers, cls)(units, return_sequences=True, **extra)
    layer.build((None, None, features))
    layer.set_weights(_weights([w.shape for w in layer.get_weights()], seed))
    return layer


def _weights(shapes, seed):
    """Seeded uniform(+-1/sqrt(fan_in)) kernels and small biases: a well-conditioned recurrence, so
    that float32 rounding differences stay small over 200 steps (the max |err| column)."""
    rng = np.random.RandomState(seed)
    out = []
    for shape in shapes:
        scale = 0.1 if len(shape) == 1 or shape[0] == 2 else 1 / np.sqrt(shape[0])
        out.append(rng.uniform(-scale, scale, shape).astype("float32"))
    return out


def _layers(shapes, layers, repeats, big_repeats):
    """(shape, layer name, repeats, Keras 3 layer, its reference, seeded x) for every shape x layer."""
    for batch, steps, features, units in shapes:
        n = repeats if batch * steps * features * units < BIG_WORK else min(repeats, big_repeats)
        for name in layers:
            layer = _keras_layer(name, features, units)
            x = np.random.RandomState(1).normal(size=(batch, steps, features)).astype("float32")
            yield (batch, steps, features, units), name, n, layer, rp.from_keras(layer), x


# -- forward -----------------------------------------------------------------------------------
def bench_forward(shapes, layers, repeats, big_repeats=3):
    import tensorflow as tf

    rows = []
    for shape, name, n, layer, ref, x in _layers(shapes, layers, repeats, big_repeats):
        batch, steps, features, units = shape
        x_tf = tf.constant(x)
        fn = tf.function(lambda t, layer=layer: layer(t, training=False), jit_compile=False)
        want = fn(x_tf).numpy()  # traces once
        got = ref(x)
        err = float(np.max(np.abs(got - want)))
        t_ref, t_tf = _round_robin([lambda: ref(x), lambda: fn(x_tf)], n)
        rows.append({"layer": name, "batch": batch, "time": steps, "features": features,
                     "units": units, "reference_s": t_ref, "tf_function_s": t_tf,
                     "ratio": t_ref / t_tf, "max_abs_err": err})
        print(f"  {name:17s} {str((batch, steps, features, units)):20s} ref {t_ref * 1e3:8.2f} ms  "
              f"tf.function {t_tf * 1e3:8.2f} ms  ratio {t_ref / t_tf:5.2f}  max|err| {err:.1e}",
              flush=True)
    return rows


# -- breakdown ---------------------------------------------------------------------------------
def bench_breakdown(shapes, layers, repeats, big_repeats=3):
    """Where the reference's forward time goes: its recurrent products alone (the step's
    ``h @ recurrent_kernel``, T times, into one buffer, with the threads the time loop would get),
    its input projection alone, and the rest (the elementwise step work and the loop); against the
    tf.function layer, all timed alternately in one run."""
    import tensorflow as tf

    from rnnparity.reference.threads import blas_threads_for

    rows = []
    for shape, name, n, layer, ref, x in _layers(shapes, layers, repeats, big_repeats):
        batch, steps, features, units = shape
        cell = ref.cell
        h = np.zeros((batch, units), "float32")
        kernel = cell.recurrent_kernel
        if name == "gru_reset_before":  # its step multiplies by the z, r columns, then by the h ones
            kernels = [kernel[:, :2 * units], kernel[:, 2 * units:]]  # views, as the step takes them
        else:
            kernels = [kernel]
        buffers = [np.empty((batch, k.shape[1]), "float32") for k in kernels]

        def products():
            with blas_threads_for(batch * units * kernel.shape[1]):
                for _ in range(steps):
                    for k, out in zip(kernels, buffers):
                        np.matmul(h, k, out=out)
        x_tf = tf.constant(x)
        fn = tf.function(lambda t, layer=layer: layer(t, training=False), jit_compile=False)
        fn(x_tf)
        t_ref, t_prod, t_proj, t_tf = _round_robin(
            [lambda: ref(x), products, lambda: cell.project_inputs(x), lambda: fn(x_tf)], n)
        rest = t_ref - t_prod - t_proj
        rows.append({"layer": name, "batch": batch, "time": steps, "features": features, "units": units,
                     "reference_s": t_ref, "products_s": t_prod, "projection_s": t_proj, "rest_s": rest,
                     "rest_per_step_s": rest / steps, "tf_function_s": t_tf,
                     "products_and_projection_over_tf": (t_prod + t_proj) / t_tf})
        print(f"  {name:17s} {str((batch, steps, features, units)):20s} ref {t_ref * 1e3:8.2f} ms = "
              f"products {t_prod * 1e3:.2f} + projection {t_proj * 1e3:.2f} + rest {rest * 1e3:.2f}; "
              f"tf.function {t_tf * 1e3:.2f} ms", flush=True)
    return rows


# -- loaded ------------------------------------------------------------------------------------
SPINNER = "import time\nwhile True:\n    pass\n"


@contextmanager
def co_runners(n=1):
    """``n`` processes that each keep one core busy for the duration of the block."""
    procs = [subprocess.Popen([sys.executable, "-c", SPINNER]) for _ in range(n)]
    try:
        time.sleep(0.5)  # let them get scheduled
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def bench_loaded(shapes, layers, repeats, busy=1, big_repeats=3):
    with co_runners(busy):
        return bench_forward(shapes, layers, repeats, big_repeats)


# -- scaling -----------------------------------------------------------------------------------
def bench_scaling(steps_list, batches, units, features, repeats):
    layer = rp.LSTM(units, return_sequences=True)
    n = 4 * units
    layer.set_weights(_weights(((features, n), (units, n), (n,)), 0))
    rng = np.random.RandomState(1)
    rows = []
    for steps in steps_list:
        for batch in batches:
            x = rng.normal(size=(batch, steps, features)).astype("float32")
            (t,) = _round_robin([lambda: layer(x)], repeats, min_time=0.02)
            rows.append({"time": steps, "batch": batch, "units": units, "features": features,
                         "reference_s": t})
    base = {(r["time"], r["batch"]): r["reference_s"] for r in rows}
    t0, b0 = steps_list[0], batches[0]
    for r in rows:
        # growth relative to the smallest T (same batch) and to the smallest batch (same T),
        # divided by the growth of the workload: 1.0 = linear, < 1 = better than linear
        r["vs_smallest_T"] = base[(r["time"], r["batch"])] / base[(t0, r["batch"])]
        r["per_step_vs_smallest_T"] = r["vs_smallest_T"] / (r["time"] / t0)
        r["vs_smallest_batch"] = base[(r["time"], r["batch"])] / base[(r["time"], b0)]
        r["per_sample_vs_smallest_batch"] = r["vs_smallest_batch"] / (r["batch"] / b0)
    return rows


# -- suite (in process) ------------------------------------------------------------------------
FRAMEWORK_METHODS = ("build", "get_weights", "set_weights", "call", "reset")


@contextmanager
def _framework_timer(adapters):
    """Wrap the adapters' framework-facing methods; yields a dict of seconds per method."""
    spent = {m: 0.0 for m in FRAMEWORK_METHODS}
    depth = [0]
    saved = []

    def wrap(adapter, name):
        original = getattr(adapter, name)

        def timed(*args, **kwargs):
            if depth[0]:
                return original(*args, **kwargs)
            depth[0] += 1
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t0
                depth[0] -= 1
        saved.append((adapter, name))
        setattr(adapter, name, timed)  # instance attribute shadows the method

    for adapter in adapters:
        for name in FRAMEWORK_METHODS:
            wrap(adapter, name)
    try:
        yield spent
    finally:
        for adapter, name in saved:
            delattr(adapter, name)


def bench_suite(limit=None, every=1):
    from rnnparity.matrix import tiers
    from rnnparity.targets import registry
    from rnnparity.check import runner

    all_cases = [c for c in tiers.cases("default") if registry.availability(c.target)[0]]
    picked = all_cases[::every][:limit] if limit else all_cases[::every]
    adapters = [registry.get(t) for t in sorted({c.target for c in picked})]
    for adapter in adapters:
        adapter.K  # import the framework outside the timed region (pytest startup covers it there)
    failures = 0
    with _framework_timer(adapters) as spent:
        t0 = time.perf_counter()
        for case in picked:
            _, problems = runner.check_live(case)
            failures += bool(problems)
        total = time.perf_counter() - t0
    framework = sum(spent.values())
    harness = total - framework
    row = {"cases": len(picked), "of": len(all_cases), "total_s": total, "framework_s": framework,
           "harness_s": harness, "harness_over_framework": harness / framework if framework else None,
           "cases_per_s_one_process": len(picked) / total, "failures_incl_known_xfails": failures,
           "framework_breakdown_s": spent}
    print(f"  {len(picked)} cases in {total:.1f} s: {row['cases_per_s_one_process']:.1f} cases/s in one "
          f"process; framework {framework:.1f} s, harness {harness:.1f} s "
          f"({100 * row['harness_over_framework']:.0f}% of framework)", flush=True)
    print("  framework: " + ", ".join(f"{k} {v:.1f} s" for k, v in spent.items()), flush=True)
    return row


# -- replay (in process) -----------------------------------------------------------------------
def bench_replay(root, limit=None):
    """Every recorded case under ``root`` against the reference, as suite/test_replay.py does it,
    split into loading the .npz and running reference + comparison."""
    from rnnparity import golden
    from rnnparity.check import runner
    from rnnparity.suite.test_replay import recording, reference_factory

    items = [(str(d), cid) for d in golden.recording_dirs(root) for cid in recording(str(d)).case_ids]
    items = items[:limit] if limit else items
    load = check = 0.0
    failures = 0
    for path, case_id in items:
        t0 = time.perf_counter()
        rec = recording(path).load(case_id)
        t1 = time.perf_counter()
        problems = runner.verify(rec, reference_factory(rec))  # tf1 recordings too: one path
        check += time.perf_counter() - t1
        load += t1 - t0
        failures += bool(problems)
    total = load + check
    row = {"cases": len(items), "total_s": total, "load_s": load, "reference_and_compare_s": check,
           "cases_per_s_one_process": len(items) / total if total else None,
           "failures_incl_known_xfails": failures}
    print(f"  {len(items)} cases in {total:.2f} s: {row['cases_per_s_one_process']:.0f} cases/s in one "
          f"process; load {load:.2f} s, reference + compare {check:.2f} s", flush=True)
    return row


def bench_pytest(cmd):
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|xfailed|xpassed|skipped|error)", tail)}
    n = sum(counts.values())
    row = {"command": " ".join(cmd[1:]), "wall_s": wall, "cases": n, "counts": counts,
           "cases_per_s": n / wall if wall else None, "returncode": proc.returncode, "summary": tail}
    print(f"  {n} cases in {wall:.1f} s wall: {row['cases_per_s']:.1f} cases/s   ({tail})", flush=True)
    return row


# -- report ------------------------------------------------------------------------------------
def _table(rows, columns):
    head = " | ".join(c for c, _ in columns)
    lines = [f"| {head} |", "|" + "|".join("---" for _ in columns) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(fmt.format(r[c]) for c, fmt in columns) + " |")
    return "\n".join(lines)


def markdown(results):
    out = []
    if "forward" in results:
        rows = [{**r, "shape": f"({r['batch']}, {r['time']}, {r['features']}, {r['units']})",
                 "ref_ms": r["reference_s"] * 1e3, "tf_ms": r["tf_function_s"] * 1e3}
                for r in results["forward"]]
        out += ["Reference forward vs tf.function(Keras 3 layer), float32, return_sequences=True:", "",
                _table(rows, [("layer", "{}"), ("shape", "{}"), ("ref_ms", "{:.2f}"), ("tf_ms", "{:.2f}"),
                              ("ratio", "{:.2f}"), ("max_abs_err", "{:.1e}")]), ""]
    if "loaded" in results:
        quiet = {(r["layer"], r["batch"], r["time"], r["features"], r["units"]): r
                 for r in results.get("forward", [])}
        rows = []
        for r in results["loaded"]:
            q = quiet.get((r["layer"], r["batch"], r["time"], r["features"], r["units"]))
            rows.append({"layer": r["layer"], "shape": f"({r['batch']}, {r['time']}, {r['features']}, {r['units']})",
                         "quiet": "{:.2f}".format(q["ratio"]) if q else "-", "loaded": r["ratio"],
                         "ref_ms": r["reference_s"] * 1e3, "tf_ms": r["tf_function_s"] * 1e3,
                         "max_abs_err": r["max_abs_err"]})
        out += ["Reference / tf.function, quiet and with the other core busy (loaded; ms are loaded):", "",
                _table(rows, [("layer", "{}"), ("shape", "{}"), ("quiet", "{}"), ("loaded", "{:.2f}"),
                              ("ref_ms", "{:.2f}"), ("tf_ms", "{:.2f}"), ("max_abs_err", "{:.1e}")]), ""]
    if "breakdown" in results:
        rows = [{**r, "shape": f"({r['batch']}, {r['time']}, {r['features']}, {r['units']})",
                 **{k.replace("_s", "_ms"): r[k] * 1e3 for k in ("reference_s", "products_s",
                                                                  "projection_s", "rest_s", "tf_function_s")},
                 "rest_per_step_us": r["rest_per_step_s"] * 1e6} for r in results["breakdown"]]
        out += ["Where the reference's time goes (ms; products and projection alone, rest = the "
                "elementwise step work and the loop):", "",
                _table(rows, [("layer", "{}"), ("shape", "{}"), ("reference_ms", "{:.2f}"),
                              ("products_ms", "{:.2f}"), ("projection_ms", "{:.2f}"), ("rest_ms", "{:.2f}"),
                              ("rest_per_step_us", "{:.0f}"), ("tf_function_ms", "{:.2f}"),
                              ("products_and_projection_over_tf", "{:.2f}")]), ""]
    if "scaling" in results:
        rows = [{**r, "ms": r["reference_s"] * 1e3} for r in results["scaling"]]
        out += ["Reference LSTM scaling (units 64): time, and growth per step / per sample "
                "(1.00 = linear):", "",
                _table(rows, [("time", "{}"), ("batch", "{}"), ("ms", "{:.2f}"),
                              ("per_step_vs_smallest_T", "{:.2f}"),
                              ("per_sample_vs_smallest_batch", "{:.3f}")]), ""]
    if "suite" in results:
        s = results["suite"]
        out += [f"Suite in one process: {s['cases']} cases, {s['cases_per_s_one_process']:.1f} cases/s; "
                f"framework {s['framework_s']:.1f} s, harness {s['harness_s']:.1f} s "
                f"(harness = {100 * s['harness_over_framework']:.0f}% of framework)", ""]
    if "replay" in results:
        r = results["replay"]
        out += [f"Replay in one process: {r['cases']} recorded cases, {r['cases_per_s_one_process']:.0f} "
                f"cases/s (load {r['load_s']:.2f} s, reference + compare "
                f"{r['reference_and_compare_s']:.2f} s)", ""]
    if "conv_lstm" in results:
        from bench_conv_lstm import markdown as conv_lstm_markdown

        out += conv_lstm_markdown(results["conv_lstm"], _table, results.get("conv_lstm_loaded"))
    for p in results.get("pytest", {}).values():
        out += [f"`{p['command']}`: {p['cases']} cases in {p['wall_s']:.1f} s wall, startup included = "
                f"{p['cases_per_s']:.1f} cases/s ({p['summary']})", ""]
    return "\n".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--section", action="append",
                   choices=("forward", "loaded", "breakdown", "scaling", "suite", "replay", "conv_lstm"),
                   help="run only these sections (repeatable; default: all six)")
    p.add_argument("--busy", type=int, default=1, help="loaded: co-running busy processes (default 1)")
    p.add_argument("--shape", action="append", type=lambda t: tuple(int(v) for v in t.split(",")),
                   help="forward/loaded: only this batch,time,features,units (repeatable)")
    p.add_argument("--layer", action="append", choices=tuple(LAYERS), help="forward/loaded: only these")
    p.add_argument("--pytest", action="store_true", help="also time the pytest command end to end")
    p.add_argument("--tiny", action="store_true", help="tiny shapes and few cases (smoke test)")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement")
    p.add_argument("--suite-every", type=int, default=1, help="suite: take every k-th case")
    p.add_argument("--suite-limit", type=int, default=None, help="suite: at most this many cases")
    p.add_argument("--json", default="benchmarks/results.json", help="where to write the results")
    args = p.parse_args(argv)
    sections = args.section or ["forward", "loaded", "breakdown", "scaling", "suite", "replay"]
    repeats = args.repeats or (2 if args.tiny else 7)
    from rnnparity.reference import threads

    blas_env = {k: v for k, v in sorted(os.environ.items()) if k.startswith(BLAS_ENV_PREFIXES)}
    results = {"meta": {"python": platform.python_version(), "numpy": np.__version__,
                        "platform": platform.platform(), "cpus": os.cpu_count(),
                        "usable_cores": threads.usable_cores(),
                        "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
                        # the BLAS NumPy uses: library, version, kernel set ("architecture"), threads
                        "blas": threads.blas_info(),
                        # the kernels NumPy's OpenBLAS picked; OPENBLAS_CORETYPE overrides (README)
                        "openblas_core": threads.openblas_core(),
                        # the user's BLAS/OpenMP variables: the reference never overrides them
                        "blas_env": blas_env,
                        "argv": sys.argv[1:] if argv is None else list(argv)}}
    print(f"NumPy {np.__version__}, BLAS: " + "; ".join(
        f"{b.get('internal_api')} {b.get('version')} kernels {b.get('architecture')}, "
        f"{b.get('num_threads')} threads" for b in threads.blas_info()) +
        f"; environment: {blas_env or 'no BLAS/OpenMP variables'}", flush=True)
    shapes = [(2, 5, 3, 4)] if args.tiny else args.shape or FORWARD_SHAPES
    layers = args.layer or list(LAYERS)
    if {"forward", "loaded", "breakdown", "conv_lstm"} & set(sections):
        import keras
        import tensorflow as tf
        results["meta"].update(tensorflow=tf.__version__, keras=keras.__version__)
    if "forward" in sections:
        print("forward: reference / tf.function(Keras 3)", flush=True)
        results["forward"] = bench_forward(shapes, layers, repeats)
    if "loaded" in sections:
        print(f"loaded: reference / tf.function(Keras 3), {args.busy} co-running busy process(es)", flush=True)
        results["loaded"] = bench_loaded(shapes, layers, repeats, args.busy)
        results["meta"]["loaded_busy_processes"] = args.busy
    if "breakdown" in sections:
        print("breakdown: the reference's products, projection and the rest, and tf.function", flush=True)
        results["breakdown"] = bench_breakdown(shapes, layers, repeats)
    if "scaling" in sections:
        print("scaling: reference LSTM", flush=True)
        if args.tiny:
            results["scaling"] = bench_scaling((2, 4), (1, 2), 4, 3, repeats)
        else:
            results["scaling"] = bench_scaling(SCALING_T, SCALING_BATCH, 64, 32, repeats)
    if "suite" in sections:
        print("suite: runner.check_live over the default tier, in this process", flush=True)
        limit = 4 if args.tiny else args.suite_limit
        every = 97 if args.tiny else args.suite_every
        results["suite"] = bench_suite(limit, every)
    if "conv_lstm" in sections:
        print("conv_lstm: reference ConvLSTM2D / tf.function(Keras 3)", flush=True)
        from bench_conv_lstm import bench_conv_lstm

        results["conv_lstm"] = bench_conv_lstm(repeats, _round_robin, tiny=args.tiny)
        print(f"conv_lstm, loaded: the same with {args.busy} co-running busy process(es)", flush=True)
        with co_runners(args.busy):
            results["conv_lstm_loaded"] = bench_conv_lstm(repeats, _round_robin, tiny=args.tiny)
        results["meta"]["loaded_busy_processes"] = args.busy
    if "replay" in sections:
        print("replay: every recording under fixtures/ against the reference, in this process", flush=True)
        results["replay"] = bench_replay(os.path.join(ROOT, "fixtures"), 20 if args.tiny else None)
    if args.pytest:
        results["pytest"] = {}
        for name, cmd in PYTEST_CMDS.items():
            print(f"pytest ({name}): " + " ".join(cmd[1:]), flush=True)
            results["pytest"][name] = bench_pytest(cmd)
    print()
    print(markdown(results))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=float)
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
