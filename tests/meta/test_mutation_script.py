"""scripts/mutation_check.py: it plants bugs for real, refuses to test an unmutated copy, and the
live suite catches a planted mutant (one real run, kept small)."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from rnnparity.targets import registry

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mutation_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("mutation_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


mc = _load()


def test_at_least_ten_mutants_with_distinct_names():
    names = [m.name for m in mc.MUTANTS]
    assert len(names) >= 10 and len(set(names)) == len(names)


@pytest.mark.parametrize("mutant", mc.MUTANTS, ids=lambda m: m.name)
def test_every_mutant_plants_into_the_current_reference(mutant):
    """Each substitution target is present exactly as expected, and planting changes the file."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mc.make_copy(tmp)
        before = (tmp / mc.PKG / mutant.file).read_text()
        mc.plant(tmp, mutant)
        after = (tmp / mc.PKG / mutant.file).read_text()
        assert after != before
        for old, new, _ in mutant.edits:
            assert new in after
        # the repository itself is untouched
        assert (mc.ROOT / mc.PKG / mutant.file).read_text() == before


def test_missing_target_text_fails_loudly():
    broken = replace(mc.MUTANTS[0], edits=(("this text is not in the reference", "x", 1),))
    with tempfile.TemporaryDirectory() as tmp:
        mc.make_copy(Path(tmp))
        with pytest.raises(mc.PlantError, match="refusing to test an unmutated copy"):
            mc.plant(Path(tmp), broken)


def test_every_slice_runs_the_shipped_suite():
    """Mutants are caught by the suite users run (`pytest --pyargs rnnparity`), not by tests/ only."""
    suite = mc.ROOT / mc.PKG / "suite"
    for m in mc.MUTANTS:
        assert (mc.ROOT / m.suite).is_file() and (mc.ROOT / m.suite).parent == suite, (m.name, m.suite)


def test_the_tf1_slice_collects_shipped_tf1_cases():
    tf1 = [m for m in mc.MUTANTS if m.suite == mc.TF1_SUITE]
    assert tf1 and mc.TF1_SUITE == "src/rnnparity/suite/test_tf1.py"
    with tempfile.TemporaryDirectory() as tmp:
        mc.make_copy(Path(tmp))
        for m in tf1:
            done = subprocess.run([sys.executable, "-m", "pytest", m.suite, "-k", m.select, "--collect-only", "-q",
                                   "-p", "no:cacheprovider", "--rootdir", tmp], cwd=tmp, capture_output=True,
                                  text=True, env={**os.environ, "PYTHONPATH": str(Path(tmp) / "src")})
            ids = [ln for ln in done.stdout.splitlines() if "::test_tf1[tf1-" in ln]
            assert done.returncode == 0 and ids, done.stdout + done.stderr
            assert all(ln.startswith(f"{m.suite}::") for ln in ids)


def test_slice_selecting_nothing_is_an_error():
    with tempfile.TemporaryDirectory() as tmp:
        mc.make_copy(Path(tmp))
        nothing = replace(mc.MUTANTS[0], select="no_such_case_anywhere")
        with pytest.raises(mc.PlantError, match="selects no test"):
            mc.run_slice(Path(tmp), nothing, workers=0, timeout=600)


@pytest.mark.live
def test_script_catches_a_planted_bug_and_its_control_passes():
    ok, reason = registry.availability("keras3")
    if not ok:
        pytest.skip(reason)
    # one mutant, a slice of a few cases: the control passes, the mutant is caught
    mutant = next(m for m in mc.MUTANTS if m.name == "lstm_gate_order")
    lines = []
    caught, total, rows = mc.check([mutant], workers=0, control=True, timeout=600, out=lines.append)
    assert (caught, total) == (1, 1), lines
    assert lines[0].startswith("control ok"), lines
    assert "| lstm_gate_order" in mc.table(rows) and "| yes" in mc.table(rows)


@pytest.mark.live
def test_script_checks_that_diagnose_names_a_mutant():
    ok, reason = registry.availability("keras3")
    if not ok:
        pytest.skip(reason)
    mutant = next(m for m in mc.MUTANTS if m.name == "bidi_not_re_reversed")
    lines = []
    named, total, rows = mc.check_names([mutant], timeout=600, out=lines.append)
    assert (named, total) == (1, 1), lines
    assert lines[0].startswith("NAMED") and "bidi_backward_not_re_reversed" in lines[0]


def test_every_keras_mutant_has_a_diagnose_case_naming_a_catalogue_mistake():
    from rnnparity.check import mistakes

    keras = [m for m in mc.MUTANTS if m.suite == mc.KERAS_SUITE]
    assert len(mc.MUTANTS) >= 25 and all(m.diagnose_case and m.named for m in keras)
    assert {m.named for m in keras} <= set(mistakes.BY_NAME)
