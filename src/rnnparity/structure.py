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

from dataclasses import dataclass

STATE_DESCRIPTIONS = {
    "SimpleRNN": ("final h",),
    "GRU": ("final h",),
    "LSTM": ("final h (memory state)", "final c (carry state)"),
}
MERGE_WORDS = {"concat": "concatenated", "sum": "summed", "mul": "multiplied", "ave": "averaged"}


@dataclass(frozen=True)
class OutputSpec:
    index: int
    name: str
    shape: tuple
    dtype: str

    def label(self) -> str:
        return f"output [{self.index}] = {self.name}"


@dataclass(frozen=True)
class Explanation:
    title: str
    container: str  # "array", "tuple" or "list"
    outputs: tuple

    def names(self):
        return [o.name for o in self.outputs]

    def __str__(self):
        what = "a single array" if self.container == "array" else f"a {self.container} of {len(self.outputs)}"
        width = max(len(o.name) for o in self.outputs) + 2
        lines = [f"{self.title} returns {what}:"]
        for o in self.outputs:
            lines.append(f"  [{o.index}] {o.name:<{width}} {str(o.shape):<16} {o.dtype}")
        return "\n".join(lines)


def _spec_from(layer_or_config):
    """Accept a layer spec dict, a live Keras layer or a rnnparity reference layer."""
    if isinstance(layer_or_config, dict):
        if "class" in layer_or_config:
            return layer_or_config
        raise ValueError("explain: a dict must be a layer spec {'class': 'LSTM', 'config': {...}, "
                         "'wrapper': None | {'merge_mode': ...}}")
    obj = layer_or_config
    if type(obj).__name__ == "Bidirectional":
        inner = _spec_from(obj.forward_layer)
        return {**inner, "wrapper": {"merge_mode": obj.merge_mode}}
    config = obj.get_config()
    cls = type(obj).__name__
    if cls not in STATE_DESCRIPTIONS:
        raise ValueError(f"explain: {cls} is not a recurrent layer rnnparity models")
    dtype = getattr(obj, "compute_dtype", None) or config.get("dtype")
    return {"class": cls, "config": {**config, "dtype": dtype if isinstance(dtype, str) else "float32"}}


def explain(layer_or_config, input_shape, dialect="keras3") -> Explanation:
    spec = _spec_from(layer_or_config)
    cls, config, wrapper = spec["class"], spec.get("config", {}), spec.get("wrapper")
    if cls not in STATE_DESCRIPTIONS:
        raise ValueError(f"explain: {cls} is not one of {sorted(STATE_DESCRIPTIONS)}")
    if len(input_shape) != 3:
        raise ValueError(f"explain: input_shape must be (batch, time, features), got {input_shape}")
    units = int(config["units"])
    rs, rst = bool(config.get("return_sequences")), bool(config.get("return_state"))
    time_major = bool(config.get("time_major"))
    dtype = config.get("dtype") if isinstance(config.get("dtype"), str) else "float32"
    if time_major:
        steps, batch = input_shape[0], input_shape[1]
    else:
        batch, steps = input_shape[0], input_shape[1]
    seq_shape = (steps, batch, units) if time_major else (batch, steps, units)
    out_shape = seq_shape if rs else (batch, units)
    what = "whole sequence output (h at every step)" if rs else "last output (h at the last step)"
    states = STATE_DESCRIPTIONS[cls]
    outputs = []
    if wrapper is None:
        outputs.append((what, out_shape))
        outputs += [(s, (batch, units)) for s in states]
    else:
        mode = wrapper.get("merge_mode", "concat")
        if mode is None:
            outputs.append((f"forward {what}", out_shape))
            outputs.append((f"backward {what}" + (", flipped back to input order" if rs else ""), out_shape))
        else:
            merged = out_shape[:-1] + ((2 * units,) if mode == "concat" else (units,))
            outputs.append((f"{what}, forward and backward {MERGE_WORDS[mode]}", merged))
        outputs += [(f"{d} {s}", (batch, units)) for d in ("forward", "backward") for s in states]
    # the outputs before the states: forward and backward apart under merge_mode=None, else one
    n_out = 2 if (wrapper is not None and wrapper.get("merge_mode", "concat") is None) else 1
    if not rst:
        outputs = outputs[:n_out]
    seq = "tuple" if dialect == "keras3" else "list"
    container = seq if len(outputs) > 1 else "array"
    # Keras 3 casts Bidirectional's outputs (not its states) to the wrapper's own dtype
    out_dtype = wrapper.get("dtype", "float32") if (wrapper is not None and dialect == "keras3") else dtype
    flags = ", ".join([f"units={units}"] + [f"{k}=True" for k in
                                             ("return_sequences", "return_state", "go_backwards", "stateful", "time_major")
                                             if config.get(k)])
    title = f"{cls}({flags})"
    if wrapper is not None:
        title = f"Bidirectional({title}, merge_mode={wrapper.get('merge_mode', 'concat')!r})"
    title += f" on input {tuple(input_shape)}"
    return Explanation(title, container, tuple(OutputSpec(i, n, tuple(s), out_dtype if i < n_out else dtype)
                                               for i, (n, s) in enumerate(outputs)))


def return_table_markdown(input_shape=(2, 5, 3), units=4) -> str:
    """The README table: what each layer returns for every return_sequences x return_state."""
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
