"""The typed core below everything that runs: what a layer is (`LayerSpec`), what is done to it
(`Plan` of `Call`s and `Reset`s, with seeded weights), and what came of it (`Recording`, `Outcome`).

targets/ run a plan on an oracle and return a Recording; matrix/ and model/ make specs and plans;
check/ runs the reference through the same plan and judges; golden/ stores Recordings. All of them
import from here, and this module imports nothing of rnnparity.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

WEIGHT_SCALE = 0.6  # uniform(-0.6, 0.6): every gate and unit different, activations unsaturated


# -- the layer -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerSpec:
    """A recurrent layer as a recording stores it (JSON through `to_dict` / `from_dict`).

    - ``cls``: "SimpleRNN" | "LSTM" | "GRU" | "RNN" (the generic RNN around built-in cells);
    - ``config``: the constructor kwargs (with "dtype" unless ``policy`` is set);
    - ``cells``: for "RNN", one ``{"class": "LSTMCell", "config": {...}}`` per cell;
    - ``stacked``: RNN([cell, ...]) (a StackedRNNCells) rather than RNN(cell);
    - ``wrapper``: None, or a Bidirectional: ``{"merge_mode": ..., "dtype": optional (the wrapper's
      own dtype, float32 unless given), "backward_config": optional}``;
    - ``policy``: a dtype policy name (e.g. "mixed_float16") given to the layer, its cells and its
      wrapper alike, as `keras.mixed_precision.set_global_policy` would (the configs then hold no dtype).
    """
    cls: str
    config: dict
    cells: tuple = ()
    stacked: bool = False
    wrapper: dict | None = None
    policy: str | None = None

    @property
    def dtype(self) -> str:
        """The layer's own dtype (its variables' dtype under a mixed policy: float32)."""
        return self.config.get("dtype", "float32")

    def replace(self, **changes) -> "LayerSpec":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        spec = {"class": self.cls, "config": self.config, "wrapper": self.wrapper}
        if self.cls == "RNN":
            spec.update(cells=list(self.cells), stacked=self.stacked)
        if self.policy:
            spec["policy"] = self.policy
        return spec

    @classmethod
    def from_dict(cls, spec) -> "LayerSpec":
        """From the JSON form (or a LayerSpec, returned as it is). KeyError/TypeError if malformed."""
        if isinstance(spec, LayerSpec):
            return spec
        return cls(spec["class"], dict(spec.get("config") or {}), tuple(spec.get("cells") or ()),
                   bool(spec.get("stacked")), spec.get("wrapper"), spec.get("policy"))


# -- the plan --------------------------------------------------------------------------------------
@dataclass
class Call:
    x: np.ndarray
    mask: np.ndarray | None = None
    initial_state: list | None = None
    label: str = ""


@dataclass
class Reset:
    label: str = "reset_states()"


@dataclass
class Plan:
    steps: list = field(default_factory=list)
    # indices (into the list of calls) whose outputs must equal each other:
    # (chunked calls, whole call) for the stateful chunking check
    chunk_check: tuple | None = None

    @property
    def calls(self):
        return [s for s in self.steps if isinstance(s, Call)]


def seeded_weights(shapes, seed, dtype="float32"):
    """Uniform(-0.6, 0.6) arrays for the given shapes: different for every gate and unit."""
    rng = np.random.RandomState(seed ^ 0x5EED)
    return [rng.uniform(-WEIGHT_SCALE, WEIGHT_SCALE, size=tuple(s)).astype(dtype) for s in shapes]


# -- what came of it -------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What running a plan produced: one output structure per call, or an error at some step."""
    outputs: list = field(default_factory=list)
    error: tuple | None = None  # (step index, exception type name, message); index -1: at build


@dataclass
class Recording:
    case_id: str
    spec: LayerSpec
    plan: Plan
    weights: list | None
    outcome: Outcome
    dialect: str
    time_axis: int = 1
    layer: object = None  # the live (source) layer (not serialised)
    rounding: object = None  # the rounding verdict, when the case needed one (not serialised)
    info: dict = field(default_factory=dict)  # how it ran (ops, kernel, converter); JSON-serialisable


def error_tuple(index, exc) -> tuple:
    text = str(exc).strip()
    return (index, type(exc).__name__, text.splitlines()[0][:300] if text else "")
