"""`rnnparity install-tfjs [--dir DIR]`: install the tfjs target's pinned npm packages (npm ci of the
lock file shipped in rnnparity/targets/tfjs_worker/) into a cache directory. Idempotent."""
from __future__ import annotations

import sys


def cmd_install_tfjs(args):
    from ..targets.tfjs_install import TfjsInstallError, install_tfjs

    try:
        where = install_tfjs(args.dir)
    except TfjsInstallError as exc:
        print(f"rnnparity install-tfjs: {exc}", file=sys.stderr)
        return 1
    print(f"TensorFlow.js packages installed in {where}")
    return 0


def add_parser(sub):
    from ..targets.tfjs_install import ENV_DIR

    t = sub.add_parser("install-tfjs", help="install the TensorFlow.js packages the tfjs target runs "
                       "(npm ci of a pinned lock file into a cache directory; needs node and npm)")
    t.add_argument("--dir", help=f"install here (default: ${ENV_DIR}, else ~/.cache/rnnparity/tfjs-<lock hash>)")
    t.set_defaults(func=cmd_install_tfjs)
