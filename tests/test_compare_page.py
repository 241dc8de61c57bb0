"""`rnnparity compare --html` separates structure-only changes (list vs tuple, every value the same) from
value changes, in its own colour and with a legend, and orders the grouped differences by what a user
must act on (golden.upgrade.ACTIONS): values, rejections, dtype, structure. Two small recordings cut
from the committed fixtures (real tf_keras and keras3 outputs); no framework."""
from __future__ import annotations

import html
import json
import re

import pytest

pytest.importorskip("jinja2")
pytest.importorskip("matplotlib")

from tests.page_fixtures import COMPARED, ONLY_IN_A, compare_recordings  # noqa: E402
from rnnparity.cli import main  # noqa: E402
from rnnparity.golden import upgrade  # noqa: E402
from rnnparity.report import statuses  # noqa: E402


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    pair = compare_recordings(tmp)
    if pair is None:
        pytest.skip("the checkout's fixtures/ recordings are not here")
    out = tmp / "compare.html"
    assert main(["compare", str(pair[0]), str(pair[1]), "--html", str(out), "--out", str(tmp / "c.md")]) == 1
    return upgrade.compare(*pair), out.read_text(), (tmp / "c.md").read_text()


def test_each_case_is_classed_by_what_changed(compared):
    result, _, _ = compared
    got = {c.key: upgrade.action(c) for c in result.cases}
    want = {key: action for action, keys in COMPARED.items() for key in keys}
    assert got == {**want, ONLY_IN_A: "only"}
    structure_only = [c for c in result.cases if upgrade.action(c) == "structure"]
    assert all(c.max_abs == 0 and {k for k, _ in c.findings} == {"structure"} for c in structure_only)


def test_structure_only_cases_have_their_own_colour_and_legend(compared):
    _, page, _ = compared
    verdict_of = dict(re.findall(r'<li data-case="([^"]+)" data-verdict="([^"]+)"', page))
    for action, keys in COMPARED.items():
        assert {verdict_of[k] for k in keys} == {action}
    colour = {s.key: s.background for s in statuses.COMPARE}
    assert len(set(colour.values())) == len(colour)  # every kind of change its own colour
    assert f"--structure: {colour['structure']};" in page and ".v-structure { background: var(--structure)" in page
    legend = page[page.index('id="group-legend"'):]
    legend = legend[:legend.index("</div>")]
    for key in ("differs", "newly-rejected", "dtype", "structure"):
        assert f'class="swatch v-{key}"' in legend and statuses.table(statuses.COMPARE)[key][0] in html.unescape(legend)


def test_groups_come_in_the_order_a_user_acts_on(compared):
    result, page, markdown = compared
    on_page = re.findall(r'<section class="case-detail v-([\w-]+)" data-group="\1">', page)
    assert on_page == ["differs", "newly-rejected", "newly-rejected", "dtype", "structure", "structure"]
    in_text = [upgrade.action(members[0]) for _, members in upgrade.groups(result)]
    assert in_text == on_page
    # the markdown report's groups come in the same order, and a structure group says the values agree
    headings = re.findall(r"^### (.*) \[(\w+)\]", markdown, re.M)
    assert [kind for _, kind in headings] == ["values", "rejection", "rejection", "dtype", "structure", "structure"]
    assert "only the container changed" in markdown and "max abs 0, max rel 0" in markdown


def test_a_structure_group_shows_that_its_values_are_the_same(compared):
    _, page, _ = compared
    section = page[page.index('data-group="structure"'):]
    section = section[:section.index("</section>")]
    assert "structure only" in section and "max abs 0<" in section


def test_the_text_and_json_reports_split_the_differences_the_same_way(compared):
    result, page, _ = compared
    line = upgrade.one_line(result)
    assert "same 2, differs 6 (values 2, dtype only 1, structure only 3), rejected in A 0, rejected in B 2" in line
    assert html.escape(line, quote=False) in page  # the page's verdict line
    cases = {c["key"]: c["action"] for c in json.loads(upgrade.to_json(result))["cases"]}
    assert cases == {c.key: upgrade.action(c) for c in result.cases}
