"""The error paths a newcomer meets (issue 24, items 5-9): each is one line that says what is wrong
with the user's file or argument, never a traceback, never advice to unpickle a file."""
from __future__ import annotations

import time

import numpy as np
import pytest

from rnnparity.cli import check_suite, main
from rnnparity.cli.common import unknown_case
from rnnparity.matrix import tiers

GARBAGE = bytes(range(256)) * 2  # what NumPy calls "pickled (object) data"


def _corrupt(tmp_path, name="corrupt.npz"):
    path = tmp_path / name
    path.write_bytes(GARBAGE)
    return path


# -- 5. compare of something that is not a recording -------------------------------------------------
def test_compare_of_a_corrupt_npz_says_it_is_not_a_recording(tmp_path, capsys):
    path = _corrupt(tmp_path)
    assert main(["compare", str(path), str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"rnnparity compare: {path}: a single case file, not a recording (a recording is a "
                   f"directory holding manifest.json and one .npz per case, as `rnnparity record` and "
                   f"`record-model` write it)")
    assert main(["compare", str(tmp_path / "nowhere"), str(path)]) == 2
    assert "nowhere: no such directory" in capsys.readouterr().err


# -- 7. a corrupt .npz is corrupt, never "pickled data ... allow_pickle" -----------------------------------
def test_a_corrupt_npz_is_called_corrupt_and_unpickling_is_never_suggested(tmp_path, capsys):
    from rnnparity.npz_file import read_npz

    path = _corrupt(tmp_path)
    with pytest.raises(ValueError) as info:
        read_npz(path, "--inputs x")
    assert str(info.value).startswith("--inputs x: corrupt or not an .npz file")
    objects = tmp_path / "objects.npz"
    np.savez(objects, a=np.array([{"code": 1}], dtype=object))
    with pytest.raises(ValueError, match="holds pickled objects .* never unpickles"):
        read_npz(objects, "f")
    (tmp_path / "half.npz").write_bytes((tmp_path / "objects.npz").read_bytes()[:40])
    with pytest.raises(ValueError, match="corrupt or truncated .npz file"):
        read_npz(tmp_path / "half.npz", "f")
    # every command reading a user's .npz: diagnose --outputs, and a recording's case file
    assert main(["diagnose", "--case", "lstm-seq-f32-keras3", "--outputs", str(path)]) in (2, 3)
    err = capsys.readouterr().err
    if "corrupt or not an .npz file" not in err:  # keras3 missing: refused before reading the file
        assert "keras" in err.lower()
    for message in (str(info.value), err):
        assert "allow_pickle" not in message and "pickle.load" not in message


def test_a_recordings_corrupt_case_file_does_not_suggest_unpickling():
    from rnnparity import golden

    with pytest.raises(ValueError) as info:
        golden.read_case(GARBAGE, "rec/x.npz")
    assert str(info.value).startswith("rec/x.npz: corrupt or truncated fixture (corrupt or not an .npz file")
    assert "allow_pickle" not in str(info.value)


# -- 6. check -k that selects nothing ---------------------------------------------------------------------
def test_check_with_a_filter_that_matches_nothing_says_so(monkeypatch, capsys):
    def collect_nothing(argv, plugins):  # pytest.main on a -k that deselects every case
        session = type("Session", (), {"items": []})()
        for plugin in plugins:
            plugin.pytest_collection_finish(session)
        return check_suite.pytest.ExitCode.NO_TESTS_COLLECTED

    monkeypatch.setattr(check_suite.pytest, "main", collect_nothing)
    assert main(["check", "-k", "nomatch", "--tier", "quick", "--target", "keras3"]) == 2
    out = capsys.readouterr().out
    assert "rnnparity check: -k 'nomatch' matched no case of the quick tier on keras3" in out
    assert "is a framework installed" not in out


# -- 9. an unknown case id is answered at once ------------------------------------------------------------
def test_an_unknown_case_id_lists_only_its_own_targets_ids(monkeypatch):
    asked = []
    real = tiers.cases

    def counting(tier="default", targets=()):
        asked.append((tier, tuple(targets)))
        return real(tier, targets)

    monkeypatch.setattr(tiers, "cases", counting)
    start = time.process_time()
    complaint = unknown_case("lstm-nope-f32-keras3")
    took = time.process_time() - start
    assert complaint.startswith("'lstm-nope-f32-keras3' is not a known case id")
    assert "nearest: lstm-seq-f32-keras3" in complaint
    assert asked and all(targets == ("keras3",) for _, targets in asked), asked
    assert took < 8, f"{took:.1f} s of CPU"  # was 20 s: the full tier of every target, twice
    asked.clear()
    assert unknown_case("lstm-seq-f32-keras3") is None and asked == [("default", ("keras3",))]
    assert unknown_case("gru-bidi_sum-seq-state-bwd-stateful-mask_holes-init-f64-tf_keras") is None
    assert unknown_case("tf1-static_rnn-basic_lstm-seqlen_none-batch_major-init-f64") is None
    assert "nearest: tf1-static_rnn-basic_lstm" in unknown_case("tf1-static_rnn-basic_lstm")
    assert "a case id ends with its target" in unknown_case("lstm-seq-f32-kera")
