"""What a recurrent layer returns: each output's position, name, shape and dtype (`rp.explain`).

The module is not called `explain` so that `rnnparity.explain` stays the public function whatever
is imported first (a submodule import would rebind the package attribute).

    >>> rp.explain({"class": "LSTM", "config": {"units": 4, "return_sequences": True,
    ...             "return_state": True}}, (2, 5, 3))
    LSTM(units=4, return_sequences=True, return_state=True) on input (2, 5, 3) returns a tuple of 3:
      [0] whole sequence output (h at every step)   (2, 5, 4) float32
      [1] final h (memory state)                    (2, 4)    float32
      [2] final c (carry state)                     (2, 4)    float32
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from types import SimpleNamespace

from .plan import LayerSpec

STATE_DESCRIPTIONS = {
    "SimpleRNN": ("final h",),
    "GRU": ("final h",),
    "LSTM": ("final h (memory state)", "final c (carry state)"),
    **{f"ConvLSTM{r}D": ("final h (memory state)", "final c (carry state)") for r in (1, 2, 3)},
}
CONV_LSTM_RANKS = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}
MERGE_WORDS = {"concat": "concatenated", "sum": "summed", "mul": "multiplied", "ave": "averaged"}


# A cell's layer, for the names of its states
CELL_LAYERS = {"SimpleRNNCell": "SimpleRNN", "LSTMCell": "LSTM", "GRUCell": "GRU"}


@dataclass(frozen=True)
class OutputSpec:
    index: int
    name: str
    shape: tuple  # for a group of states (one stacked cell's, returned as a list): one shape each
    dtype: str
    parts: tuple = ()  # the names of a group's states, in order; empty for a single array

    def label(self) -> str:
        return f"output [{self.index}] = {self.name}"


@dataclass(frozen=True)
class Explanation:
    title: str
    container: str  # "array", "tuple" or "list"
    outputs: tuple
    notes: tuple = ()  # what the table cannot say: e.g. a sequence in processing (reversed) order

    def names(self):
        return [o.name for o in self.outputs]

    def __str__(self):
        what = "a single array" if self.container == "array" else f"a {self.container} of {len(self.outputs)}"
        width = max(len(o.name) for o in self.outputs) + 2
        lines = [f"{self.title} returns {what}:"]
        for o in self.outputs:
            lines.append(f"  [{o.index}] {o.name:<{width}} {str(o.shape):<16} {o.dtype}")
        lines += [textwrap.fill(n, 100, initial_indent="  note: ", subsequent_indent="        ")
                  for n in self.notes]
        return "\n".join(lines)


class Rejected(ValueError):
    """The framework refuses this configuration: there are no outputs to describe."""


# A registered framework bug that makes a configuration unusable (its first call raises), by key.
_BROKEN_BY_BUG = ("keras3-bidirectional-stateful-return-state",)


def _rejection(spec, dialect):
    """Why the framework of `dialect` refuses `spec` (checked against Keras 3.15.1 and tf_keras
    2.21, which accepts all three), or None. The same order as Keras 3: the layer's own arguments
    are checked first, at construction, then the wrapper's."""
    from .check.divergences import REGISTRY

    cls, config, wrapper = spec.cls, spec.config, spec.wrapper
    if cls in CONV_LSTM_RANKS:
        why = _conv_lstm_rejection(cls, config, dialect)
        if why is not None:
            return why
    if dialect != "keras3":
        return None
    if config.get("time_major"):
        return (f"Keras 3 rejects time_major=True: its recurrent layers have no time_major argument "
                f"(ValueError at construction: Unrecognized keyword arguments passed to {cls}: "
                f"{{'time_major': True}}); transpose the input to (batch, time, features) instead")
    if wrapper is not None and config.get("go_backwards"):
        return ("Keras 3 rejects Bidirectional around a go_backwards=True layer: it builds the backward "
                "copy with go_backwards=True whatever the layer says (ValueError at construction: "
                "Forward layer and backward layer should have different `go_backwards` value); Keras 2 "
                "flips the flag instead")
    as_case = SimpleNamespace(target="keras3", wrapper="none" if wrapper is None else "bidi",
                              return_sequences=bool(config.get("return_sequences")),
                              return_state=bool(config.get("return_state")),
                              go_backwards=bool(config.get("go_backwards")),
                              stateful=bool(config.get("stateful")), time_major=False,
                              unroll=bool(config.get("unroll")), mask="none")
    for d in REGISTRY:
        if d.key in _BROKEN_BY_BUG and d.matches(as_case):
            return (f"Keras 3 fails on the first call of this configuration (known framework bug "
                    f"[{d.key}]: {d.reason}); see rnnparity.check.divergences for the repro")
    return None


