"""Build hook (the metadata is in pyproject.toml): a wheel ships the recordings of fixtures/ as one
solid archive, rnnparity/recordings.tar.xz (see src/rnnparity/golden/packed.py), so that an installed
`pytest --pyargs rnnparity` replays them. fixtures/ stays the one copy in the repository: the archive
is made at build time, into the build tree (a wheel) or the release tree (an sdist, which then needs
no fixtures/ to build its wheel). An editable install uses the checkout's fixtures/ directly."""
import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
FIXTURES = ROOT / "fixtures"


def _packed():
    # by path: importing the rnnparity package needs NumPy, which the build environment lacks
    spec = importlib.util.spec_from_file_location("_rnnparity_packed", ROOT / "src" / "rnnparity" / "golden" / "packed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pack(dest_package_dir):
    packed = _packed()
    out = Path(dest_package_dir) / packed.ARCHIVE_NAME
    stats = packed.pack(FIXTURES, out)
    print(f"rnnparity: packed {stats['cases']} cases of {stats['recordings']} recordings into {out} "
          f"({stats['bytes'] / 1e6:.1f} MB)")


class BuildPyWithRecordings(build_py):
    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False) and FIXTURES.is_dir():
            _pack(Path(self.build_lib) / "rnnparity")
        # else: an sdist's archive is already package data (copied by super().run())


class SdistWithRecordings(sdist):
    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        _pack(Path(base_dir) / "src" / "rnnparity")


setup(cmdclass={"build_py": BuildPyWithRecordings, "sdist": SdistWithRecordings})
