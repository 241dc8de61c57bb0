"""The documentation (README.md and the mkdocs site under docs/) says what the code does: generated
pages are current, every command, option, file and case id it shows exists, and the site builds
with `mkdocs build --strict`."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnnparity.check import runner
from rnnparity.check.divergences import ACTIVATION_BUGS, INPUT_BUGS, REGISTRY
from rnnparity.matrix.tf1_cases import tf1_cases
from rnnparity.matrix.tiers import cases
from rnnparity.targets import registry

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
TEXT = {page.relative_to(ROOT).as_posix(): page.read_text() for page in PAGES}

# Features being built on other branches: the docs name them in "To be written" sections. Once one
# is in the parser, this test fails so that its section gets written and its name leaves this list.
PENDING = {}


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


update_docs = _load("update_docs", ROOT / "scripts" / "update_docs.py")
SUBCOMMANDS = update_docs.subcommands()[0]


def _code(text) -> list:
    """The code the page shows: the lines of its fenced blocks and its inline code spans."""
    fenced = re.findall(r"^ *```[^\n]*\n(.*?)^ *```", text, re.S | re.M)
    prose = re.sub(r"^ *```[^\n]*\n.*?^ *```", "", text, flags=re.S | re.M)
    return [line for block in fenced for line in block.splitlines()] + re.findall(r"`([^`\n]+)`", prose)


CODE = {page: _code(text) for page, text in TEXT.items()}


def test_generated_blocks_are_current():
    stale = update_docs.stale()
    assert [p.relative_to(ROOT).as_posix() for p in stale] == [], "run python scripts/update_docs.py"


def test_every_registered_bug_and_surprise_is_documented():
    bugs = TEXT["docs/known-bugs.md"]
    for d in list(REGISTRY) + list(ACTIVATION_BUGS.values()) + list(INPUT_BUGS.values()):
        assert f"`{d.key}`" in bugs, d.key


def _options(subparser) -> set:
    return {o for action in update_docs._actions(subparser) for o in action.option_strings}


COMMAND = re.compile(r"(?<![\w./\[-])(?<!import )(?<!from )rnnparity ([a-z][a-z0-9-]*)(.*)")
END = re.compile(r"`|\s#|&&|;|\(or|\bpytest\b|\bpython3?\b")
OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][a-zA-Z0-9-]*)")


def shown_commands() -> list:
    """(page, subcommand, [options]) of every `rnnparity SUB ...` the docs show."""
    found = []
    for page, lines in CODE.items():
        for line in lines:
            for match in COMMAND.finditer(line):
                rest = END.split(match.group(2), 1)[0]
                found.append((page, match.group(1), OPTION.findall(rest)))
    return found


def test_every_command_and_option_shown_exists():
    shown = shown_commands()
    assert len(shown) > 50, "the pattern finds too few commands"
    wrong = []
    for page, sub, options in shown:
        if sub not in SUBCOMMANDS:
            if sub not in PENDING:
                wrong.append(f"{page}: rnnparity {sub}: no such subcommand")
            continue
        known = _options(SUBCOMMANDS[sub])
        wrong += [f"{page}: rnnparity {sub} {o}: no such option" for o in options
                  if o not in known and o not in PENDING]
    assert wrong == []


def test_every_pytest_option_and_module_shown_exists():
    plugin = (ROOT / "src" / "rnnparity" / "plugin.py").read_text()
    code = "\n".join(line for lines in CODE.values() for line in lines)
    options = set(re.findall(r"--rnnparity-[a-z-]+", code))
    assert options and {o for o in options if f'"{o}"' not in plugin} == set()
    modules = set(re.findall(r"python3? -m (rnnparity[\w.]*)", code))
    assert {m for m in modules if importlib.util.find_spec(m) is None} == set()


PATH = re.compile(r"(?<![\w/.-])((?:src|tests|scripts|examples|benchmarks|fixtures|docs|\.ci|\.github)/[\w./-]*\w/?)(?![\w<-]|\.\w)")


def test_every_repository_path_shown_exists():
    shown = {(page, p) for page, text in TEXT.items() for p in PATH.findall(text)}
    assert len(shown) > 30
    assert sorted((page, p) for page, p in shown if not (ROOT / p).exists()) == []


# A case id as the docs show one: a Keras matrix id ends in its target, a tf1 id starts with tf1-.
CASE_ID = re.compile(r"(?<![\w/.-])(?:tf1(?:-[a-z0-9_]+)+-f(?:16|32|64)|[a-z][a-z0-9_]*(?:-[a-z0-9_]+)*"
                     r"-(?:keras3-numpy|keras3-jax|keras3-torch|keras3|tf_keras|tflite|onnx))(?![\w.#-])")


def test_every_case_id_shown_is_a_default_tier_case():
    """An id the docs show must run with the default options: `rnnparity check --case ID` and the
    printed `pytest --pyargs rnnparity -k "ID"` repro (a substring match) must select exactly that case."""
    shown = sorted({i for text in TEXT.values() for i in CASE_ID.findall(text)})
    assert len(shown) > 5, "the pattern finds too few case ids"
    default = [c.id for c in cases("default", registry.keras_targets())] + [c.id for c in tf1_cases("default")]
    # as the repro's -k selects: a substring, without the twin ids of a longer target (keras3-numpy)
    twin = {i: " and not " in runner.pytest_repro(i) for i in shown}
    selected = {i: [d for d in default if i in d and not (twin[i] and f"{i}-" in d)] for i in shown}
    where = {i: [p for p, t in TEXT.items() if i in t] for i in shown}
    assert {i: where[i] for i, s in selected.items() if s != [i]} == {}, "ids outside the default tier"


def test_pending_features_still_have_their_to_be_written_sections():
    """A feature named in PENDING is not in the parser yet and its page says "To be written"."""
    names = set(SUBCOMMANDS) | {o for sub in SUBCOMMANDS.values() for o in _options(sub)}
    landed = sorted(set(PENDING) & names)
    assert landed == [], (f"{landed} landed: write their 'To be written' sections "
                          f"({', '.join(PENDING[n] for n in landed)}) and remove them from PENDING")
    for name, page in PENDING.items():
        assert "To be written" in TEXT[page] and name in TEXT[page], (name, page)


def test_the_site_builds_with_mkdocs_strict(tmp_path):
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason=f"{module} is not installed: pip install -e \".[docs]\"")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                          "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    for page in ("known-bugs", "conformance", "cli", "api", "glossary"):
        assert (tmp_path / "site" / page / "index.html").is_file(), page
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "assert_parity" in api and "Check every recurrent layer" in api  # docstrings were rendered