def _conv_tuple(value, rank):
    return (int(value),) * rank if isinstance(value, int) else tuple(int(v) for v in value)


def _conv_lstm_rejection(cls, config, dialect):
    """Why Keras refuses a ConvLSTM configuration (at construction or at its first call), or None."""
    from .reference.conv import PADDINGS
    from .reference.conv_lstm import DATA_FORMATS

    rank = CONV_LSTM_RANKS[cls]
    for key in ("kernel_size", "strides", "dilation_rate"):
        value = config.get(key, 1)
        if not isinstance(value, int) and len(tuple(value)) != rank:
            return (f"{cls} refuses {key}={tuple(value)} at construction: The `{key}` argument must be a "
                    f"tuple of {rank} integers")
        if min(_conv_tuple(value, rank)) < 1:  # accepted at construction, refused by the first call
            return f"{cls} refuses {key}={value!r} at the first call: every value must be >= 1"
    padding, data_format = str(config.get("padding", "valid")).lower(), config.get("data_format")
    if padding not in PADDINGS:
        return f"{cls} refuses padding={padding!r} at construction: it must be one of {PADDINGS}"
    if data_format is not None and str(data_format).lower() not in DATA_FORMATS:
        return f"{cls} refuses data_format={data_format!r} at construction: it must be one of {DATA_FORMATS}"
    strides = _conv_tuple(config.get("strides", 1), rank)
    dilation = _conv_tuple(config.get("dilation_rate", 1), rank)
    if max(strides) > 1 and max(dilation) > 1:
        when = "at construction" if dialect == "keras3" else "at the first call (construction accepts it)"
        return (f"{cls} refuses strides={strides} with dilation_rate={dilation} {when}: Specifying "
                f"`strides > 1` is not compatible with `dilation_rate > 1`")
    if config.get("unroll") and dialect == "keras2":
        return f"tf_keras refuses {cls}(unroll=True): Unrolling is not possible with convolutional RNNs"
    return None


def _conv_lstm_step_shape(cls, config, input_shape):
    """The shape of one output step (and of h and c) of a ConvLSTM on ``input_shape``, less the batch:
    (*out_spatial, filters), or (filters, *out_spatial) for channels_first."""
    from .reference.conv import output_length

    rank = CONV_LSTM_RANKS[cls]
    first = config.get("data_format") == "channels_first"
    if len(input_shape) != rank + 3:
        layout = "channels, *spatial" if first else "*spatial, channels"
        raise ValueError(f"explain: {cls} takes input_shape (batch, time, {layout}) of rank {rank + 3}, "
                         f"got {tuple(input_shape)}")
    spatial = input_shape[3:] if first else input_shape[2:-1]
    geometry = zip(spatial, _conv_tuple(config["kernel_size"], rank),
                   _conv_tuple(config.get("strides", 1), rank), _conv_tuple(config.get("dilation_rate", 1), rank))
    padding = str(config.get("padding", "valid")).lower()
    out = tuple(output_length(n, k, s, d, padding) for n, k, s, d in geometry)
    if min(out) < 1:
        raise Rejected(f"explain: {cls} with padding={padding!r}, kernel_size={config['kernel_size']!r}, "
                       f"dilation_rate={config.get('dilation_rate', 1)!r} does not fit the spatial shape "
                       f"{tuple(spatial)}: the output would be {out}")
    filters = int(config["filters"])
    return (filters, *out) if first else (*out, filters)


def _conv_lstm_shape_note(cls, config, input_shape, step):
    """How the input's spatial shape becomes the output's ``step`` shape (_conv_lstm_step_shape's; the
    shape question users ask most)."""
    from .reference.conv import same_padding, span

    rank = CONV_LSTM_RANKS[cls]
    first = config.get("data_format") == "channels_first"
    spatial = tuple(input_shape[3:] if first else input_shape[2:-1])
    kernel, strides, dilation = (_conv_tuple(config.get(k, d), rank) for k, d in
                                 (("kernel_size", None), ("strides", 1), ("dilation_rate", 1)))
    padding = str(config.get("padding", "valid")).lower()
    out = step[1:] if first else step[:-1]
    if padding == "same":
        pads = [same_padding(n, k, st, d) for n, k, st, d in zip(spatial, kernel, strides, dilation)]
        rule = (f"padding='same' keeps ceil(n / stride) positions per axis; TensorFlow pads (before, "
                f"after) = {', '.join(map(str, pads))} zeros (an odd total puts the extra zero at the end)")
    else:
        spans = [span(k, d) for k, d in zip(kernel, dilation)]
        rule = (f"padding='valid' keeps floor((n - span) / stride) + 1 positions per axis, span = "
                f"dilation_rate * (kernel_size - 1) + 1 = {', '.join(map(str, spans))}")
    layout = "(batch, time, channels, *spatial)" if first else "(batch, time, *spatial, channels)"
    return (f"spatial shape {spatial} -> {tuple(out)}: {rule}. The input is {layout} "
            f"(data_format={'channels_first' if first else 'channels_last'!r}); the recurrent convolution "
            f"is always 'same' with stride 1, so h, c and every output step have that spatial shape")


