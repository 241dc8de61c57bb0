"""`rnnparity record` says what it recorded in words a person reads: the target, where, how big, and the
versions as `name version` pairs (not a Python dict). The framework run is replaced by committed
recordings (real tf_keras outputs), so nothing is imported."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from rnnparity import golden
from rnnparity.cli import main, record
from tests.page_fixtures import A

VERSIONS = {"target": "tf_keras", "tensorflow": "2.21.0", "keras": "2.21.0", "backend": "tensorflow",
            "numpy": "2.4.6", "python": "3.11.7", "platform": "Linux-6.18-x86_64-with-glibc2.36"}


def test_record_prints_the_versions_readably(monkeypatch, tmp_path, capsys):
    if not A.is_dir():
        pytest.skip("the checkout's fixtures/ recordings are not here")
    recorded = golden.RecordingDir(A)
    ids = recorded.case_ids[:2]
    monkeypatch.setattr(record.installed, "import_quietly", lambda *a, **k: None)
    monkeypatch.setattr(record.registry, "get", lambda target: SimpleNamespace(versions=lambda: dict(VERSIONS)))
    monkeypatch.setattr(record, "case_list", lambda tier, targets, words=(): ids)
    monkeypatch.setattr(record, "record_one", recorded.load)
    out = tmp_path / "rec"
    assert main(["record", "--target", "tf_keras", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"recorded 2 cases of tf_keras into {out} (")
    assert lines[1] == ("  versions: tensorflow 2.21.0 · keras 2.21.0 · backend tensorflow · numpy 2.4.6 · "
                        "python 3.11.7")
    assert "{" not in "\n".join(lines)
    assert sorted(golden.RecordingDir(out).case_ids) == sorted(ids)
