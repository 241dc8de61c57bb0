"""The example models under examples/, in both dialects. The framework is the oracle throughout:
- every committed `.keras` and `.h5` file loads with its own framework's loader (safe mode on) and
  computes what the in-memory model computed when it was built and saved;
- every recurrent layer really receives what the catalog says: the mask (compared with the mask its
  origin layer computes), the initial states (compared with the tensors they come from), nothing when
  the catalog says nothing; on the sample inputs the mask changes what each masked layer computes;
- the stateful example carries its state from batch to batch, and resets;
- `build_examples.py` rebuilds the committed files (the full tier rebuilds every example)."""
from __future__ import annotations

import contextlib
import functools
import inspect
import json

import numpy as np
import pytest

from examples import build_examples, catalog
from rnnparity.plugin import selected_targets
from rnnparity.targets import registry

pytestmark = pytest.mark.live
TOL = dict(rtol=1e-5, atol=1e-6)  # bitwise equal on the stack that built them; other CPUs round differently


@pytest.fixture(autouse=True)
def _dialect_selected(request):
    dialect = request.node.callspec.params.get("dialect") if hasattr(request.node, "callspec") else None
    if dialect is None:
        return
    try:
        request.config.getoption("rnnparity_targets")
        targets = list(selected_targets(request.config))
    except ValueError:  # plugin not loaded
        targets = list(catalog.DIALECTS)
    if dialect not in targets:
        pytest.skip(f"target {dialect} not selected (--rnnparity-targets={','.join(targets)})")
    ok, why = registry.availability(dialect)
    if not ok:
        pytest.skip(why)


def _params(formats=catalog.FORMATS):
    for example in catalog.EXAMPLES:
        for dialect in example.dialects:
            for fmt in formats:
                note = catalog.KNOWN_LOAD_FAILURES.get((example.name, dialect, fmt))
                reason = f"{note}: {catalog.NOTES[note].split('. ')[0]}" if note else ""
                marks = [pytest.mark.xfail(strict=True, raises=ValueError, reason=reason)] if note else []
                yield pytest.param(example, dialect, fmt, id=f"{example.name}-{dialect}-{fmt}", marks=marks)


@functools.lru_cache(maxsize=None)
def _load(name, dialect, fmt):
    """The committed file, loaded as check-model should: safe mode, no compile (see NOTES)."""
    path = catalog.BUILT / catalog.get(name).file(dialect, fmt)
    assert path.is_file(), f"{path} is missing: run python examples/build_examples.py"
    K = build_examples.keras_module(dialect)
    return K.models.load_model(path, compile=False, safe_mode=True)


def _run(model, feed):
    out = model(feed if len(feed) > 1 else feed[0], training=False)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def _recorded(example, dialect, directory=catalog.BUILT):
    with np.load(directory / example.outputs_file(dialect)) as npz:
        return [npz[f"output_{i}"] for i in range(len(npz.files))]


@pytest.mark.parametrize("example, dialect, fmt", list(_params()))
def test_saved_file_computes_what_the_in_memory_model_computed(example, dialect, fmt):
    model = _load(example.name, dialect, fmt)
    got = build_examples.outputs(example, model, catalog.load_inputs(example))
    want = _recorded(example, dialect)
    assert len(got) == len(want), f"{len(got)} outputs, the in-memory model had {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, **TOL, strict=True, err_msg=f"output {i} of {example.file(dialect, fmt)}")


@pytest.mark.parametrize("dialect", ["keras3"])
@pytest.mark.xfail(strict=True, raises=ValueError, reason="keras3-h5-loss-alias: " + catalog.NOTES[
    "keras3-h5-loss-alias"].split(". ")[0])
def test_a_file_compiled_with_loss_mse_loads_compiled(dialect):
    """Why every test loads with compile=False (and check-model should): loss="mse" breaks the load."""
    path = catalog.BUILT / catalog.get("masked_series").file(dialect, "h5")
    build_examples.keras_module(dialect).models.load_model(path, safe_mode=True)


# ---- what each recurrent layer receives ------------------------------------------------------------

def _describe(layer):
    """The catalog's class string of a live layer: LSTM, Bidirectional(GRU), RNN(StackedRNNCells(...))."""
    cls = type(layer).__name__
    if cls == "Bidirectional":
        return f"Bidirectional({_describe(layer.forward_layer)})"
    if cls == "RNN":
        cell = layer.cell
        inner = ", ".join(type(c).__name__ for c in cell.cells) if type(cell).__name__ == "StackedRNNCells" else ""
        return f"RNN({type(cell).__name__}({inner}))" if inner else f"RNN({type(cell).__name__})"
    return cls


