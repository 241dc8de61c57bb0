"""Find the recurrent layers of a live Keras model and capture what each one really receives.

A recurrent layer is any instance of the framework's RNN base (SimpleRNN, LSTM, GRU, RNN(cell),
ConvLSTM, user subclasses) or of Bidirectional, reached through the model's layers: nested models,
TimeDistributed, the attributes of a subclassed model. Each one's `call` is wrapped for the duration
of a `capturing` block: Keras 3 and tf_keras resolve the mask (from the input's `_keras_mask` unless
one is given) and split initial states from the inputs in `__call__`, so `call` sees exactly the
inputs, mask and initial states the layer computes on. The wrappers are removed when the block ends,
also on error. Nothing here imports a framework.
"""
from __future__ import annotations

import contextlib
import inspect
import re
from dataclasses import dataclass, field

import numpy as np

from ..keras_to_reference import framework_dialect
from ..plan import Call
from ..targets.keras_adapter import to_numpy

RECURRENT_BASES = ("RNN", "Bidirectional")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def one_line(exc) -> str:
    """The informative first line of an exception (Keras 3 wraps errors in call context)."""
    for line in _ANSI.sub("", str(exc)).splitlines():
        line = line.strip()
        if line and not line.startswith(("Exception encountered when calling", "Arguments received by",
                                         "Traceback", "Call arguments received")):
            return line[:300]
    return type(exc).__name__


def _keras_classes(obj):
    return [c.__name__ for c in type(obj).__mro__ if framework_dialect(c) is not None]


def is_recurrent(layer) -> bool:
    return any(name in RECURRENT_BASES for name in _keras_classes(layer))


def is_model(layer) -> bool:
    return any(name in ("Functional", "Sequential", "Model") for name in _keras_classes(layer))


@dataclass
class Found:
    """A recurrent layer of the model: its path of names ('encoder/lstm') and its wrapper, if any."""
    name: str
    layer: object
    wrapper: str | None = None  # "TimeDistributed" when the layer runs inside one
    parents: tuple = ()  # the nested models enclosing it (not the model itself), outermost first

    @property
    def cls(self) -> str:
        own = type(self.layer).__name__
        if own == "Bidirectional":
            own = f"Bidirectional({type(self.layer.forward_layer).__name__})"
        elif own == "RNN" and hasattr(self.layer, "cell"):
            cells = getattr(self.layer.cell, "cells", None)
            own = (f"RNN([{', '.join(type(c).__name__ for c in cells)}])" if cells is not None
                   else f"RNN({type(self.layer.cell).__name__})")
        return f"{self.wrapper}({own})" if self.wrapper else own


def children(layer):
    if "TimeDistributed" in _keras_classes(layer) or "Wrapper" in _keras_classes(layer):
        return [layer.layer]
    flatten = getattr(layer, "_flatten_layers", None)
    if flatten is not None:
        return list(flatten(include_self=False, recursive=False))
    return list(getattr(layer, "layers", []))


def recurrent_layers(model) -> list[Found]:
    """Every recurrent layer reachable from the model, in the model's layer order."""
    found, seen = [], set()

    def visit(layer, prefix, wrapper, parents):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if is_recurrent(layer):
            found.append(Found(f"{prefix}{layer.name}", layer, wrapper, parents))
            return
        kinds = _keras_classes(layer)
        inner_wrapper = "TimeDistributed" if "TimeDistributed" in kinds else wrapper
        nested = prefix if layer is model else (
            f"{prefix}{layer.name}/" if is_model(layer) or "TimeDistributed" in kinds else prefix)
        inner_parents = parents + (layer,) if is_model(layer) and layer is not model else parents
        for child in children(layer):
            visit(child, nested, inner_wrapper, inner_parents)

    visit(model, "", None, ())
    return found


# -- capture -----------------------------------------------------------------------------------
@dataclass
class Captured:
    """What one recurrent layer received and returned, call by call."""
    found: Found
    calls: list = field(default_factory=list)  # data.Call: x, mask, initial_state as NumPy
    outputs: list = field(default_factory=list)  # what call returned, NumPy, same structure
    mask_carried: list = field(default_factory=list)  # per call: the input tensor carried a mask
    unsupported: str | None = None  # an argument the reference cannot take (constants=...)
    error: BaseException | None = None  # what the layer's own call raised (its call is the last)
    resets: list = field(default_factory=list)  # call counts at which its states were reset


