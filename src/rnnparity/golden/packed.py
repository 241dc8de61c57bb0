"""The recordings shipped in the wheel: every recording of fixtures/ in one solid xz tar.

    packed.pack("fixtures", "build/lib/rnnparity/recordings.tar.xz")   # setup.py does this
    archive = packed.Archive(path); archive.manifests; archive.read("keras3-3.15.1/lstm-f32-keras3.npz")

fixtures/ (one deflated `.npz` per case, the format of rnnparity.golden) stays the source in the
repository; building a wheel packs it here. Each case file is re-stored uncompressed (ZIP_STORED, so
the same numbers are the same bytes) and the files are ordered by case id across recordings: the
recordings of one case share its inputs and weights (seeds do not depend on the target), and xz
stores them once. Each recording's manifest is written first, with the sha256 of the re-stored file,
so collection reads only the start of the archive. `golden.PackedRecording` reads it in memory,
never extracting it.

Standard library only: setup.py loads this file by path, in a build environment without NumPy.
"""
from __future__ import annotations

import hashlib
import io
import json
import lzma
import tarfile
import zipfile
from pathlib import Path

ARCHIVE_NAME = "recordings.tar.xz"
MANIFEST = "manifest.json"
# preset 9 (64 MiB dictionary) is not needed: a case's recordings are adjacent in the archive
XZ_PRESET = 6
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed zip timestamps: the same fixtures pack to the same bytes


def restore_uncompressed(data: bytes) -> bytes:
    """An `.npz` (zip) with every member re-stored uncompressed, in the same order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, _EPOCH), src.read(info))
    return out.getvalue()


def _recordings(fixtures: Path):
    return sorted(p for p in fixtures.iterdir() if (p / MANIFEST).is_file() and ".partial-" not in p.name)


def _add(tar, name: str, data: bytes):
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def pack(fixtures, out) -> dict:
    """Pack every recording under `fixtures` into the archive `out`; returns counts and sizes.

    Each source file is checked against its manifest's sha256 first: a damaged fixture is never
    shipped."""
    fixtures, out = Path(fixtures), Path(out)
    recordings = _recordings(fixtures)
    if not recordings:
        raise ValueError(f"packed: no recordings (dirs holding {MANIFEST}) under {fixtures}")
    manifests, files = {}, []
    for rec in recordings:
        manifest = json.loads((rec / MANIFEST).read_text())
        suffix = f"-{manifest.get('target')}"
        cases = {}
        for case_id, entry in manifest["cases"].items():
            data = (rec / entry["file"]).read_bytes()
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise ValueError(f"packed: {rec / entry['file']}: sha256 differs from {MANIFEST}; "
                                 f"refusing to ship a damaged fixture")
            stored = restore_uncompressed(data)
            cases[case_id] = {"file": entry["file"], "sha256": hashlib.sha256(stored).hexdigest()}
            shared = case_id[:-len(suffix)] if case_id.endswith(suffix) else case_id
            files.append(((shared, rec.name), f"{rec.name}/{entry['file']}", stored))
        manifests[rec.name] = {**manifest, "cases": cases}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with lzma.open(tmp, "wb", preset=XZ_PRESET) as xz, tarfile.open(fileobj=xz, mode="w",
                                                                     format=tarfile.PAX_FORMAT) as tar:
        for name, manifest in manifests.items():
            _add(tar, f"{name}/{MANIFEST}", json.dumps(manifest, indent=1, sort_keys=True).encode())
        for _, name, data in sorted(files):
            _add(tar, name, data)
    tmp.replace(out)
    return {"recordings": len(manifests), "cases": len(files), "bytes": out.stat().st_size}


class Archive:
    """A packed archive, read lazily: the manifests on first use (the start of the stream only),
    every file on the first `read` (one pass, kept in memory: ~40 MB for the four recordings)."""

    def __init__(self, path):
        self.path = Path(path)
        self._manifests: dict | None = None
        self._files: dict | None = None

    def _members(self, manifests_only=False):
        """(name, bytes) of each file in archive order; ValueError naming the archive if it is not one."""
        try:
            with tarfile.open(self.path, mode="r|xz") as tar:
                for member in tar:
                    if manifests_only and member.name.partition("/")[2] != MANIFEST:
                        return
                    if member.isfile():
                        yield member.name, tar.extractfile(member).read()
        except (OSError, EOFError, tarfile.TarError, lzma.LZMAError) as exc:
            raise ValueError(f"{self.path}: not a readable packed recordings archive "
                             f"({type(exc).__name__}: {exc})") from None

    @property
    def manifests(self) -> dict:
        """{recording name: manifest} in archive order."""
        if self._manifests is None:
            self._manifests = {name.partition("/")[0]: json.loads(data)
                               for name, data in self._members(manifests_only=True)}
        return self._manifests

    def read(self, name: str) -> bytes:
        if self._files is None:
            self._files = dict(self._members())
        if name not in self._files:
            raise KeyError(f"{name} is not in {self.path}")
        return self._files[name]