def _recurrent_layers(K, layers, inside=None):
    """{name: (wrapper name, layer)} for every recurrent layer, looking inside wrappers and models."""
    found = {}
    for layer in layers:
        if isinstance(layer, (K.layers.RNN, K.layers.Bidirectional)):
            found[layer.name] = (inside, layer)
        elif isinstance(layer, K.layers.TimeDistributed):
            found.update(_recurrent_layers(K, [layer.layer], layer.name))
        elif isinstance(layer, K.Model):
            found.update(_recurrent_layers(K, layer.layers, inside))
    return found


@contextlib.contextmanager
def _spying(layers):
    """Record the arguments of every call() of each layer, bound to call()'s own parameter names."""
    calls = {name: [] for name in layers}
    for name, layer in layers.items():
        original = layer.call
        signature = inspect.signature(original)

        def spy(*args, _original=original, _signature=signature, _calls=calls[name], **kwargs):
            _calls.append(_signature.bind(*args, **kwargs).arguments)
            return _original(*args, **kwargs)
        layer.call = spy
    try:
        yield calls
    finally:
        for layer in layers.values():
            del layer.call


def _received(arguments):
    """(inputs, mask, initial states) of one recorded call; tf_keras hands symbolic initial states
    over packed after the inputs, in one list."""
    inputs = next(iter(arguments.values()))
    states = arguments.get("initial_state")
    if isinstance(inputs, (list, tuple)):
        inputs, states = inputs[0], list(inputs[1:]) or states
    states = [] if states is None else list(states) if isinstance(states, (list, tuple)) else [states]
    mask = arguments.get("mask")
    return np.asarray(inputs), None if mask is None else np.asarray(mask), [np.asarray(s) for s in states]


def _run_submodel(K, model, tensor, feed):
    """`tensor`'s value on the model's inputs (a sub-model from model.inputs, which is a list)."""
    return np.asarray(K.Model(model.inputs, tensor)(list(feed), training=False))


def _tensor(K, model, ref, feed):
    """The value of `LAYER[i]` / `LAYER` on the model's inputs, through a sub-model."""
    name, _, index = ref.partition("[")
    out = model.get_layer(name).output
    out = out[int(index.rstrip("]"))] if index else out
    return _run_submodel(K, model, out, feed)


def _origin_mask(K, model, example, source, feed):
    """The mask the origin layer computes on these inputs (the framework's own compute_mask)."""
    kind, _, name = source.partition(":")
    if kind == "input":
        return feed[example.inputs.index(name)]
    layer = model.get_layer(name)
    assert (kind, type(layer).__name__) in {("embedding", "Embedding"), ("masking", "Masking")}, source
    assert kind != "embedding" or layer.mask_zero, f"{name} does not mask zero"
    layer_in = _run_submodel(K, model, layer.input, feed)
    if kind == "embedding":
        assert 0 <= layer_in.min() and layer_in.max() < layer.input_dim, f"ids outside {name}'s vocabulary"
    return np.asarray(layer.compute_mask(layer_in))


def _assert_padded_both_ways(mask, source):
    """The sample rows a mask covers: full rows, right-padded rows and left-padded rows."""
    rows = {"full": mask.all(axis=1), "right-padded": mask[:, 0] & ~mask[:, -1], "left-padded": ~mask[:, 0]}
    missing = [kind for kind, present in rows.items() if not present.any()]
    assert not missing, f"the sample inputs behind {source} have no {', '.join(missing)} row"


@pytest.mark.parametrize("example, dialect, fmt", list(_params()))
def test_each_recurrent_layer_receives_what_the_catalog_says(example, dialect, fmt):
    K = build_examples.keras_module(dialect)
    model = _load(example.name, dialect, fmt)
    live = _recurrent_layers(K, model.layers)
    assert sorted(live) == sorted(r.name for r in example.recurrent), "the catalog misses recurrent layers"
    for r in example.recurrent:
        inside, layer = live[r.name]
        assert (_describe(layer), inside, bool(getattr(layer, "stateful", False))) == (r.cls, r.inside, r.stateful)
        for via in r.mask_via:  # a layer passes its mask on only with return_sequences
            entry = next(v for v in example.recurrent if v.name == via)
            assert live[via][1].return_sequences and entry.mask == r.mask, f"{r.name}'s mask via {via}"
    build_examples.reset_states(model)
    for feed in catalog.batches(example, catalog.load_inputs(example)):
        with _spying({r.name: live[r.name][1] for r in example.recurrent}) as calls:
            _run(model, feed)
        for r in example.recurrent:
            # inside TimeDistributed, Keras 3 calls the layer once per outer step, tf_keras once in all
            assert calls[r.name] and (r.inside or len(calls[r.name]) == 1), f"{r.name}: {len(calls[r.name])} calls"
            for arguments in calls[r.name]:
                x, mask, states = _received(arguments)
                source = r.mask_in(dialect)
                if source is None:
                    assert mask is None, f"{r.name} got a mask; the catalog says none in {dialect}"
                else:
                    assert mask is not None, f"{r.name} got no mask; the catalog says {source}"
                    origin = _origin_mask(K, model, example, source, feed)
                    np.testing.assert_array_equal(mask, origin, err_msg=f"{r.name}'s mask is not {source}'s")
                    _assert_padded_both_ways(origin, source)
                want = [_tensor(K, model, ref, feed) for ref in r.initial_state]
                assert len(states) == len(want), f"{r.name}: {len(states)} initial states, catalog {r.initial_state}"
                for got, ref, w in zip(states, r.initial_state, want):
                    np.testing.assert_allclose(got, w, rtol=0, atol=1e-6, err_msg=f"{r.name}'s state from {ref}")