def _spec_from(layer_or_config):
    """A LayerSpec from a spec (or its JSON-form dict), a live Keras layer or a reference layer."""
    if isinstance(layer_or_config, LayerSpec):
        return layer_or_config
    if isinstance(layer_or_config, dict):
        if "class" in layer_or_config:
            return LayerSpec.from_dict(layer_or_config)
        raise ValueError("explain: a dict must be a layer spec {'class': 'LSTM', 'config': {...}, "
                         "'wrapper': None | {'merge_mode': ...}}")
    obj = layer_or_config
    if type(obj).__name__ == "Bidirectional":
        inner = _spec_from(obj.forward_layer)
        wrapper = {"merge_mode": obj.merge_mode}
        dtype = getattr(obj, "compute_dtype", None)
        if isinstance(dtype, str):  # Keras 3 casts the merged outputs to the wrapper's own dtype
            wrapper["dtype"] = dtype
        return inner.replace(wrapper=wrapper)
    if type(obj).__name__ == "RNN":
        return _rnn_spec_from(obj)
    config = obj.get_config()
    cls = type(obj).__name__
    if cls not in STATE_DESCRIPTIONS:
        raise ValueError(f"explain: {cls} is not a recurrent layer rnnparity models")
    dtype = getattr(obj, "compute_dtype", None) or config.get("dtype")
    return LayerSpec(cls, {**config, "dtype": dtype if isinstance(dtype, str) else "float32"})


def _rnn_spec_from(obj):
    """The spec of a live Keras RNN (or a reference RNN): its cells' classes and units."""
    cells = list(getattr(obj.cell, "cells", [obj.cell]))
    for c in cells:
        if type(c).__name__ not in CELL_LAYERS:
            raise ValueError(f"explain: RNN around {type(c).__name__}, which is not a built-in cell "
                             f"rnnparity models ({', '.join(CELL_LAYERS)})")
    config = {k: v for k, v in obj.get_config().items() if k != "cell"}
    dtype = getattr(obj, "compute_dtype", None) or config.get("dtype")
    config["dtype"] = dtype if isinstance(dtype, str) else "float32"
    return LayerSpec("RNN", config, tuple({"class": type(c).__name__, "config": {"units": int(c.units)}}
                                          for c in cells), stacked=hasattr(obj.cell, "cells"))


def _dialect_for(layer_or_config, dialect):
    """A live layer's own dialect (a tf_keras layer returns lists whatever the caller assumed);
    for a spec, the caller's (default keras3)."""
    if isinstance(layer_or_config, (dict, LayerSpec)):
        chosen = dialect or "keras3"
    else:
        if type(layer_or_config).__module__.startswith("rnnparity."):  # a reference layer
            own = layer_or_config.dialect
        else:
            from .keras_to_reference import dialect_of

            own = dialect_of(layer_or_config)
        if dialect is not None and dialect != own:
            raise ValueError(f"explain: dialect={dialect!r} was given for a {own} layer "
                             f"({type(layer_or_config).__module__}.{type(layer_or_config).__name__}); "
                             f"a live layer's dialect is its own: leave dialect out")
        chosen = own
    if chosen not in ("keras3", "keras2"):
        raise ValueError(f"explain: dialect must be 'keras3' or 'keras2', got {chosen!r}")
    return chosen


def _compute_dtype(dtype):
    """The dtype the outputs come in: a policy's compute dtype (mixed_float16 -> float16)."""
    from .reference.precision import POLICIES

    if not isinstance(dtype, str):
        return "float32"
    return POLICIES[dtype][1] if dtype in POLICIES else dtype