def _numpy(value, what, name):
    try:
        return np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - symbolic tensors cannot become arrays
        raise ValueError(f"layer {name!r} was called on a symbolic {what} ({type(value).__name__}); "
                         f"check a model that runs eagerly (not inside tf.function)") from exc


def _numpy_tree(value, what, name):
    """Nested lists of tensors (a stacked cell's states, one list per cell) as nested lists."""
    if isinstance(value, (list, tuple)):
        return [_numpy_tree(v, what, name) for v in value]
    return _numpy(value, what, name)


def _arguments(signature, args, kwargs):
    """(inputs, mask, initial_state, constants) of one call, however they were passed."""
    try:
        bound = signature.bind_partial(*args, **kwargs).arguments
    except TypeError:
        bound = dict(kwargs)
    names = list(signature.parameters)
    x = bound.get(names[0]) if names and names[0] in bound else (args[0] if args else None)
    mask, states = bound.get("mask"), bound.get("initial_state")
    constants = bound.get("constants")
    if isinstance(x, (list, tuple)):  # tf_keras: [x, *initial_states] when the states are tensors
        if states is None and len(x) > 1:
            states = list(x[1:])
        x = x[0]
    if isinstance(mask, (list, tuple)):  # one mask per input: the sequence's comes first
        mask = mask[0]
    return x, mask, states, constants


def _wrap(entry: Captured, label):
    layer = entry.found.layer
    original = layer.call
    signature = inspect.signature(original)
    name = entry.found.name

    def call(*args, **kwargs):
        x, mask, states, constants = _arguments(signature, args, kwargs)
        if constants is not None:
            entry.unsupported = f"{name!r} is called with constants=, which the reference does not model"
        xa = _numpy(x, "input", name)
        ma = None if mask is None else _numpy(mask, "mask", name).astype(bool)
        if states is not None and not isinstance(states, (list, tuple)):
            states = [states]
        sa = None if states is None else [_numpy_tree(s, "initial state", name) for s in states]
        entry.calls.append(Call(xa, ma, sa, label(entry)))
        entry.mask_carried.append(getattr(x, "_keras_mask", None) is not None)
        try:
            out = original(*args, **kwargs)
        except BaseException as exc:
            entry.error = exc
            raise
        entry.outputs.append(to_numpy(out))
        return out

    return call


@contextlib.contextmanager
def capturing(found: list[Found], label):
    """Wrap each found layer's `call` (``label(entry) -> str`` names each call); yields the
    Captured entries in the order of ``found``. The layers' own `call` is restored on exit."""
    entries, restore = [Captured(f) for f in found], []
    try:
        for entry in entries:
            layer = entry.found.layer
            had = "call" in vars(layer)
            previous = vars(layer).get("call")
            vars(layer)["call"] = _wrap(entry, label)  # not setattr: Keras' __setattr__ tracks attributes
            restore.append((layer, had, previous))
        yield entries
    finally:
        for layer, had, previous in reversed(restore):
            if had:
                vars(layer)["call"] = previous
            else:
                vars(layer).pop("call", None)


# -- where a mask comes from -------------------------------------------------------------------
def node_arguments(node):
    """(positional args, keyword args) a layer was called with in its model's graph."""
    arguments = getattr(node, "arguments", None)  # Keras 3
    if arguments is not None:
        return list(arguments.args), dict(arguments.kwargs)
    return list(getattr(node, "call_args", ())), dict(getattr(node, "call_kwargs", {}) or {})


def _history(tensor):
    history = getattr(tensor, "_keras_history", None)
    return (history[0], history[1], history[2]) if history is not None else None


def _first_tensor(args):
    first = args[0] if args else None
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    return first