def _masked_layers():
    for example in catalog.EXAMPLES:
        for dialect in example.dialects:
            for r in example.recurrent:
                if r.mask_in(dialect) and not r.stateful:
                    yield pytest.param(example, dialect, r, id=f"{example.name}-{dialect}-{r.name}")


@pytest.mark.parametrize("example, dialect, layer_entry", list(_masked_layers()))
def test_the_mask_changes_what_each_masked_layer_computes(example, dialect, layer_entry):
    """On the sample inputs, leaving a layer's mask out changes its outputs by more than 0.01: a check
    that drops the mask fails on these examples."""
    K = build_examples.keras_module(dialect)
    model = _load(example.name, dialect, "keras")
    layer = _recurrent_layers(K, model.layers)[layer_entry.name][1]
    with _spying({layer.name: layer}) as calls:
        _run(model, catalog.load_inputs(example))
    x, mask, states = _received(calls[layer.name][0])
    masked, unmasked = (_run_layer(layer, x, mask=m, initial_state=states) for m in (mask, None))
    gap = max(float(np.max(np.abs(a - b))) for a, b in zip(masked, unmasked))
    assert gap > 0.01, f"{layer.name}: masked and unmasked outputs differ by only {gap:.3g}"


def _run_layer(layer, x, mask=None, initial_state=None):
    import tensorflow as tf  # tf_keras takes initial states as tensors only

    kwargs = {"initial_state": [tf.convert_to_tensor(s) for s in initial_state]} if initial_state else {}
    out = layer(tf.convert_to_tensor(x), mask=None if mask is None else tf.convert_to_tensor(mask), **kwargs)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize("dialect", catalog.DIALECTS)
def test_the_stateful_example_carries_its_state_and_resets(dialect):
    example = catalog.get("stateful_char_gru")
    model = _load(example.name, dialect, "keras")
    first, second = catalog.batches(example, catalog.load_inputs(example))[:2]
    build_examples.reset_states(model)
    carried = [_run(model, first), _run(model, second)]
    build_examples.reset_states(model)
    fresh = _run(model, second)[0]
    assert np.max(np.abs(carried[1][0] - fresh)) > 0.01, "the second batch does not depend on the first"
    build_examples.reset_states(model)
    np.testing.assert_array_equal(_run(model, first)[0], carried[0][0], err_msg="reset_states did not reset")


# ---- the build script ------------------------------------------------------------------------------

def _rebuild_params():
    for dialect in catalog.DIALECTS:
        yield pytest.param(dialect, ("stateful_char_gru",), id=f"{dialect}-stateful_char_gru")
        yield pytest.param(dialect, tuple(e.name for e in catalog.EXAMPLES), id=f"{dialect}-all",
                           marks=pytest.mark.full)


@pytest.mark.parametrize("dialect, names", list(_rebuild_params()))
def test_the_build_script_rebuilds_the_committed_files(tmp_path, request, dialect, names):
    if "full" in request.node.keywords and request.config.getoption("rnnparity_tier") != "full":
        pytest.skip("rebuilding every example takes a minute: run with --rnnparity-tier=full")
    assert build_examples.main(["--out", str(tmp_path), "--dialect", dialect, "--only", *names]) == 0
    examples = [catalog.get(n) for n in names]
    expected = {f for e in examples for f in e.files if dialect in f or f == e.inputs_file} | {"manifest.json"}
    assert {p.name for p in tmp_path.iterdir()} == expected  # no temporary file or directory left behind
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert set(manifest["build_seconds"][dialect]) == set(names)
    for example in examples:
        for i, (new, old) in enumerate(zip(_recorded(example, dialect, tmp_path), _recorded(example, dialect))):
            # seeded: bitwise equal on the stack that built the committed files
            np.testing.assert_allclose(new, old, rtol=1e-4, atol=1e-5, err_msg=f"{example.name} output {i}")
        with np.load(tmp_path / example.inputs_file) as new, np.load(catalog.BUILT / example.inputs_file) as old:
            assert new.files == old.files and all(np.array_equal(new[k], old[k]) for k in new.files)