def _state_entries(spec, dialect, batch, step_shape):
    """(name, shape, parts) of each returned state entry of one direction: a state per entry, or for
    stacked cells one entry per cell (a list in Keras 3; in Keras 2 a bare array for a one-state cell).
    ``step_shape``: one output step less the batch ((units,), or a ConvLSTM's spatial shape)."""
    if spec.cls != "RNN":
        return [(s, (batch, *step_shape), ()) for s in STATE_DESCRIPTIONS[spec.cls]]
    cells = spec.cells
    if not spec.stacked:
        units = int(cells[0]["config"]["units"])
        return [(s, (batch, units), ()) for s in STATE_DESCRIPTIONS[CELL_LAYERS[cells[0]["class"]]]]
    entries = []
    for k, c in enumerate(cells):
        units, names = int(c["config"]["units"]), STATE_DESCRIPTIONS[CELL_LAYERS[c["class"]]]
        if dialect == "keras2" and len(names) == 1:
            entries.append((f"cell {k} ({c['class']}) {names[0]}", (batch, units), ()))
        else:
            entries.append((f"cell {k} ({c['class']}) states: list of " + ", ".join(names),
                            tuple((batch, units) for _ in names), tuple(names)))
    return entries


def explain(layer_or_config, input_shape, dialect=None) -> Explanation:
    """The outputs of a layer (a spec dict, a live Keras layer or a reference layer) on an input of
    `input_shape`, in order. Raises `Rejected` (a ValueError) where the framework refuses the
    configuration, saying why."""
    dialect = _dialect_for(layer_or_config, dialect)
    spec = _spec_from(layer_or_config)
    cls, config, wrapper = spec.cls, spec.config, spec.wrapper
    if cls not in STATE_DESCRIPTIONS and cls != "RNN":
        raise ValueError(f"explain: {cls} is not one of {sorted(STATE_DESCRIPTIONS) + ['RNN']}")
    if cls == "RNN" and any(c.get("class") not in CELL_LAYERS for c in spec.cells):
        raise ValueError(f"explain: an RNN spec's cells must be among {sorted(CELL_LAYERS)}")
    if len(input_shape) != 3 and cls not in CONV_LSTM_RANKS:
        raise ValueError(f"explain: input_shape must be (batch, time, features), got {input_shape}")
    why = _rejection(spec, dialect)
    if why is not None:
        raise Rejected(f"explain: {why}")
    shape_notes = ()
    if cls in CONV_LSTM_RANKS:
        step_shape = _conv_lstm_step_shape(cls, config, input_shape)
        units = step_shape[-1]
        shape_notes = (_conv_lstm_shape_note(cls, config, input_shape, step_shape),)
    else:
        units = int(config["units"]) if cls != "RNN" else int(spec.cells[-1]["config"]["units"])
        step_shape = (units,)
    rs, rst = bool(config.get("return_sequences")), bool(config.get("return_state"))
    go_backwards = bool(config.get("go_backwards"))
    time_major = bool(config.get("time_major"))
    dtype = _compute_dtype(spec.policy or config.get("dtype"))
    if time_major:
        steps, batch = input_shape[0], input_shape[1]
    else:
        batch, steps = input_shape[0], input_shape[1]
    seq_shape = (steps, batch, *step_shape) if time_major else (batch, steps, *step_shape)
    out_shape = seq_shape if rs else (batch, *step_shape)
    last = " of the last cell" if spec.stacked else ""
    what = (f"whole sequence output (h{last} at every step)" if rs
            else f"last output (h{last} at the last step)")
    states = _state_entries(spec, dialect, batch, step_shape)
    outputs = []
    if wrapper is None:
        outputs.append((what, out_shape, ()))
        outputs += states
    else:
        mode = wrapper.get("merge_mode", "concat")
        if mode is None:
            outputs.append((f"forward {what}", out_shape, ()))
            outputs.append((f"backward {what}" + (_BACKWARD_FLIP[go_backwards] if rs else ""), out_shape, ()))
        else:
            # concatenated on the last axis, whatever it holds (a channels_first ConvLSTM's last
            # spatial axis: Bidirectional concatenates on axis -1)
            merged = out_shape[:-1] + ((2 * units,) if mode == "concat" else (units,))
            outputs.append((f"{what}, forward and backward {MERGE_WORDS[mode]}", merged, ()))
        outputs += [(f"{d} {n}", shape, parts) for d in ("forward", "backward")
                    for n, shape, parts in states]
    # the outputs before the states: forward and backward apart under merge_mode=None, else one
    n_out = 2 if (wrapper is not None and wrapper.get("merge_mode", "concat") is None) else 1
    if not rst:
        outputs = outputs[:n_out]
    seq = "tuple" if dialect == "keras3" else "list"
    container = seq if len(outputs) > 1 else "array"
    # Keras 3 casts Bidirectional's outputs (not its states) to the wrapper's own dtype
    wrapper_dtype = _compute_dtype(spec.policy or (wrapper or {}).get("dtype", "float32"))
    out_dtype = wrapper_dtype if (wrapper is not None and dialect == "keras3") else dtype
    flags = ", ".join(([] if cls == "RNN" else _shape_arguments(cls, config, units))
                      + [f"{k}=True" for k in ("return_sequences", "return_state", "go_backwards",
                                               "stateful", "time_major") if config.get(k)])
    if cls == "RNN":
        cells = ", ".join(f"{c['class']}({c['config']['units']})" for c in spec.cells)
        cells = f"[{cells}]" if spec.stacked else cells
        title = f"RNN({', '.join(filter(None, (cells, flags)))})"
    else:
        title = f"{cls}({flags})"
    if wrapper is not None:
        title = f"Bidirectional({title}, merge_mode={wrapper.get('merge_mode', 'concat')!r})"
    title += f" on input {tuple(input_shape)}"
    return Explanation(title, container, tuple(OutputSpec(i, n, tuple(s), out_dtype if i < n_out else dtype,
                                                          tuple(p))
                                               for i, (n, s, p) in enumerate(outputs)),
                       shape_notes + _order_notes(go_backwards, rs, wrapper, time_major, n_out))


