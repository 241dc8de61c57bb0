"""Recordings: round trip, atomic writes, refusal to overwrite, and validation on load.

The recordings used here are the committed ones (recorded from real frameworks); no framework is
imported."""
from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from rnnparity import golden
from rnnparity.check import runner
from rnnparity.plan import Outcome, Recording
from rnnparity.suite.test_replay import reference_factory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _dir(target):
    for d in golden.recording_dirs(FIXTURES):
        if json.loads((d / golden.MANIFEST).read_text())["target"] == target:
            return golden.RecordingDir(d)
    pytest.skip(f"no committed {target} recording under {FIXTURES}")


def _pick(rd, *words, rejected=False):
    for cid in rd.case_ids:
        parts = cid.split("-")
        if all(w in parts for w in words):
            rec = rd.load(cid)
            if bool(rec.outcome.error) == rejected:
                return rec
    raise LookupError(f"no case with {words} in {rd.path}")


@pytest.fixture(scope="module")
def sample():
    """A few real recordings: stateful with chunking, Keras 3 tuple outputs, a rejected config, mask+init."""
    k3, k2 = _dir("keras3"), _dir("tf_keras")
    return [k2.load("lstm-stateful-f32-tf_keras"), k3.load("gru-seq-state-f32-keras3"),
            k3.load("lstm-bidi_concat-bwd-f32-keras3"), _pick(k2, "simple_rnn", "mask_holes"),
            _pick(k2, "lstm", "init")]


def _same(a, b):
    if isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    else:
        assert a == b


def test_round_trip_keeps_every_array_dtype_container_and_error(sample):
    for rec in sample:
        back = golden.read_case(golden.case_bytes(rec), "mem")
        assert (back.case_id, back.spec, back.dialect, back.time_axis) == \
               (rec.case_id, rec.spec, rec.dialect, rec.time_axis)
        assert back.outcome.error == rec.outcome.error
        _same(back.weights, rec.weights)
        _same(back.outcome.outputs, rec.outcome.outputs)
        assert [type(s).__name__ for s in back.plan.steps] == [type(s).__name__ for s in rec.plan.steps]
        for c1, c2 in zip(back.plan.calls, rec.plan.calls):
            _same([c1.x, c1.mask, c1.initial_state, c1.label], [c2.x, c2.mask, c2.initial_state, c2.label])
        assert back.plan.chunk_check == rec.plan.chunk_check
    assert any(rec.plan.chunk_check for rec in sample) and any(rec.outcome.error for rec in sample)
    assert any(isinstance(rec.outcome.outputs[0], tuple) for rec in sample if rec.outcome.outputs)


def test_replay_passes_and_detects_a_tampered_output(sample):
    rec = sample[0]
    assert runner.verify(rec, reference_factory(rec)) == []
    out = [list(o) if isinstance(o, (list, tuple)) else o for o in rec.outcome.outputs]
    first = np.array(out[0][0] if isinstance(out[0], list) else out[0])
    first.flat[3] += 1e-3
    if isinstance(out[0], list):
        out[0][0] = first
    else:
        out[0] = first
    tampered = Recording(rec.case_id, rec.spec, rec.plan, rec.weights,
                                Outcome(out, rec.outcome.error), rec.dialect, rec.time_axis)
    problems = runner.verify(tampered, reference_factory(tampered))
    assert problems and "beyond tolerance" in problems[0].message


def _write(out, recs, force=False):
    with golden.Writer(out, {"target": "test"}, force=force) as w:
        for r in recs:
            w.add(r)


def test_writer_is_atomic_and_refuses_to_overwrite(tmp_path, sample):
    out = tmp_path / "rec"
    _write(out, sample[:2])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(FileExistsError, match="already exists"):
        _write(out, sample[2:])
    for exc in (KeyboardInterrupt, RuntimeError):  # Ctrl-C or a crash halfway through a forced rewrite
        with pytest.raises(exc):
            with golden.Writer(out, {"target": "test"}, force=True) as w:
                w.add(sample[2])
                raise exc("interrupted")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the older recording is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec"]  # no partial dir, no temp file
    _write(out, sample[2:], force=True)
    assert sorted(golden.RecordingDir(out).case_ids) == sorted(r.case_id for r in sample[2:])