def _explicit_mask(args, kwargs):
    """The mask tensor a graph node was given explicitly, or None. Keras 3 also records a mask it
    propagated in the node's kwargs: the input's own `_keras_mask`, or, in a model loaded from a
    file, the output of the op (not a layer) that computed it, e.g. Embedding's `not_equal`."""
    mask = kwargs.get("mask")
    if mask is None or getattr(_first_tensor(args), "_keras_mask", None) is mask:
        return None
    history = _history(mask)
    if history is not None and "Layer" not in _keras_classes(history[0]):
        return None
    return mask


def _describe_producer(tensor):
    history = _history(tensor)
    if history is None:
        return "a tensor"
    layer = history[0]
    kind = "input" if type(layer).__name__ == "InputLayer" else type(layer).__name__
    return f"{kind} {layer.name!r}"


def _outer_tensor(model, node, producer):
    """The tensor fed, in ``node`` (the model's call in the enclosing graph), to the model's input
    whose InputLayer is ``producer``; None if it is not one of the model's inputs."""
    inputs = list(getattr(model, "inputs", None) or [])
    for position, tensor in enumerate(inputs):
        if _history(tensor) is not None and _history(tensor)[0] is producer:
            fed = [t for t in _flat_tensors(node_arguments(node)[0])]
            return fed[position] if position < len(fed) else None
    return None


def _flat_tensors(value):
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _flat_tensors(item)]
    return [value]


def graph_mask_origin(layer, parents=()):
    """Where the mask of the layer's first call in its model's graph comes from, or None when the
    graph says nothing (no graph: a subclassed model; or no mask-making layer upstream).
    ``parents``: the nested models enclosing the layer, outermost first; the walk leaves a nested
    model through its inputs into the enclosing graph, and enters one through its outputs."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if not nodes:
        return None
    args, kwargs = node_arguments(nodes[0])
    if _explicit_mask(args, kwargs) is not None:
        return f"explicit mask= from {_describe_producer(kwargs['mask'])}"
    # (model, its node in the enclosing graph) for each nested model the walk is inside
    inside = [(m, (getattr(m, "_inbound_nodes", None) or [None])[0]) for m in parents]
    tensor, via = _first_tensor(args), []
    for _ in range(1000):
        history = _history(tensor)
        if history is None:
            return None
        producer, node_index, tensor_index = history
        kind = type(producer).__name__
        if kind == "Embedding" and getattr(producer, "mask_zero", False):
            origin = f"Embedding {producer.name!r} (mask_zero)"
            break
        if kind == "Masking":
            origin = f"Masking {producer.name!r} (mask_value={producer.mask_value:g})"
            break
        if kind == "InputLayer":
            if not inside or inside[-1][1] is None:
                return None
            model, node = inside.pop()
            tensor = _outer_tensor(model, node, producer)
            continue
        nodes = getattr(producer, "_inbound_nodes", None) or []
        if node_index >= len(nodes):
            return None
        if is_model(producer) and getattr(producer, "outputs", None):
            inside.append((producer, nodes[node_index]))
            tensor = producer.outputs[tensor_index]
            continue
        pargs, pkwargs = node_arguments(nodes[node_index])
        if _explicit_mask(pargs, pkwargs) is not None:
            origin = f"explicit mask= of {producer.name!r}, from {_describe_producer(pkwargs['mask'])}"
            break
        if is_recurrent(producer):
            via.append("/".join([m.name for m, _ in inside] + [producer.name]))
        tensor = _first_tensor(pargs)
    else:
        return None
    return origin + (f", via {', '.join(repr(v) for v in reversed(via))}" if via else "")


def mask_source(entry: Captured) -> str:
    """The row's mask source: what the capture saw, named from the graph where it can be."""
    if not entry.calls:
        return "not called"
    given = [c.mask is not None for c in entry.calls]
    if not any(given):
        if any(entry.mask_carried):
            return "none (the mask its input carries is not passed)"
        return "none"
    origin = graph_mask_origin(entry.found.layer, entry.found.parents)
    if origin is None:
        origin = ("a propagated Keras mask (no graph to trace it in)" if any(entry.mask_carried)
                  else "a mask given to the call")
    return origin if all(given) else f"{origin} (in {sum(given)} of {len(given)} calls)"
