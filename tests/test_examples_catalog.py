"""The examples' catalog, data and committed files, without a framework: every example has a builder
and data, every reference in the catalog names a layer of the same example, the committed sample
inputs are what data.py makes, and examples/built/ holds exactly the files the catalog lists (the
manifest's sizes included). What the layers receive is checked live in test_examples.py."""
from __future__ import annotations

import json

import numpy as np
import pytest

from examples import architectures, catalog, data, sizes


def test_every_example_has_a_builder_and_training_data():
    names = [e.name for e in catalog.EXAMPLES]
    assert len(names) == len(set(names)) >= 5
    assert sorted(architectures.BUILDERS) == sorted(names)  # architectures imports no framework itself
    for name in names:
        inputs, targets = data.training_data(name)
        assert list(inputs) == list(catalog.get(name).inputs) and len(targets) == sizes.TRAIN_ROWS, name


@pytest.mark.parametrize("example", catalog.EXAMPLES, ids=lambda e: e.name)
def test_catalog_references_name_layers_of_the_same_example(example):
    recurrent = {r.name: r for r in example.recurrent}
    assert len(recurrent) == len(example.recurrent), "duplicate layer names"
    for r in example.recurrent:
        assert set(r.drops_mask) <= set(example.dialects)
        assert r.mask is None or r.mask.partition(":")[0] in {"embedding", "masking", "input"}, r.mask
        if r.mask and r.mask.startswith("input:"):
            assert r.mask.partition(":")[2] in example.inputs
        for via in r.mask_via:
            assert via in recurrent and recurrent[via].mask == r.mask, f"{r.name}: mask via {via}"
    assert example.follows and example.url.startswith("https://")
    if any(r.stateful for r in example.recurrent):
        assert example.batch_size is not None and example.batches >= 3  # 3 batches, then a reset


@pytest.mark.parametrize("example", catalog.EXAMPLES, ids=lambda e: e.name)
def test_committed_sample_inputs_are_what_data_makes(example):
    made = data.sample_inputs(example.name)
    saved = catalog.load_inputs(example)
    assert list(made) == list(example.inputs)
    rows = (example.batch_size * example.batches) if example.batch_size else sizes.SAMPLE_ROWS
    for name, array in zip(example.inputs, saved):
        np.testing.assert_array_equal(array, made[name], strict=True, err_msg=name)
        assert array.shape[0] == rows, f"{name}: {array.shape[0]} rows, expected {rows}"
    assert [len(b[0]) for b in catalog.batches(example, saved)] == [example.batch_size or rows] * example.batches


def test_built_holds_exactly_the_catalogued_files_and_the_manifest_is_current():
    listed = {f for e in catalog.EXAMPLES for f in e.files}
    present = {p.name for p in catalog.BUILT.iterdir()}
    assert present == listed | {"manifest.json"}, "run python examples/build_examples.py"
    manifest = json.loads((catalog.BUILT / "manifest.json").read_text())
    assert manifest["files"] == {f: (catalog.BUILT / f).stat().st_size for f in sorted(listed)}
    assert set(manifest["examples"]) == set(catalog.BY_NAME)


def test_bad_names_are_refused_naming_what_is_expected():
    with pytest.raises(ValueError, match=r"unknown example 'nope': expected one of \['hierarchical_rnn'"):
        catalog.get("nope")
    with pytest.raises(ValueError, match=r"nmt_bigru: no file for dialect='keras2', format='h5'"):
        catalog.get("nmt_bigru").file("keras2", "h5")


@pytest.mark.parametrize("example", catalog.EXAMPLES, ids=lambda e: e.name)
def test_each_file_names_the_keras_that_wrote_it(example):
    """A loader must pick the framework from the file: neither dialect loads the other's files. The
    version is in metadata.json of a .keras zip and in the root attributes of a .h5."""
    import zipfile

    h5py = pytest.importorskip("h5py", reason="h5py (a TensorFlow dependency) reads the .h5 attributes")
    versions = json.loads((catalog.BUILT / "manifest.json").read_text())["versions"]
    for dialect, module in (("keras3", "keras"), ("tf_keras", "tf_keras")):
        with zipfile.ZipFile(catalog.BUILT / example.file(dialect, "keras")) as z:
            in_keras = json.loads(z.read("metadata.json"))["keras_version"]
        with h5py.File(catalog.BUILT / example.file(dialect, "h5"), "r") as f:
            in_h5 = f.attrs["keras_version"]
        assert in_keras == in_h5 == versions[module], (dialect, in_keras, in_h5)
        assert in_keras.startswith("3." if dialect == "keras3" else "2."), in_keras
