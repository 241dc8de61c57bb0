"""Build, train a few steps and save every example model, in Keras 3 and in Keras 2 (tf_keras).

    python examples/build_examples.py [--out DIR] [--dialect keras3|tf_keras|both] [--only NAME ...]

For each example and dialect it writes `NAME.DIALECT.keras` and `NAME.DIALECT.h5`, the outputs the
in-memory model gave on the sample inputs (`NAME.DIALECT.outputs.npz`, the framework's own answer to
compare a loaded file against), and once per example the sample inputs `NAME.inputs.npz`; then
`manifest.json` (versions, files, sizes, build seconds). Every file is written to a temporary name in
DIR and renamed into place, so a reader never sees half a file. Seeds are fixed: the same stack builds
the same weights."""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `examples` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from examples import architectures, catalog, data

SEED = 20240611
EPOCHS = 2
FIT_BATCH = 8
KERAS_MODULE = {"keras3": "keras", "tf_keras": "tf_keras"}


def keras_module(dialect):
    """`keras` (Keras 3) or `tf_keras` (Keras 2); ImportError naming what to install."""
    if dialect not in KERAS_MODULE:
        raise ValueError(f"dialect={dialect!r}: expected one of {sorted(KERAS_MODULE)}")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        return importlib.import_module(KERAS_MODULE[dialect])
    except ImportError as exc:
        raise ImportError(f"dialect {dialect}: cannot import {KERAS_MODULE[dialect]} ({exc}); "
                          f'pip install "rnnparity[tf]"') from exc


def reset_states(model):
    """Reset every stateful recurrent layer (Keras 3 models have no Model.reset_states)."""
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_states()


def build(example, K):
    """The example's model in the dialect of `K`, fitted for EPOCHS epochs on seeded synthetic data."""
    K.backend.clear_session()
    K.utils.set_random_seed(SEED)
    model = architectures.BUILDERS[example.name](K)
    inputs, targets = data.training_data(example.name)
    x = [inputs[name] for name in example.inputs]
    fit = dict(epochs=EPOCHS, shuffle=False, verbose=0, batch_size=example.batch_size or FIT_BATCH)
    if example.batch_size is not None:  # stateful: one text per batch row, restarted every epoch
        fit["callbacks"] = [K.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: reset_states(model))]
    model.fit(x if len(x) > 1 else x[0], targets, **fit)
    reset_states(model)
    return model


def outputs(example, model, inputs):
    """The model's outputs on the sample inputs (stateful: the consecutive batches from a reset, stacked
    along axis 0), as a list of arrays."""
    reset_states(model)
    runs = []
    for batch in catalog.batches(example, inputs):
        out = model(batch if len(batch) > 1 else batch[0], training=False)
        runs.append([np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])])
    reset_states(model)
    return [np.concatenate(parts) for parts in zip(*runs)]


def _atomic(path: Path, write):
    """Write through `write(tmp_path)` into a temporary directory beside `path`, then rename into place
    (the temporary name keeps the suffix: Keras picks the format from it)."""
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".building-") as tmp:
        tmp_path = Path(tmp) / path.name
        write(tmp_path)
        os.replace(tmp_path, path)


def save_npz(path: Path, arrays: dict):
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    _atomic(path, write)


def save_model(model, path: Path):
    # both dialects warn, once per file, that .h5 is a legacy format: written on purpose here
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*HDF5 file.*legacy", category=UserWarning)
        # Keras 3 with NumPy 2 converting TF variables while saving
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy",
                                category=DeprecationWarning)
        absl = logging.getLogger("absl")
        level = absl.level
        absl.setLevel(logging.ERROR)
        try:
            _atomic(path, lambda tmp: model.save(tmp))
        finally:
            absl.setLevel(level)


def build_dialect(examples, dialect, out: Path, log=print):
    """Build and save `examples` in one dialect; {file name: seconds} per example."""
    K = keras_module(dialect)
    seconds = {}
    for example in examples:
        start = time.perf_counter()
        model = build(example, K)
        inputs = data.sample_inputs(example.name)
        for fmt in catalog.FORMATS:
            save_model(model, out / example.file(dialect, fmt))
        x = [inputs[name] for name in example.inputs]
        save_npz(out / example.outputs_file(dialect),
                 {f"output_{i}": o for i, o in enumerate(outputs(example, model, x))})
        seconds[example.name] = round(time.perf_counter() - start, 2)
        log(f"{dialect:8} {example.name:18} {seconds[example.name]:6.2f} s")
    return seconds


def _versions(dialects):
    versions = {"numpy": np.__version__}
    for dialect in dialects:
        versions[KERAS_MODULE[dialect]] = keras_module(dialect).__version__
    import tensorflow as tf
    versions["tensorflow"] = tf.__version__
    return versions


def _manifest(out: Path, dialects, examples, seconds):
    """The directory's manifest: a partial rebuild (--only, one --dialect) updates its own entries."""
    path = out / "manifest.json"
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    manifest.setdefault("versions", {}).update(_versions(dialects))
    manifest.update(seed=SEED, epochs=EPOCHS)
    for dialect in dialects:
        manifest.setdefault("build_seconds", {}).setdefault(dialect, {}).update(seconds[dialect])
    manifest["examples"] = sorted(set(manifest.get("examples", [])) | {e.name for e in examples})
    manifest["files"] = {p.name: p.stat().st_size for p in sorted(out.iterdir())
                         if p.is_file() and p.name != "manifest.json"}
    return manifest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=catalog.BUILT, help=f"output directory (default {catalog.BUILT})")
    parser.add_argument("--dialect", choices=(*catalog.DIALECTS, "both"), default="both")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=sorted(catalog.BY_NAME),
                        help="build only these examples")
    args = parser.parse_args(argv)
    dialects = catalog.DIALECTS if args.dialect == "both" else (args.dialect,)
    examples = [catalog.get(n) for n in args.only] if args.only else list(catalog.EXAMPLES)
    args.out.mkdir(parents=True, exist_ok=True)
    for example in examples:
        save_npz(args.out / example.inputs_file, data.sample_inputs(example.name))
    seconds = {dialect: build_dialect(examples, dialect, args.out) for dialect in dialects}
    manifest = _manifest(args.out, dialects, examples, seconds)
    _atomic(args.out / "manifest.json", lambda tmp: tmp.write_text(json.dumps(manifest, indent=1) + "\n"))
    total = sum(manifest["files"].values())
    print(f"{len(manifest['files'])} files, {total / 1e6:.2f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