# the backward copy's sequence, which Bidirectional always flips along time: back to input order, or,
# around a go_backwards=True layer (Keras 2 runs the copy forwards), into reversed order
_BACKWARD_FLIP = {False: ", flipped back to input order",
                  True: ", flipped along time (into reversed order)"}


def _order_notes(go_backwards, rs, wrapper, time_major, n_out):
    """What go_backwards does to the order of the outputs (the table shows shapes, not order)."""
    if not go_backwards:
        return ()
    t = "0" if time_major else "1"
    first = "[0, ...]" if time_major else "[:, 0]"
    last_x = "x[-1]" if time_major else "x[:, -1]"
    seqs = " and ".join(f"[{i}]" for i in range(n_out))
    are = "is" if n_out == 1 else "are"
    if not rs and wrapper is None:
        return (f"go_backwards=True processes the steps last to first: {seqs} {are} the output after the "
                f"first input step, the last one processed",)
    if not rs:
        return (f"the forward layer (go_backwards=True) ends on the first input step, the backward copy "
                f"(which Keras 2 runs in input order) on the last one",)
    if wrapper is None:
        return (f"[0] is in processing order (reversed time): go_backwards=True processes the steps last "
                f"to first and Keras does not flip the sequence back, so [0]{first} is the output after "
                f"the last input step {last_x}; np.flip([0], axis={t}) puts it in input order",)
    return (f"{seqs} {are} in reversed time: the forward layer (go_backwards=True) returns its sequence in "
            f"processing order, and Bidirectional flips the backward copy's, which Keras 2 runs in input "
            f"order; np.flip(..., axis={t}) puts {'it' if n_out == 1 else 'them'} in input order",)


def _shape_arguments(cls, config, units):
    """The arguments that decide the output shape, for the title."""
    if cls not in CONV_LSTM_RANKS:
        return [f"units={units}"]
    rank = CONV_LSTM_RANKS[cls]
    words = [f"filters={int(config['filters'])}", f"kernel_size={_conv_tuple(config['kernel_size'], rank)}"]
    for key, default in (("strides", 1), ("dilation_rate", 1)):
        if max(_conv_tuple(config.get(key, default), rank)) > 1:
            words.append(f"{key}={_conv_tuple(config[key], rank)}")
    words.append(f"padding={str(config.get('padding', 'valid')).lower()!r}")
    if config.get("data_format") == "channels_first":
        words.append("data_format='channels_first'")
    return words


def return_table_markdown(input_shape=(2, 5, 3), units=4) -> str:
    """The table of docs/layer-returns.md: what each layer returns for every return_sequences x return_state."""
    rows = ["| layer | return_sequences | return_state | returns, in order (input (2, 5, 3), units=4) |",
            "|---|---|---|---|"]
    plain = "no wrapper"
    layers = [("LSTM", plain), ("GRU", plain), ("SimpleRNN", plain), ("LSTM", "concat"), ("LSTM", None),
              ("GRU", "sum")]
    for cls, merge in layers:
        for rs in (False, True):
            for rst in (False, True):
                spec = {"class": cls, "config": {"units": units, "return_sequences": rs, "return_state": rst}}
                name = cls
                if merge != plain:
                    spec["wrapper"] = {"merge_mode": merge}
                    name = f"Bidirectional({cls}, merge_mode={merge!r})"
                e = explain(spec, input_shape)
                cells = "<br>".join(f"[{o.index}] `{o.shape}` {o.name}" for o in e.outputs)
                rows.append(f"| {name} | {rs} | {rst} | {cells} |")
    return "\n".join(rows)
