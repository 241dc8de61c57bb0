"""Every target rnnparity knows, found and imported lazily (importing rnnparity never imports TF).

A target is one module under rnnparity/targets/ exposing ``ADAPTER`` (a targets.base.Target).
Nothing here imports a framework: availability is decided from the import system's metadata.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class TargetInfo:
    module: str        # the module defining ADAPTER
    requires: tuple    # top-level modules that must be importable
    install: str       # what to install when one is missing
    dialect: str       # the Keras semantics its reference follows
    default: bool      # selected by default even when not installed (then reported as not installed)
    matrix: str = "keras"  # the case matrix it runs: "keras" (matrix/cases.py) or "tf1" (matrix/tf1_cases.py)
    # the grid it runs in the default tier ("runtime", "default_no_stateful_t100": matrix/tiers.py)
    default_tier: str = "default"
    auto: bool = True  # selected by default whenever it is installed (False: too slow; named explicitly)
    # "module:function" returning why a non-Python requirement is missing (None: present); it must
    # only look at files (tfjs: node on PATH and the npm packages installed)
    missing: str = ""


_TF = 'pip install "rnnparity[tf]"'
TARGETS = {
    "keras3": TargetInfo("rnnparity.targets.keras3", ("tensorflow", "keras"),
                         f"{_TF} (tensorflow + keras 3)", "keras3", True),
    "tf_keras": TargetInfo("rnnparity.targets.tf_keras", ("tensorflow", "tf_keras"),
                           f"{_TF} (tf-keras)", "keras2", True),
    "tf1": TargetInfo("rnnparity.targets.tf1", ("tensorflow", "tf_keras"),
                      f"{_TF} (tensorflow + tf-keras legacy cells)", "keras2", True, "tf1"),
    "tflite": TargetInfo("rnnparity.targets.tflite", ("tensorflow", "keras"), _TF, "keras3", True,
                         default_tier="runtime"),
    # Keras 3 on another backend, each in a worker process (targets/keras3_backend.py). Keras 3.15's
    # numpy backend imports jax (keras/src/backend/numpy/nn.py, math.py; keras-team/keras#20966).
    "keras3-numpy": TargetInfo("rnnparity.targets.keras3_numpy", ("keras", "jax"),
                               'pip install keras "jax[cpu]" (Keras 3\'s numpy backend imports jax)',
                               "keras3", False),
    "keras3-jax": TargetInfo("rnnparity.targets.keras3_jax", ("keras", "jax"),
                             'pip install keras "jax[cpu]"', "keras3", False, auto=False),
    # keras3-torch and torch: selected whenever torch is installed (the `torch` extra pins the CPU
    # build CI installs); their default tier costs about 160 and 90 CPU-s (torch 2.13.0)
    "keras3-torch": TargetInfo("rnnparity.targets.keras3_torch", ("keras", "torch"),
                               'pip install "rnnparity[torch]" (keras + torch 2.13.0)', "keras3", False),
    # Keras 3 on its openvino backend (inference only), in a worker process. Only when named: the
    # backend unrolls a sequence of known length step by step (keras/src/backend/openvino/rnn.py) and
    # OpenVINO compiles the unrolled graph at each call (T=100: 30-60 s a call, measured in
    # targets/keras3_openvino_eval.py). Its default tier leaves out the stateful T=100 cases (six
    # such calls each; the full tier runs them), and its worker waits up to 20 minutes for a case.
    "keras3-openvino": TargetInfo("rnnparity.targets.keras3_openvino", ("keras", "openvino"),
                                  'pip install "rnnparity[openvino]"', "keras3", False, auto=False,
                                  default_tier="default_no_stateful_t100"),
    "onnx": TargetInfo("rnnparity.targets.onnx", ("tensorflow", "keras", "tf2onnx", "onnxruntime"),
                       'pip install "rnnparity[onnx]"', "keras3", True, default_tier="runtime"),
    # the Keras 3 layer converted for the OpenVINO runtime (SavedModel + openvino.convert_model), on its CPU
    "openvino": TargetInfo("rnnparity.targets.openvino", ("tensorflow", "keras", "openvino"),
                           'pip install "rnnparity[openvino]"', "keras3", False, default_tier="runtime"),
    # Keras 3 layers ported to torch.nn (rnnparity.port.torch)
    "torch": TargetInfo("rnnparity.targets.torch", ("tensorflow", "keras", "torch"),
                        'pip install "rnnparity[torch]" (torch + tensorflow + keras 3)', "keras3", False),
    # TensorFlow.js layers in a node worker (targets/tfjs.py); the npm packages by `rnnparity install-tfjs`
    "tfjs": TargetInfo("rnnparity.targets.tfjs", ("tensorflow", "keras"),
                       f'{_TF}, Node.js, then `rnnparity install-tfjs` (the pinned TensorFlow.js npm packages)',
                       "keras3", False, default_tier="runtime",  # selected whenever installed (CI installs it)
                       missing="rnnparity.targets.tfjs_install:missing"),
}


def keras2_module() -> str:
    """Where Keras 2 lives: the `tf_keras` package, or, with TF <= 2.15 (no tf_keras), the `keras` 2.x
    package that TF bundles as tf.keras. Decided from metadata, without importing anything."""
    from importlib import metadata

    if importlib.util.find_spec("tf_keras") is not None:
        return "tf_keras"
    try:
        if metadata.version("keras").startswith("2."):
            return "keras"
    except metadata.PackageNotFoundError:
        pass
    return "tf_keras"


def info(target: str) -> TargetInfo:
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: expected one of {', '.join(TARGETS)}")
    return TARGETS[target]


def dialect(target: str) -> str:
    return info(target).dialect


def availability(target: str) -> tuple[bool, str]:
    """(available, reason): whether the target's framework can be imported here, without importing it."""
    requires = [keras2_module() if m == "tf_keras" else m for m in info(target).requires]
    missing = []
    for module in requires:
        try:
            if importlib.util.find_spec(module) is None:
                missing.append(module)
        except (ImportError, ValueError):
            missing.append(module)
    if missing:
        return False, f"target {target}: {', '.join(missing)} not installed; {info(target).install}"
    if info(target).missing:
        module, _, function = info(target).missing.partition(":")
        reason = getattr(importlib.import_module(module), function)()
        if reason:
            return False, f"target {target}: {reason}"
    return True, ""


def default_targets() -> tuple:
    """What runs when no target is named: the framework targets (reported as not installed when
    they are not), and each other target that is installed."""
    return tuple(t for t, i in TARGETS.items() if i.default or (i.auto and availability(t)[0]))


def keras_targets() -> tuple:
    """The targets that run the Keras case matrix (every one but tf1)."""
    return tuple(t for t, i in TARGETS.items() if i.matrix == "keras")


def target_of(case_id: str) -> str | None:
    """The target a case id ends with (targets may contain hyphens: keras3-numpy), or None."""
    for t in sorted(TARGETS, key=len, reverse=True):
        if case_id.endswith("-" + t):
            return t
    return None


def cannot_express(case) -> str | None:
    """What the case's target cannot express in it (named), or None. Imports the target's module,
    which imports no framework until it runs something."""
    return importlib.import_module(info(case.target).module).ADAPTER.cannot_express(case)


def get(target: str):
    """The target object (imports its framework)."""
    ok, reason = availability(target)
    if not ok:
        raise ImportError(reason)
    return importlib.import_module(info(target).module).ADAPTER
