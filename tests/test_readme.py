"""README.md is a page: the two quick-start commands, one example per use, links to the docs site.
What the docs show (generated pages, commands, case ids, the site build) is tested in test_docs.py."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()

# The quick start's two commands, each in ONE place: README.md shows them, .ci/run runs the test
# command (with pip's -q), docs/getting-started.md copies README's block (scripts/update_docs.py).
MAIN_COMMAND = 'pip install -e ".[tf,onnx,jax,torch,openvino,test]" && rnnparity check -n 2'
TEST_COMMAND = ('pip install -e ".[tf,onnx,jax,torch,openvino,report,test,docs]" && rnnparity install-tfjs && '
                'python3 -m pytest -n 2')


def test_quick_start_has_the_main_job_and_the_ci_test_command():
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    lines = [line.split("  #")[0].rstrip() for line in quick_start.split("```bash\n", 1)[1].split("```")[0].splitlines()]
    assert lines == [MAIN_COMMAND, TEST_COMMAND]
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND.replace("pip install -e", "python3 -m pip install -q -e") in ci


def test_readme_is_a_page_under_15_kb():
    assert len(README.encode()) < 15_000, f"README.md is {len(README.encode())} bytes: move text to docs/"


def test_readme_links_point_to_files_of_the_repository():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    assert links, "README.md links to nothing"
    missing = [link for link in links if "://" not in link and not (ROOT / link).exists()]
    assert missing == []


def test_readme_links_to_the_glossary_and_every_page_of_the_site():
    nav = set(re.findall(r":\s*([\w-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M))
    linked = {Path(link).name for link in re.findall(r"\]\(docs/([\w-]+\.md)\)", README)}
    assert "glossary.md" in linked
    assert nav - linked == set(), "pages of the site the README does not link"


def test_ci_installs_the_browser_the_page_tests_drive():
    """tests/test_pages_browser.py skips without chromium: CI installs Debian's, only when it is absent,
    and selenium comes with the test extra the command installs."""
    ci = (ROOT / ".ci" / "run").read_text()
    guard = "if ! { command -v chromium && command -v chromedriver; } >/dev/null; then"
    install = "apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver"
    assert guard in ci and install in ci and ci.index(install) < ci.index("python3 -m pytest")
    pyproject = (ROOT / "pyproject.toml").read_text()
    test_extra = next(line for line in pyproject.splitlines() if line.startswith("test = "))
    assert '"selenium' in test_extra
