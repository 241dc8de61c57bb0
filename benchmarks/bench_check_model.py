"""check_model's cost against the model's own eager forward pass, on the same batch, in one run.

A functional model with 3 recurrent layers (LSTM -> GRU -> Bidirectional(LSTM)), units 128, batch 32,
T=100, float32, in each dialect. `model(x)` and `rp.check_model(model, x)` are timed alternately
(round robin) and the median of the repeats kept; the ratio is check_model / model(x). check_model
includes the model's own (captured) forward pass, so the ratio is at least 1.

    python benchmarks/bench_check_model.py [--repeats 7] [--busy] [--dialect keras3,tf_keras]

--busy spins one other process for the whole run (as under `pytest -n 2` or on a shared CI runner).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

import rnnparity as rp  # noqa: E402

BATCH, STEPS, FEATURES, UNITS = 32, 100, 16, 128


def build(dialect):
    K = __import__("keras" if dialect == "keras3" else "tf_keras")
    L = K.layers
    x = L.Input((STEPS, FEATURES))
    h = L.LSTM(UNITS, return_sequences=True, name="lstm")(x)
    h = L.GRU(UNITS, return_sequences=True, name="gru")(h)
    h = L.Bidirectional(L.LSTM(UNITS), name="bi_lstm")(h)
    return K.Model(x, L.Dense(1)(h))


def _spin(stop):
    while not stop.is_set():
        pass


def measure(dialect, repeats):
    model = build(dialect)
    x = np.random.RandomState(0).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    model(x, training=False)  # build and warm up both paths once
    report = rp.check_model(model, x)
    assert report.passed, report.table()
    forward, check = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        model(x, training=False)
        forward.append(time.perf_counter() - t)
        t = time.perf_counter()
        rp.check_model(model, x)
        check.append(time.perf_counter() - t)
    f, c = statistics.median(forward), statistics.median(check)
    return {"dialect": dialect, "forward_s": f, "check_model_s": c, "ratio": c / f,
            "forward_min_s": min(forward), "check_model_min_s": min(check)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--dialect", default="keras3,tf_keras")
    p.add_argument("--busy", action="store_true", help="keep one other core busy meanwhile")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    stop = multiprocessing.Event()
    spinner = multiprocessing.Process(target=_spin, args=(stop,)) if args.busy else None
    if spinner:
        spinner.start()
    try:
        rows = [measure(d.strip(), args.repeats) for d in args.dialect.split(",") if d.strip()]
    finally:
        if spinner:
            stop.set()
            spinner.join()
    for r in rows:
        print(f"{r['dialect']:<9} model(x) {r['forward_s']:.3f} s   check_model {r['check_model_s']:.3f} s   "
              f"ratio {r['ratio']:.2f}   (min {r['forward_min_s']:.3f} / {r['check_model_min_s']:.3f} s)"
              f"{'   other core busy' if args.busy else ''}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"busy": args.busy, "shape": [BATCH, STEPS, FEATURES, UNITS], "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
