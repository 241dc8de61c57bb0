"""Install and find the npm packages of the `tfjs` target (TensorFlow.js layers, pure JS).

The worker (targets/tfjs_worker/worker.js) ships with the package, beside a package.json and a
package-lock.json that pin every npm package exactly. `install_tfjs()` runs `npm ci` of that lock
file into a cache directory named after the lock file's hash, so a new lock installs beside the old
one and an installed cache is never half-written (npm runs in a temporary directory, renamed into
place when it succeeded):

    ~/.cache/rnnparity/tfjs-<first 12 hex digits of sha256(package-lock.json)>/node_modules/...

RNNPARITY_TFJS_DIR names another directory (used as is, not hashed). Nothing here imports a
framework; `installed_dir()` only looks at files, so target availability stays cheap.
`@tensorflow/tfjs-node` (a native binary downloaded at install) is not used: the cpu backend is
pure JS. npm runs with --ignore-scripts: no package of the lock needs an install script.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

WORKER_DIR = Path(__file__).resolve().parent / "tfjs_worker"
LOCK = WORKER_DIR / "package-lock.json"
MANIFEST = WORKER_DIR / "package.json"
ENV_DIR = "RNNPARITY_TFJS_DIR"
# present once npm ci succeeded: the union package's Node bundle (what the worker requires)
MARKER = Path("node_modules") / "@tensorflow" / "tfjs" / "dist" / "tf.node.js"
INSTALL_COMMAND = "rnnparity install-tfjs"


class TfjsInstallError(RuntimeError):
    """node or npm missing, or npm ci failed."""


def lock_hash() -> str:
    return hashlib.sha256(LOCK.read_bytes()).hexdigest()[:12]


def cache_dir(cache_dir=None) -> Path:
    """Where the packages are (or will be) installed: ``cache_dir``, else $RNNPARITY_TFJS_DIR, else
    ~/.cache/rnnparity/tfjs-<lock hash> ($XDG_CACHE_HOME respected)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "rnnparity" / f"tfjs-{lock_hash()}"


def node_executable() -> str | None:
    return shutil.which("node")


def installed_dir(cache_dir_=None) -> Path | None:
    """The installed cache directory, or None (only files are looked at)."""
    where = cache_dir(cache_dir_)
    return where if (where / MARKER).is_file() else None


def missing() -> str | None:
    """Why the tfjs target cannot run here (node missing, packages not installed), or None."""
    if node_executable() is None:
        return "node (Node.js >= 18) not found on PATH; install Node.js, then run " + INSTALL_COMMAND
    if installed_dir() is None:
        return f"TensorFlow.js npm packages not installed in {cache_dir()}; run {INSTALL_COMMAND}"
    return None


def install_tfjs(cache_dir_=None, quiet=False) -> Path:
    """`npm ci` of the pinned lock file into the cache directory; returns it. Idempotent: an
    installed cache is returned untouched. Raises TfjsInstallError naming what is missing or what
    npm said."""
    target = cache_dir(cache_dir_)
    if (target / MARKER).is_file():
        return target
    if node_executable() is None:
        raise TfjsInstallError("the tfjs target needs Node.js: `node` is not on PATH (install Node.js >= 18)")
    npm = shutil.which("npm")
    if npm is None:
        raise TfjsInstallError("the tfjs target needs npm (it comes with Node.js): `npm` is not on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        shutil.copy2(MANIFEST, staging / "package.json")
        shutil.copy2(LOCK, staging / "package-lock.json")
        done = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=staging,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            raise TfjsInstallError(f"npm ci failed (exit {done.returncode}) in {staging}:\n"
                                   + done.stdout[-3000:])
        if not (staging / MARKER).is_file():
            raise TfjsInstallError(f"npm ci succeeded but {MARKER} is missing in {staging}")
        if not quiet:
            print(done.stdout.strip())
        if target.exists():  # an incomplete earlier attempt (no marker): replace it
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
