"""A standalone repro script for a finding: only the framework (keras or tf_keras, TensorFlow) and
NumPy, no rnnparity, fit to paste into an upstream bug report.

The script embeds the exact layer configuration, the weights, every call's inputs / mask / initial
states (np.savez bytes in base64) and the outputs of rnnparity's NumPy reference ("an independent
reference"). It builds the layer as rnnparity's Keras targets do, runs the same calls and resets,
and prints the framework's outputs against the reference's, then framework-only twins that show the
surprise without rnnparity: the same layer in float32 (for a float64 layer: equal to it means the
float64 layer computed in float32), stacked cells wrapped in StackedRNNCells(cells, dtype=...) (the
wrapper's own dtype policy), an unrolled layer with unroll=False, and the other Keras (keras3 <->
tf_keras) where it is installed.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import numpy as np

from . import space


def _pack(tree, prefix, arrays):
    """Nested lists/tuples of arrays -> the same structure of keys into ``arrays``."""
    if tree is None:
        return None
    if isinstance(tree, (list, tuple)):
        return [_pack(t, f"{prefix}_{i}", arrays) for i, t in enumerate(tree)]
    arrays[prefix] = np.asarray(tree)
    return prefix


def reference_outputs(rec):
    """The reference's outputs for the recording's plan (None where it raised)."""
    from ..check.runner import reference_factory
    from ..targets.base import execute

    try:
        ref = reference_factory(rec)()
    except Exception:  # noqa: BLE001 - a refusing reference: the script shows the framework alone
        return None
    outcome = execute(lambda s: ref(s.x, **s.arguments()),
                      getattr(ref, "reset_states", lambda: None), rec.plan)
    return outcome.outputs


def script(result) -> str:
    """The repro script's text for a finding (a run.Result with its recording; without one, the
    verdict itself crashed: a script that runs the configuration through rnnparity again)."""
    from ..plan import Call

    config, rec = result.config, result.recording
    if rec is None:
        return VERDICT_CRASH_TEMPLATE.format(
            detail=result.detail.replace('"""', "'''").replace("\\", "\\\\"),
            config=json.dumps(config, indent=1, sort_keys=True))
    arrays = {}
    weights = _pack(list(rec.weights or []), "w", arrays)
    plan = []
    for k, step in enumerate(rec.plan.steps):
        if isinstance(step, Call):
            plan.append({"label": step.label, "x": _pack(step.x, f"x{k}", arrays),
                         "mask": _pack(step.mask, f"m{k}", arrays),
                         "initial_state": _pack(step.initial_state, f"s{k}", arrays)})
        else:
            plan.append("reset")
    expected = reference_outputs(rec)
    expected = None if expected is None else _pack(list(expected), "ref", arrays)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    data = base64.b64encode(buffer.getvalue()).decode()
    data = "\n".join(data[i:i + 100] for i in range(0, len(data), 100))
    spec = rec.spec.to_dict()
    header = (f"Standalone repro written by `rnnparity explore` (needs only {_needs(config)} and NumPy).\n\n"
              f"finding: {result.outcome}: {result.detail}\n"
              f"configuration: {space.describe(config)}\n\n"
              "What rnnparity's verdict said:\n" + _indent(result.report or result.detail))
    return TEMPLATE.format(
        header=header.replace('"""', "'''").replace("\\", "\\\\"), target=config["target"],
        spec=json.dumps(spec, indent=1), plan=json.dumps(plan), weights=json.dumps(weights),
        expected=json.dumps(expected), input_shape=tuple(space.input_shape(config)),
        compiled_from=500, data=data)


def _needs(config) -> str:
    return "keras 3 (TensorFlow backend)" if config["target"] == "keras3" else "tf_keras"


def _indent(text) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def write(result, out_dir) -> Path:
    """Write ``repro_<hash>.py`` under ``out_dir`` (the hash of the configuration) and return it."""
    digest = hashlib.sha1(json.dumps(result.config, sort_keys=True).encode()).hexdigest()[:10]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"repro_{digest}.py"
    path.write_text(script(result))
    return path


VERDICT_CRASH_TEMPLATE = r'''"""Written by `rnnparity explore`: rnnparity's own verdict crashed on this configuration (a
bug in rnnparity, not in the framework), so this script needs rnnparity: it runs the configuration
again and prints the outcome and the traceback.

{detail}
"""
import json

from rnnparity.explore import run

CONFIG = json.loads("""{config}""")

if __name__ == "__main__":
    result = run.run_config(CONFIG)
    print(result.outcome, result.detail)
    print(result.report)
'''


