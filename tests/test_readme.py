"""README facts that come from code must match the code."""
import re
from pathlib import Path

from rnnparity.matrix.tiers import cases
from rnnparity.check.divergences import ACTIVATION_BUGS, INPUT_BUGS, REGISTRY, markdown
from rnnparity.check import runner
from rnnparity.report import conformance
from rnnparity.targets import registry
from rnnparity.output_structure import return_table_markdown
from rnnparity.matrix.tf1_cases import tf1_cases

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_conformance_table_is_current():
    assert conformance.markdown() in README


def test_return_table_is_current():
    assert return_table_markdown() in README


def test_every_registered_bug_and_surprise_is_documented():
    assert markdown() in README
    for d in list(REGISTRY) + list(ACTIVATION_BUGS.values()) + list(INPUT_BUGS.values()):
        assert f"`{d.key}`" in README, d.key


def test_quick_start_has_the_ci_test_command():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert 'pip install -q -e ".[tf,onnx,jax,torch,openvino,test]" && rnnparity install-tfjs && python3 -m pytest -n 2' in ci
    assert 'pip install -e ".[tf,onnx,jax,torch,openvino,test]" && rnnparity install-tfjs && python3 -m pytest -n 2' in README


def test_ci_installs_the_browser_the_page_tests_drive():
    """tests/test_pages_browser.py skips without chromium: CI installs Debian's, only when it is absent,
    and selenium comes with the test extra the command installs."""
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    guard = "if ! { command -v chromium && command -v chromedriver; } >/dev/null; then"
    install = "apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver"
    assert guard in ci and install in ci and ci.index(install) < ci.index("python3 -m pytest")
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    test_extra = next(line for line in pyproject.splitlines() if line.startswith("test = "))
    assert '"selenium' in test_extra


# A case id as the README shows one: a Keras matrix id ends in its target, a tf1 id starts with tf1-.
CASE_ID = re.compile(r"(?<![\w/.-])(?:tf1(?:-[a-z0-9_]+)+-f(?:16|32|64)|[a-z][a-z0-9_]*(?:-[a-z0-9_]+)*"
                     r"-(?:keras3-numpy|keras3-jax|keras3-torch|keras3|tf_keras|tflite|onnx))(?![\w.#-])")


def test_every_case_id_the_readme_shows_is_a_default_tier_case():
    """A README id must run with the default options: `rnnparity check --case ID` and the printed
    `pytest --pyargs rnnparity -k "ID"` repro (a substring match) must select exactly that case."""
    shown = sorted(set(CASE_ID.findall(README)))
    assert shown, "the pattern finds no case id in README.md"
    default = [c.id for c in cases("default", registry.keras_targets())] + [c.id for c in tf1_cases("default")]
    # as the repro's -k selects: a substring, without the twin ids of a longer target (keras3-numpy)
    twin = {i: " and not " in runner.pytest_repro(i) for i in shown}
    selected = {i: [d for d in default if i in d and not (twin[i] and f"{i}-" in d)] for i in shown}
    assert {i: s for i, s in selected.items() if s != [i]} == {}, "README ids outside the default tier"
