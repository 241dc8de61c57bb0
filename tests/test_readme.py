"""README facts that come from code must match the code."""
from pathlib import Path

from rnnparity.divergences import ACTIVATION_BUGS, INPUT_BUGS, REGISTRY, markdown
from rnnparity.structure import return_table_markdown

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_return_table_is_current():
    assert return_table_markdown() in README


def test_every_registered_bug_and_surprise_is_documented():
    assert markdown() in README
    for d in list(REGISTRY) + list(ACTIVATION_BUGS.values()) + list(INPUT_BUGS.values()):
        assert f"`{d.key}`" in README, d.key


def test_quick_start_has_the_ci_test_command():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert 'pip install -q -e ".[tf,test]" && python3 -m pytest -n 2' in ci
    assert 'pip install -e ".[tf,test]" && python3 -m pytest -n 2' in README