TEMPLATE = r'''"""{header}
"""
import base64
import io
import json
import os
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

TARGET = "{target}"
SPEC = json.loads("""{spec}""")
INPUT_SHAPE = {input_shape}
PLAN = json.loads("""{plan}""")
WEIGHTS = json.loads("""{weights}""")
# the outputs of an independent NumPy reference of the same layer (rnnparity's), per call
EXPECTED = json.loads("""{expected}""")
DATA = np.load(io.BytesIO(base64.b64decode("""
{data}
""")))
COMPILED_FROM_STEPS = {compiled_from}  # from this many steps the calls run in a tf.function


def arrays(keys):
    if keys is None:
        return None
    if isinstance(keys, list):
        return [arrays(k) for k in keys]
    return DATA[keys]


def keras_module(target):
    if target == "keras3":
        import keras
        return keras
    import tf_keras
    return tf_keras


def build(K, spec, stacked_dtype=None):
    """The layer, as `SPEC` says: class and config, RNN cells (a list: stacked), a Bidirectional
    wrapper (merge mode, its own dtype, a backward layer), a dtype policy for every part."""
    layers = K.layers
    policy = {{"dtype": spec["policy"]}} if spec.get("policy") else {{}}
    if spec["class"] == "RNN":
        cells = [getattr(layers, c["class"])(**c["config"], **policy) for c in spec["cells"]]
        if spec["stacked"] and stacked_dtype is not None:
            cell = layers.StackedRNNCells(cells, dtype=stacked_dtype)
        else:
            cell = cells if spec["stacked"] else cells[0]
        inner = layers.RNN(cell, **spec["config"], **policy)
    else:
        inner = getattr(layers, spec["class"])(**spec["config"], **policy)
    wrapper = spec.get("wrapper")
    if wrapper is None:
        return inner
    kwargs = {{"merge_mode": wrapper.get("merge_mode", "concat"), **policy}}
    if wrapper.get("dtype") is not None:
        kwargs["dtype"] = wrapper["dtype"]
    if wrapper.get("backward_config") is not None:
        kwargs["backward_layer"] = getattr(layers, spec["class"])(**wrapper["backward_config"], **policy)
    return layers.Bidirectional(inner, **kwargs)


def to_numpy(out):
    if isinstance(out, (list, tuple)):
        return [to_numpy(o) for o in out]
    return np.asarray(out)


def run(target, spec, cast=None, stacked_dtype=None):
    """Build, set the weights, run every call and reset of the plan; the outputs of each call."""
    import tensorflow as tf

    K = keras_module(target)
    cast = cast or (lambda a: a)
    layer = build(K, spec, stacked_dtype)
    layer.build(INPUT_SHAPE)
    layer.set_weights([cast(w) for w in arrays(WEIGHTS)])
    outputs = []
    for step in PLAN:
        if step == "reset":
            (getattr(layer, "reset_states", None) or layer.reset_state)()
            continue
        kwargs = {{}}
        if step["mask"] is not None:
            kwargs["mask"] = tf.convert_to_tensor(arrays(step["mask"]))
        if step["initial_state"] is not None:
            kwargs["initial_state"] = nested(lambda a: tf.convert_to_tensor(cast(a)),
                                             arrays(step["initial_state"]))
        x = tf.convert_to_tensor(cast(arrays(step["x"])))
        if x.shape[1] >= COMPILED_FROM_STEPS:
            out = tf.function(lambda x, kw: layer(x, training=False, **kw))(x, kwargs)
        else:
            out = layer(x, training=False, **kwargs)
        outputs.append(to_numpy(out))
    return outputs


def nested(fn, tree):
    return [nested(fn, t) for t in tree] if isinstance(tree, list) else fn(tree)


def leaves(tree, name="output"):
    if isinstance(tree, list):
        return [leaf for i, t in enumerate(tree) for leaf in leaves(t, f"{{name}}[{{i}}]")]
    return [(name, np.asarray(tree))]


def compare(title, a_outputs, b_outputs):
    """Per call and output: max abs and max rel difference, and the first differing time step."""
    print(f"\n{{title}}")
    for k, (a, b) in enumerate(zip(a_outputs, b_outputs)):
        names_a, names_b = [n for n, _ in leaves(a)], [n for n, _ in leaves(b)]
        if names_a != names_b:
            print(f"  call {{k + 1}}: the structures differ: {{names_a}} vs {{names_b}}")
        for (name, x), (_, y) in zip(leaves(a), leaves(b)):
            if x.shape != y.shape:
                print(f"  call {{k + 1}} {{name}}: shapes differ {{x.shape}} vs {{y.shape}}")
                continue
            x64, y64 = x.astype(np.float64), y.astype(np.float64)
            finite = np.isfinite(x64) & np.isfinite(y64)
            d = np.where(finite, np.abs(x64 - y64), 0.0)
            rel = d / np.maximum(np.abs(np.where(finite, y64, 1.0)), 1e-300)
            where = ""
            # a sequence, (batch, time, ...): the first step where they differ by more than rounding
            # (1000 ulp of the coarser dtype)
            eps = max(np.finfo(a.dtype).eps if a.dtype.kind == "f" else 0.0 for a in (x, y))
            beyond = d > 1000 * eps * np.maximum(1.0, np.abs(np.where(finite, y64, 0.0)))
            if x.ndim == len(INPUT_SHAPE) and beyond.any():
                per_step = beyond.any(axis=tuple(a for a in range(d.ndim) if a != 1))
                where = f", first differing step t={{int(np.argmax(per_step))}} (beyond 1000 ulp)"
            odd = int((~finite).sum())
            if odd:
                where += (f"; {{odd}} element(s) not finite on either side (first {{x64[~finite][0]}} "
                          f"vs {{y64[~finite][0]}})")
            print(f"  call {{k + 1}} {{name}} ({{x.dtype}} vs {{y.dtype}}, shape {{x.shape}}): max abs "
                  f"{{d.max() if d.size else 0:.3g}}, max rel {{rel.max() if rel.size else 0:.3g}}{{where}}")


def retyped(spec, old, new):
    """The spec with every dtype `old` replaced by `new` (layer, cells, wrapper, backward layer)."""
    text = json.dumps(spec).replace(f'"dtype": "{{old}}"', f'"dtype": "{{new}}"')
    return json.loads(text)


def attempt(title, fn):
    try:
        return fn()
    except Exception as exc:  # the error is the observation
        print(f"\n{{title}} raised {{type(exc).__name__}}: {{str(exc).strip()[:2000]}}")
        traceback.print_exc(limit=3)
        return None


def main():
    K = keras_module(TARGET)
    print(f"{{K.__name__}} {{getattr(K, '__version__', '?')}}; numpy {{np.__version__}}")
    print("layer:", json.dumps(SPEC))
    got = attempt(f"the layer ({{TARGET}})", lambda: run(TARGET, SPEC))
    if got is not None:
        for k, out in enumerate(got):
            print(f"call {{k + 1}}: " + ", ".join(f"{{n}} {{a.dtype}}{{list(a.shape)}}" for n, a in leaves(out)))
        if EXPECTED is not None:
            compare("the framework vs an independent NumPy reference of the same layer (rnnparity's):",
                    got, arrays(EXPECTED))
    dtypes = json.dumps(SPEC)
    if got is not None and '"float64"' in dtypes:
        low = attempt("the same layer in float32",
                      lambda: run(TARGET, retyped(SPEC, "float64", "float32"),
                                  cast=lambda a: a.astype(np.float32) if a.dtype == np.float64 else a))
        if low is not None:
            compare("the float64 layer vs the same layer in float32 (tiny here while the reference "
                    "differs = the float64 layer computed in float32):", got, low)
    if got is not None and SPEC["class"] == "RNN" and SPEC.get("stacked"):
        dtype = SPEC["config"].get("dtype") or SPEC.get("policy")
        if dtype:
            own = attempt("StackedRNNCells(cells, dtype=...)", lambda: run(TARGET, SPEC, stacked_dtype=dtype))
            if own is not None:
                compare(f"the layer vs the same cells wrapped in StackedRNNCells(cells, dtype={{dtype!r}}):",
                        got, own)
                if EXPECTED is not None:
                    compare(f"StackedRNNCells(cells, dtype={{dtype!r}}) vs the NumPy reference:", own,
                            arrays(EXPECTED))
    if got is not None and SPEC["config"].get("unroll"):
        rolled = json.loads(json.dumps(SPEC))
        rolled["config"]["unroll"] = False
        loop = attempt("the same layer with unroll=False", lambda: run(TARGET, rolled))
        if loop is not None:
            compare("unroll=True vs unroll=False (the same maths: structures and values should match):",
                    got, loop)
    other = "tf_keras" if TARGET == "keras3" else "keras3"
    try:
        keras_module(other)
    except ImportError:
        return
    theirs = attempt(f"the same layer in {{other}}", lambda: run(other, SPEC))
    if got is None and theirs is not None:
        print(f"\nthe same layer in {{other}} runs: " + "; ".join(
            ", ".join(f"{{n}} {{a.dtype}}{{list(a.shape)}}" for n, a in leaves(out)) for out in theirs))
    if got is not None and theirs is not None:
        defaults = ("; a ConvLSTM's default recurrent_activation is sigmoid in Keras 3, hard_sigmoid in "
                    "tf_keras" if SPEC["class"].startswith("ConvLSTM") else "")
        compare(f"{{TARGET}} vs {{other}} (the same configuration and weights; hard_sigmoid means different "
                f"functions in the two{{defaults}}):", got, theirs)


if __name__ == "__main__":
    main()
'''