def test_manifest_has_shas_and_loads_validate_them(tmp_path, sample):
    out = tmp_path / "rec"
    _write(out, sample)
    manifest = json.loads((out / golden.MANIFEST).read_text())
    for cid, entry in manifest["cases"].items():
        assert hashlib.sha256((out / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    victim = out / manifest["cases"][sample[0].case_id]["file"]
    data = victim.read_bytes()
    victim.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ValueError, match=f"{victim.name}.*sha256 differs"):
        golden.RecordingDir(out).load(sample[0].case_id)


def _rewrite(out, case_id, data):
    """Replace a case file's bytes and fix the manifest sha (to reach the checks after the sha)."""
    manifest = json.loads((out / golden.MANIFEST).read_text())
    path = out / manifest["cases"][case_id]["file"]
    path.write_bytes(data)
    manifest["cases"][case_id]["sha256"] = hashlib.sha256(data).hexdigest()
    (out / golden.MANIFEST).write_text(json.dumps(manifest))
    return path


def _npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@pytest.mark.parametrize("payload, message", [
    (lambda good: good[: len(good) // 2], "corrupt or truncated"),
    (lambda good: b"not a zip at all", "corrupt or truncated"),
    (lambda good: _npz(x=np.zeros(3)), "not an rnnparity fixture"),
    (lambda good: _npz(meta=np.array([{"format": golden.FORMAT}], dtype=object)), "pickled objects"),
    (lambda good: _npz(meta=np.array(json.dumps({"format": "other/9"}))), "not an rnnparity fixture"),
], ids=["truncated", "garbage", "foreign-npz", "pickled", "wrong-format"])
def test_bad_case_files_raise_value_error_naming_the_file(tmp_path, sample, payload, message):
    out = tmp_path / "rec"
    _write(out, sample[:1])
    cid = sample[0].case_id
    path = _rewrite(out, cid, payload((out / f"{cid}.npz").read_bytes()))
    with pytest.raises(ValueError, match=message) as info:
        golden.RecordingDir(out).load(cid)
    assert str(path) in str(info.value)


def test_manifest_and_files_must_agree(tmp_path, sample):
    out = tmp_path / "rec"
    _write(out, sample[:2])
    a, b = sample[0].case_id, sample[1].case_id
    (out / "stray.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="stray.npz: present but not listed"):
        golden.RecordingDir(out)
    os.unlink(out / "stray.npz")
    _rewrite(out, a, (out / f"{b}.npz").read_bytes())  # a's file now holds case b
    with pytest.raises(ValueError, match=f"holds case '{b}'"):
        golden.RecordingDir(out).load(a)
    os.unlink(out / f"{b}.npz")
    with pytest.raises(ValueError, match=f"{b}.npz: listed in manifest.json but missing"):
        golden.RecordingDir(out)
    (out / golden.MANIFEST).write_text("{ truncated")
    with pytest.raises(ValueError, match="corrupt manifest"):
        golden.RecordingDir(out)
    os.unlink(out / golden.MANIFEST)
    with pytest.raises(ValueError, match="not a recording"):
        golden.RecordingDir(out)


def test_object_arrays_are_refused_on_write(sample):
    rec = sample[0]
    bad = Recording(rec.case_id, rec.spec, rec.plan, [np.array([None], dtype=object)],
                           rec.outcome, rec.dialect)
    with pytest.raises(ValueError, match="never pickled"):
        golden.case_bytes(bad)


def test_committed_fixtures_are_valid_and_small():
    dirs = golden.recording_dirs(FIXTURES)
    if not dirs:
        pytest.skip(f"no recordings under {FIXTURES}")
    total = sum(p.stat().st_size for d in dirs for p in d.iterdir())
    assert total < 30e6, f"fixtures/ is {total / 1e6:.1f} MB; the budget is 30 MB"
    for d in dirs:
        rd = golden.RecordingDir(d)  # manifest/file agreement
        m = rd.manifest
        assert {"target", "versions", "backend", "platform", "date", "tier"} <= set(m)
        # a Keras 3 backend target (keras3-numpy, ...) runs without TensorFlow: it names its backend
        framework = {"keras", "backend"} if m["target"].startswith("keras3-") else {"tensorflow", "keras"}
        assert framework | {"numpy"} <= set(m["versions"]), (d, m["versions"])


def test_tf1_recordings_round_trip_and_replay_detects_tampering():
    """A tf1 case is a Recording like any other (a Tf1Spec, one call with its sequence_length)."""
    from dataclasses import replace

    from rnnparity.check import runner
    from rnnparity.check.tf1_records import record_of
    from rnnparity.matrix.tf1_cases import Tf1Case

    rd = _dir("tf1")
    rec = rd.load(next(c for c in rd.case_ids if "seqlen_ragged" in c and "lstm" in c))
    back = golden.read_case(golden.case_bytes(rec), "mem")
    case = Tf1Case.from_id(rec.case_id)
    record, back_record = record_of(case, rec), record_of(case, back)
    assert back.spec == rec.spec == case.layer_spec()
    assert back_record["output_names"] == record["output_names"]
    _same(back_record["outputs"], record["outputs"])
    _same(back_record["weights"], record["weights"])
    assert sorted(back_record["inputs"]) == sorted(record["inputs"]) and "sequence_length" in back_record["inputs"]
    assert runner.verify(back, runner.reference_factory(back)) == []
    outputs = [np.array(o) for o in back.outcome.outputs[0]]
    outputs[-1].flat[0] += 1e-3
    tampered = replace(back, outcome=replace(back.outcome, outputs=[outputs]))
    problems = [p.message for p in runner.verify(tampered, runner.reference_factory(tampered))]
    assert len(problems) == 1 and back_record["output_names"][-1] in problems[0]


def test_a_bfloat16_fixture_without_ml_dtypes_is_a_missing_dependency_not_a_corrupt_file():
    """Without TensorFlow there may be no ml_dtypes: the fixture is valid, it just cannot be read here
    (the replay suite then skips it, naming the package)."""
    import subprocess
    import sys

    rd = Path(__file__).resolve().parents[1] / "fixtures" / "keras3-jax-3.15.1"
    case = "lstm-seq-state-stateful-mixed_bf16-keras3-jax"
    if not (rd / f"{case}.npz").is_file():
        pytest.skip(f"no committed bfloat16 fixture {case} under {rd}")
    code = ("import sys; sys.modules['ml_dtypes'] = None\n"
            "from rnnparity import golden\n"
            "try:\n"
            f"    golden.RecordingDir(sys.argv[1]).load({case!r})\n"
            "except golden.MissingDependency as e:\n"
            "    print('missing:', e)\n")
    done = subprocess.run([sys.executable, "-c", code, str(rd)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "missing: this fixture holds bfloat16 arrays" in done.stdout and "pip install ml_dtypes" in done.stdout


def test_a_tf1_spec_round_trips_through_its_json_form():
    from rnnparity.matrix.tf1_cases import tf1_cases
    from rnnparity.plan import LayerSpec, Tf1Spec, spec_from_dict

    for case in tf1_cases("quick"):
        spec = case.layer_spec()
        back = spec_from_dict(json.loads(json.dumps(spec.to_dict())))
        assert isinstance(back, Tf1Spec) and back == spec
    assert isinstance(spec_from_dict({"class": "LSTM", "config": {"units": 2}}), LayerSpec)


def test_a_tf1_case_in_the_format_before_recordings_is_refused_naming_the_fix():
    meta = {"format": golden.FORMAT, "kind": "tf1", "case_id": "tf1-x", "output_names": [], "n_weights": 0,
            "error": None}
    with pytest.raises(ValueError, match="re-record it: rnnparity record --target tf1"):
        golden.from_arrays(golden.pack({}, meta, "tf1-x"), "old.npz")
