"""The recordings shipped with the package: rnnparity.golden.packed packs fixtures/ into one archive, the
build hook (setup.py) puts it in the wheel, and an installed rnnparity with no checkout replays it by
default. The wheel is built from a copy of the repository with a few recorded cases (seconds, offline)."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnnparity import golden, plugin
from rnnparity.golden import packed

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SAMPLE = {"keras3-3.15.1": 3, "tf_keras-2.21.0": 3, "tf1-2.21.0": 2}  # recording -> cases copied


@pytest.fixture(scope="module")
def small_fixtures(tmp_path_factory):
    """A fixtures/ dir holding the first cases of three committed recordings (same case ids)."""
    out = tmp_path_factory.mktemp("fixtures")
    for name, n in SAMPLE.items():
        src = FIXTURES / name
        if not (src / golden.MANIFEST).is_file():
            pytest.skip(f"no committed recording {src}")
        manifest = json.loads((src / golden.MANIFEST).read_text())
        keep = dict(sorted(manifest["cases"].items())[:n])
        (out / name).mkdir()
        for entry in keep.values():
            shutil.copy2(src / entry["file"], out / name / entry["file"])
        (out / name / golden.MANIFEST).write_text(json.dumps({**manifest, "cases": keep}))
    return out


def _flip(data: bytes) -> bytes:
    """The bytes with one bit changed in the middle (a zip's last bytes are often zero already)."""
    mid = len(data) // 2
    return data[:mid] + bytes([data[mid] ^ 1]) + data[mid + 1:]


def _arrays(rec):
    return {k: np.asarray(v) for k, v in golden.unpack(golden.to_arrays(rec))[0].items()}


def test_packed_archive_loads_the_same_cases_as_the_recordings(small_fixtures, tmp_path):
    archive = tmp_path / packed.ARCHIVE_NAME
    stats = packed.pack(small_fixtures, archive)
    assert stats == {"recordings": 3, "cases": sum(SAMPLE.values()), "bytes": archive.stat().st_size}
    opened = golden.open_recordings(archive)
    assert [r.name for r in opened] == sorted(SAMPLE)
    for rec in opened:
        source = golden.RecordingDir(small_fixtures / rec.name)
        assert rec.case_ids == source.case_ids and rec.path == archive / rec.name
        for case_id in rec.case_ids:
            a, b = _arrays(rec.load(case_id)), _arrays(source.load(case_id))
            assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a), case_id


def test_pack_is_reproducible_and_refuses_a_damaged_fixture(small_fixtures, tmp_path):
    packed.pack(small_fixtures, tmp_path / "a.tar.xz")
    packed.pack(small_fixtures, tmp_path / "b.tar.xz")
    assert (tmp_path / "a.tar.xz").read_bytes() == (tmp_path / "b.tar.xz").read_bytes()
    damaged = tmp_path / "damaged"
    shutil.copytree(small_fixtures, damaged)
    victim = sorted((damaged / "keras3-3.15.1").glob("*.npz"))[0]
    victim.write_bytes(_flip(victim.read_bytes()))
    with pytest.raises(ValueError, match=f"{victim.name}: sha256 differs .* refusing to ship"):
        packed.pack(damaged, tmp_path / "c.tar.xz")


def test_a_changed_file_in_the_archive_is_detected(small_fixtures, tmp_path):
    archive = tmp_path / packed.ARCHIVE_NAME
    packed.pack(small_fixtures, archive)
    rec = golden.open_recordings(archive)[0]
    case_id = rec.case_ids[0]
    name = f"{rec.name}/{rec.cases[case_id]['file']}"
    rec.archive.read(name)  # loads every file
    rec.archive._files[name] = _flip(rec.archive._files[name])
    with pytest.raises(ValueError, match="sha256 differs"):
        rec.load(case_id)


class _Config:
    def __init__(self, rootpath, fixtures=None):
        self.rootpath, self._fixtures = Path(rootpath), fixtures

    def getoption(self, name):
        assert name == "--rnnparity-recordings"
        return self._fixtures


