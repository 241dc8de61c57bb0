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

    @property
    def precision(self) -> str | None:
        """The dtype the tolerance table is read for (None under a mixed policy: no dtype given)."""
        return self.config.get("dtype")

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


TF1_SPEC_CLASS = "tf1"  # the "class" of a Tf1Spec's JSON form


@dataclass(frozen=True)
class Tf1Spec:
    """A `tf.compat.v1.nn` call as a recording stores it (JSON through `to_dict` / `from_dict`):
    ``function`` ("static_rnn", "dynamic_rnn", "static_bidirectional_rnn",
    "bidirectional_dynamic_rnn") over legacy cells built from ``cell``, ``{"class": "LSTMCell",
    "config": {TF constructor kwargs}}`` (the bidirectional functions: two cells of that spec, forward
    then backward), in ``dtype``, with ``time_major`` as the dynamic functions take it.

    A run of it is one `Call`: x as the function takes it (one array; the static functions get it
    unstacked along time), ``sequence_length``, and ``initial_state`` a list of state parts per cell
    in TF's order ((c, h) for LSTM cells) or None (then ``dtype`` is passed instead, as TF needs)."""
    function: str
    cell: dict
    dtype: str = "float32"
    time_major: bool = False

    @property
    def precision(self) -> str:
        return self.dtype

    def to_dict(self) -> dict:
        return {"class": TF1_SPEC_CLASS, "function": self.function, "cell": self.cell,
                "dtype": self.dtype, "time_major": self.time_major}

    @classmethod
    def from_dict(cls, spec) -> "Tf1Spec":
        if isinstance(spec, Tf1Spec):
            return spec
        if spec.get("class") != TF1_SPEC_CLASS:
            raise ValueError(f"not a tf1 spec: class {spec.get('class')!r}")
        return cls(spec["function"], {"class": spec["cell"]["class"], "config": dict(spec["cell"]["config"])},
                   spec["dtype"], bool(spec["time_major"]))


def spec_from_dict(spec):
    """A LayerSpec or a Tf1Spec from its JSON form (a spec object is returned as it is)."""
    if isinstance(spec, (LayerSpec, Tf1Spec)):
        return spec
    return (Tf1Spec if spec.get("class") == TF1_SPEC_CLASS else LayerSpec).from_dict(spec)


# -- the plan --------------------------------------------------------------------------------------
@dataclass
class Call:
    x: np.ndarray
    mask: np.ndarray | None = None
    initial_state: list | None = None
    label: str = ""
    sequence_length: np.ndarray | None = None  # TF1 functions only (a Keras layer takes a mask)

    def arguments(self) -> dict:
        """The keyword arguments of the call (``sequence_length`` only where it is given)."""
        kwargs = {"mask": self.mask, "initial_state": self.initial_state}
        if self.sequence_length is not None:
            kwargs["sequence_length"] = self.sequence_length
        return kwargs


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
    spec: LayerSpec | Tf1Spec
    plan: Plan
    weights: list | None
    outcome: Outcome
    dialect: str
    time_axis: int = 1
    layer: object = None  # the live (source) layer (not serialised)
    rounding: object = None  # the rounding verdict, when the case needed one (not serialised)
    verdict: object = None  # the check's verdict (check/verdict.py), once judged (not serialised)
    info: dict = field(default_factory=dict)  # how it ran (ops, kernel, converter); JSON-serialisable


def error_tuple(index, exc) -> tuple:
    text = str(exc).strip()
    return (index, type(exc).__name__, text.splitlines()[0][:300] if text else "")
