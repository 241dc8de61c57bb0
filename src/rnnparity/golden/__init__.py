"""Recordings: Recording <-> one `.npz` per case id, plus a `manifest.json` per recording dir.

    with golden.Writer("fixtures/keras3-3.15.1", meta, force=False) as w:   # <out>.partial-<pid>
        for case in cases: w.add(runner.record(case))                      # atomic per file
    # leaving the block renames the finished dir into place; an error or Ctrl-C removes it
    rec = golden.RecordingDir("fixtures/keras3-3.15.1").load(case_id)      # validated, no framework

A case file holds plain numbers only (never pickled objects; loaded with allow_pickle=False): one
flat array per dtype (`data_float32`, `data_bool`...) and `meta`, JSON text with the case id, layer spec,
dialect, plan steps, output containers, error, and where each named array lies in its blob: `x<k>`,
`mask<k>`, `seqlen<k>` (a tf1 call's sequence_length), `init<k>_<j>` per call k, `w<i>` per weight,
`out<k>_<j>` per call and output; the spec is a LayerSpec's or a Tf1Spec's JSON form (rnnparity.plan).
`golden.read_case` unpacks them. Nested
structures (stacked cells' per-cell state lists, in outputs and in initial states) are stored as their
leaves in order plus a JSON `tree`; bfloat16 arrays as their uint16 bits under the dtype name bfloat16.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..npz_file import read_npz
from ..plan import Call, Outcome, Plan, Recording, Reset, spec_from_dict

FORMAT = "rnnparity-golden/1"
BFLOAT16 = "bfloat16"


class MissingDependency(ImportError):
    """A valid fixture that needs a package this environment lacks to be read (not a corrupt one)."""


def _bfloat16():
    try:
        import ml_dtypes
    except ImportError:
        raise MissingDependency("this fixture holds bfloat16 arrays (mixed_bfloat16 cases): reading them "
                                "needs the ml_dtypes package (pip install ml_dtypes)") from None
    return ml_dtypes.bfloat16
MANIFEST = "manifest.json"


# -- Recording <-> arrays ------------------------------------------------------------------------
def _container(out):
    """The structure of one call's outputs: {"container", "n"} for an array or a flat list/tuple (the
    format's first form), plus "tree" where a member is itself a list/tuple (stacked cells' states)."""
    if isinstance(out, (list, tuple)):
        meta = {"container": type(out).__name__, "n": len(_leaves(out))}
        if any(isinstance(o, (list, tuple)) for o in out):
            meta["tree"] = _tree(out)
        return meta
    return {"container": "array", "n": 1}


def _tree(value):
    """A nested list/tuple of arrays as JSON: "a" for an array, {"list"|"tuple": [children]}."""
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [_tree(v) for v in value]}
    return "a"


def _leaves(value):
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _rebuild(tree, leaves):
    """The structure `tree` describes, taking arrays from the iterator `leaves` in order."""
    if tree == "a":
        return next(leaves)
    (kind, children), = tree.items()
    if kind not in ("list", "tuple"):
        raise ValueError(f"unknown container {kind!r} in an output tree")
    items = [_rebuild(c, leaves) for c in children]
    return tuple(items) if kind == "tuple" else items


def to_arrays(rec) -> dict:
    """The npz payload (name -> array) of a Recording."""
    arrays, steps = {}, []
    for k, call in enumerate(rec.plan.calls):
        arrays[f"x{k}"] = np.asarray(call.x)
        if call.mask is not None:
            arrays[f"mask{k}"] = np.asarray(call.mask)
        if call.sequence_length is not None:
            arrays[f"seqlen{k}"] = np.asarray(call.sequence_length)
        for j, s in enumerate(_leaves(list(call.initial_state or ()))):
            arrays[f"init{k}_{j}"] = np.asarray(s)
    for step in rec.plan.steps:
        if isinstance(step, Reset):
            steps.append({"reset": step.label})
        else:
            init = step.initial_state
            entry = {"call": step.label, "mask": step.mask is not None,
                     "init": None if init is None else len(_leaves(list(init)))}
            if init is not None and any(isinstance(i, (list, tuple)) for i in init):
                entry["init_tree"] = _tree(list(init))  # per-cell state lists (stacked cells)
            if step.sequence_length is not None:
                entry["seqlen"] = True
            steps.append(entry)
    for i, w in enumerate(rec.weights or ()):
        arrays[f"w{i}"] = np.asarray(w)
    for k, out in enumerate(rec.outcome.outputs):
        for j, o in enumerate(_leaves(out)):
            arrays[f"out{k}_{j}"] = np.asarray(o)
    meta = {"format": FORMAT, "kind": "keras", "case_id": rec.case_id, "spec": rec.spec.to_dict(),
            "dialect": rec.dialect, "time_axis": rec.time_axis, "steps": steps,
            "chunk_check": list(rec.plan.chunk_check) if rec.plan.chunk_check else None,
            "outputs": [_container(o) for o in rec.outcome.outputs],
            "n_weights": None if rec.weights is None else len(rec.weights),
            "error": list(rec.outcome.error) if rec.outcome.error else None}
    return pack(arrays, meta, rec.case_id)


def pack(arrays: dict, meta: dict, case_id: str) -> dict:
    """One flat array per dtype (`data_float32`...) plus `meta` (JSON text) naming each array's
    dtype, offset and shape: a case loads with one zip read and a few npy headers."""
    blobs, index = {}, {}
    for name, a in arrays.items():
        dt = a.dtype.name
        if dt == BFLOAT16:  # ml_dtypes' bfloat16 (mixed_bfloat16 outputs): stored as its bits
            a = a.view(np.uint16)
        elif a.dtype.hasobject or a.dtype.kind not in "biuf":
            raise ValueError(f"golden: {case_id}: array {name!r} has dtype {a.dtype}; only plain numbers "
                             f"are stored (never pickled objects)")
        parts = blobs.setdefault(dt, [])
        index[name] = [dt, sum(p.size for p in parts), list(a.shape)]
        parts.append(a.ravel())
    out = {f"data_{dt}": np.concatenate(parts) for dt, parts in blobs.items()}
    out["meta"] = np.array(json.dumps({**meta, "arrays": index}, sort_keys=True))
    return out


def unpack(npz: dict) -> tuple:
    """(arrays by name, meta) from a packed payload; arrays are read-only views."""
    meta = json.loads(str(npz["meta"][()]))
    arrays, blobs = {}, {}
    for name, (dt, offset, shape) in meta["arrays"].items():
        if dt not in blobs:
            blobs[dt] = npz[f"data_{dt}"]
            stored = "uint16" if dt == BFLOAT16 else dt
            if blobs[dt].dtype.name != stored or blobs[dt].ndim != 1:
                raise ValueError(f"data_{dt} holds {blobs[dt].dtype} with shape {blobs[dt].shape}")
            if dt == BFLOAT16:
                blobs[dt] = blobs[dt].view(_bfloat16())
        size = math.prod(shape)
        if offset + size > blobs[dt].size:
            raise ValueError(f"array {name!r} ({dt}, offset {offset}, shape {shape}) is outside data_{dt}")
        arrays[name] = blobs[dt][offset:offset + size].reshape(shape)
    return arrays, meta


def from_arrays(npz, where="<arrays>"):
    """A Recording from an npz payload; ValueError naming `where` if malformed."""
    try:
        arrays, meta = unpack(npz)
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
        error = tuple(meta["error"]) if meta["error"] else None
        if meta["kind"] == "tf1":  # the format before tf1 cases were Recordings
            raise ValueError("a tf1 case in the format of rnnparity before tf1 recordings held a plan; "
                             "re-record it: rnnparity record --target tf1")
        steps, k = [], 0
        for s in meta["steps"]:
            if "reset" in s:
                steps.append(Reset(s["reset"]))
                continue
            init = None if s["init"] is None else [arrays[f"init{k}_{j}"] for j in range(s["init"])]
            if init is not None and "init_tree" in s:
                init = _rebuild(s["init_tree"], iter(init))
            steps.append(Call(arrays[f"x{k}"], arrays[f"mask{k}"] if s["mask"] else None, init, s["call"],
                              arrays[f"seqlen{k}"] if s.get("seqlen") else None))
            k += 1
        outputs = []
        for k, c in enumerate(meta["outputs"]):
            items = [arrays[f"out{k}_{j}"] for j in range(c["n"])]
            if "tree" in c:
                outputs.append(_rebuild(c["tree"], iter(items)))
            else:
                outputs.append(items[0] if c["container"] == "array" else
                               (tuple(items) if c["container"] == "tuple" else list(items)))
        chunk = tuple(meta["chunk_check"]) if meta["chunk_check"] else None
        weights = None if meta["n_weights"] is None else [arrays[f"w{i}"] for i in range(meta["n_weights"])]
        return Recording(meta["case_id"], spec_from_dict(meta["spec"]), Plan(steps, chunk), weights,
                         Outcome(outputs, error), meta["dialect"], meta["time_axis"])
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"{where}: not an rnnparity fixture ({type(exc).__name__}: {exc})") from None


# -- files ---------------------------------------------------------------------------------------
def _atomic_write(path: Path, data: bytes):
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def case_bytes(rec) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **to_arrays(rec))
    return buf.getvalue()


def read_case(data: bytes, where: str):
    """Parse npz bytes (never unpickling); ValueError naming `where` for anything malformed."""
    try:
        arrays = read_npz(data, where)
    except ValueError as exc:
        why = str(exc).removeprefix(f"{where}: ")
        raise ValueError(f"{where}: corrupt or truncated fixture ({why})") from None
    for a in arrays.values():
        a.setflags(write=False)
    return from_arrays(arrays, where)


class Writer:
    """Builds a recording in `<out>.partial-<pid>` and renames it into place on success."""

    def __init__(self, out, meta: dict, force: bool = False):
        self.out = Path(out)
        if self.out.exists() and not force:
            raise FileExistsError(f"{self.out} already exists; pass --force (force=True) to replace it")
        self.meta = dict(meta)
        self.tmp = self.out.with_name(f"{self.out.name}.partial-{os.getpid()}")
        self.files: dict = {}

    def __enter__(self):
        self.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir()
        return self

    def add(self, rec):
        if rec.case_id in self.files:
            raise ValueError(f"golden: case {rec.case_id} recorded twice")
        data = case_bytes(rec)
        name = f"{rec.case_id}.npz"
        _atomic_write(self.tmp / name, data)
        self.files[rec.case_id] = {"file": name, "sha256": hashlib.sha256(data).hexdigest()}

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:  # error or Ctrl-C: no half recording; an older one is untouched
            shutil.rmtree(self.tmp, ignore_errors=True)
            return False
        manifest = {**self.meta, "format": FORMAT, "cases": self.files}
        _atomic_write(self.tmp / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        old = self.out.with_name(f"{self.out.name}.old-{os.getpid()}")
        if self.out.exists():
            os.replace(self.out, old)
        os.replace(self.tmp, self.out)
        shutil.rmtree(old, ignore_errors=True)
        return False


def not_a_recording(path: Path) -> str:
    """Why ``path`` (a file, or nothing) is not a recording directory."""
    if not path.exists():
        return f"{path}: no such directory (a recording is a directory holding {MANIFEST} and one .npz per case)"
    what = "a single case file" if path.suffix == ".npz" else "a file"
    return (f"{path}: {what}, not a recording (a recording is a directory holding {MANIFEST} and one "
            f".npz per case, as `rnnparity record` and `record-model` write it)")


class RecordingDir:
    """A recording on disk: the manifest is parsed and checked once; cases load lazily."""

    def __init__(self, path):
        self.path = Path(path)
        mpath = self.path / MANIFEST
        if not self.path.is_dir():
            raise ValueError(not_a_recording(self.path))
        try:
            manifest = json.loads(mpath.read_text())
        except FileNotFoundError:
            raise ValueError(f"{mpath}: missing; {self.path} is not a recording") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{mpath}: corrupt manifest ({exc})") from None
        self._set_manifest(manifest, mpath)
        listed = {entry["file"] for entry in self.cases.values()}
        present = {p for p in os.listdir(self.path) if p.endswith(".npz")}
        for name in sorted(listed - present):
            raise ValueError(f"{self.path / name}: listed in {MANIFEST} but missing")
        for name in sorted(present - listed):
            raise ValueError(f"{self.path / name}: present but not listed in {MANIFEST}")

    def _set_manifest(self, manifest, where):
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"{where}: not an rnnparity manifest (format "
                             f"{manifest.get('format') if isinstance(manifest, dict) else '?'!r},"
                             f" expected {FORMAT!r})")
        self.manifest = manifest
        self.cases = manifest.get("cases") or {}

    @property
    def name(self):
        return self.path.name

    @property
    def case_ids(self):
        return list(self.cases)

    def read_bytes(self, file: str) -> bytes:
        return (self.path / file).read_bytes()

    def load(self, case_id):
        if case_id not in self.cases:
            raise KeyError(f"{case_id} is not in the recording {self.path}")
        entry = self.cases[case_id]
        path = self.path / entry["file"]
        data = self.read_bytes(entry["file"])
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ValueError(f"{path}: sha256 differs from {MANIFEST}: the file was changed or damaged")
        rec = read_case(data, str(path))
        if rec.case_id != case_id:
            raise ValueError(f"{path}: holds case {rec.case_id!r}, but {MANIFEST} lists it as {case_id!r}")
        return rec


class PackedRecording(RecordingDir):
    """One recording inside a packed archive (rnnparity.golden.packed: the recordings shipped in the wheel).
    Its `path` is `<archive>/<name>`, a name for reports; cases load exactly as from a directory."""

    def __init__(self, archive, name: str):
        self.archive, self.path = archive, archive.path / name
        self._set_manifest(archive.manifests[name], f"{archive.path}: {name}/{MANIFEST}")

    def read_bytes(self, file: str) -> bytes:
        return self.archive.read(f"{self.name}/{file}")


def open_recordings(root) -> list:
    """Every recording at `root`: a packed archive (`*.tar.xz`), one recording directory, or a
    directory of them (see recording_dirs), as RecordingDir / PackedRecording objects."""
    from . import packed

    root = Path(root)
    if root.is_file() and root.name.endswith(".tar.xz"):
        archive = packed.Archive(root)
        return [PackedRecording(archive, name) for name in archive.manifests]
    return [RecordingDir(d) for d in recording_dirs(root)]


def recording_dirs(root):
    """Every recording directory (holding a manifest) at or directly under `root`, sorted."""
    root = Path(root)
    if (root / MANIFEST).is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / MANIFEST).is_file() and ".partial-" not in p.name)