def test_recordings_root_prefers_a_checkout_then_the_packaged_recordings(small_fixtures, tmp_path, monkeypatch):
    archive = tmp_path / "site" / packed.ARCHIVE_NAME
    packed.pack(small_fixtures, archive)
    monkeypatch.setattr(plugin, "PACKAGED_RECORDINGS", archive)
    monkeypatch.setattr(plugin, "checkout_root", lambda: None)  # an installed package: no checkout
    project = tmp_path / "project"
    (project / "fixtures").mkdir(parents=True)  # a user's fixtures/ without recordings is not ours
    assert plugin.recordings_root(_Config(project)) == archive
    shutil.copytree(small_fixtures / "tf1-2.21.0", project / "fixtures" / "tf1-2.21.0")
    assert plugin.recordings_root(_Config(project)) == project / "fixtures"  # `rnnparity record`'s output
    assert plugin.recordings_root(_Config(project, "elsewhere")) == Path("elsewhere")
    monkeypatch.setattr(plugin, "PACKAGED_RECORDINGS", tmp_path / "absent.tar.xz")
    assert plugin.recordings_root(_Config(tmp_path)) is None


def test_the_checkout_uses_its_fixtures_dir():
    assert plugin.checkout_root() == ROOT
    assert plugin.recordings_root(_Config(ROOT)) == FIXTURES


def _copy_repository(dest, fixtures):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", packed.ARCHIVE_NAME)
    shutil.copytree(ROOT / "src", dest / "src", ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(fixtures, dest / "fixtures")


def _offline_build_missing():
    """Why a wheel cannot be built here without the network (--no-build-isolation), or ''."""
    if importlib.util.find_spec("setuptools") is None:
        return "setuptools is not installed"
    from importlib.metadata import version

    major, minor = (int(p) for p in version("setuptools").split(".")[:2])
    if (major, minor) < (70, 1) and importlib.util.find_spec("wheel") is None:
        return f"setuptools {major}.{minor} needs the wheel package to build a wheel; it is not installed"
    return ""


@pytest.mark.skipif(bool(_offline_build_missing()), reason=_offline_build_missing() or "-")
def test_a_built_wheel_replays_its_packaged_recordings_with_no_checkout(small_fixtures, tmp_path):
    """Build a wheel (the build hook packs fixtures/), install it into a plain directory, and run
    `pytest --pyargs rnnparity.suite -m replay` from an unrelated directory: the packaged cases replay."""
    repo, wheels, site, elsewhere = (tmp_path / d for d in ("repo", "wheels", "site", "elsewhere"))
    _copy_repository(repo, small_fixtures)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(repo)],
                   check=True, capture_output=True, cwd=tmp_path)
    wheel, = wheels.glob("rnnparity-*.whl")
    assert f"rnnparity/{packed.ARCHIVE_NAME}" in zipfile.ZipFile(wheel).namelist()
    subprocess.run(pip + ["install", "--no-deps", "--target", str(site), str(wheel)], check=True,
                   capture_output=True, cwd=tmp_path)
    installed = site / "rnnparity" / packed.ARCHIVE_NAME
    assert [r.name for r in golden.open_recordings(installed)] == sorted(SAMPLE)
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    # -p no:rnnparity: an entry point of another rnnparity install (editable) is not loaded
    done = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "rnnparity.suite", "-m", "replay",
                           "-p", "no:rnnparity", "-p", "rnnparity.plugin", "-p", "no:cacheprovider"],
                          cwd=elsewhere, env=env, capture_output=True, text=True)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-2000:]
    # the header names the archive next to the plugin that ran: the installed copy, not the checkout
    assert f"replaying recordings from {installed} (packaged with rnnparity)" in out, out[:3000]
    assert f" {sum(SAMPLE.values())} passed" in out, out[-3000:]


def test_a_truncated_archive_is_a_clear_error(small_fixtures, tmp_path):
    archive = tmp_path / packed.ARCHIVE_NAME
    packed.pack(small_fixtures, archive)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    (rec, *_) = golden.open_recordings(archive)  # the manifests come first: still readable
    with pytest.raises(ValueError, match=f"{archive}: not a readable packed recordings archive"):
        rec.load(rec.case_ids[0])
    not_xz = small_fixtures / "keras3-3.15.1" / golden.MANIFEST
    with pytest.raises(ValueError, match=f"{not_xz}: not a readable packed recordings archive"):
        packed.Archive(not_xz).manifests  # noqa: B018 - reading is the point
