"""The HTML report (`--html`, rnnparity.report.html): every case of a run is exactly one <li> of the grid
with its verdict, the grid's counts are the text report's, the page fetches nothing (no external
URL but links to upstream issues) and stays under 5 MB; the error curves the suite records; the
missing-extra error."""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jinja2")
pytest.importorskip("matplotlib")

from rnnparity.check.compare import compare_outputs, error_curves  # noqa: E402
from rnnparity.check.divergences import all_divergences  # noqa: E402
from rnnparity.cli import main  # noqa: E402
from rnnparity.golden import upgrade  # noqa: E402
from rnnparity.matrix.tiers import cases  # noqa: E402
from rnnparity.matrix.tf1_cases import tf1_cases  # noqa: E402
from rnnparity.report import html  # noqa: E402
from rnnparity.targets import registry  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
MAX_BYTES = 5_000_000
UPSTREAM_LINK = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+/issues/\d+$")


class Page(HTMLParser):
    """What the tests read from a page: each grid <li data-case> with its panel and cell, each cell's
    shown count, the totals, and every src/href/url()."""

    def __init__(self, text):
        super().__init__()
        self.panel, self.cell, self.in_n = None, None, False
        self.cases, self.cell_counts, self.cell_class, self.urls, self.totals = [], {}, {}, [], {}
        self._total = None
        self.feed(text)
        self.css_urls = [u for u in re.findall(r"url\(([^)]*)\)", text) if not u.startswith("#")]
        self.ids = re.findall(r'\sid="([^"]+)"', text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if key in a or f"xlink:{key}" in a:
                self.urls.append(a.get(key) or a.get(f"xlink:{key}"))
        if tag == "table" and "data-panel" in a:
            self.panel = a["data-panel"]
        elif tag == "td" and self.panel is not None:
            self.cell = (self.panel, len(self.cell_counts))
            self.cell_counts[self.cell] = None
            self.cell_class[self.cell] = a.get("class", "")
        elif tag == "span" and a.get("class") == "n" and self.cell:
            self.in_n = True
        elif tag == "li" and "data-case" in a:
            self.cases.append({**a, "panel": self.panel, "cell": self.cell})
        elif tag == "div" and "data-outcome" in a:
            self._total = a["data-outcome"]

    def handle_endtag(self, tag):
        if tag == "table":
            self.panel, self.cell = None, None
        elif tag == "span":
            self.in_n = False

    def handle_data(self, data):
        if self.in_n:
            self.cell_counts[self.cell] = int(data) if data.strip() else 0
        elif self._total is not None and data.strip():
            self.totals[self._total] = int(data)
            self._total = None


def assert_self_contained(path: Path, page: Page):
    assert path.stat().st_size < MAX_BYTES
    for url in page.urls:
        assert url.startswith("#") or UPSTREAM_LINK.match(url), f"external reference {url!r}"
    assert not page.css_urls, page.css_urls[:3]
    text = path.read_text()
    assert "<script src" not in text and "<link" not in text
    assert len(page.ids) == len(set(page.ids)), [i for i, n in Counter(page.ids).items() if n > 1][:3]


def assert_cells_count_their_cases(page: Page, order):
    """Each cell shows how many cases it holds, in the colour of the worst of their verdicts."""
    per_cell = defaultdict(list)
    for c in page.cases:
        per_cell[c["cell"]].append(c["data-verdict"])
    for cell, shown in page.cell_counts.items():
        verdicts = per_cell.get(cell, [])
        assert (shown or 0) == len(verdicts), cell
        worst = next((v for v in order if v in verdicts), None)
        assert page.cell_class[cell] == (f"cell v-{worst}" if worst else "empty"), cell


# -- a synthetic run over real case ids (no framework) -----------------------------------------------
def _curves(t_bad):
    """Real compare output for a sequence that departs at t_bad (the report's payload, not a parity check)."""
    fw = np.zeros((2, 7, 3), np.float32)
    ours = fw.copy()
    ours[:, t_bad:, 1] = np.linspace(1e-3, 0.5, 7 - t_bad, dtype=np.float32)
    problems = compare_outputs([fw, fw[:, -1]], [ours, ours[:, -1]], names=["sequence", "state"], precision="float32")
    return error_curves(problems)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    ids = [c.id for c in cases("quick", ("tf_keras", "keras3"))][::8] + [c.id for c in tf1_cases("quick")][:12]
    outcomes = ("passed", "failed", "xfailed", "skipped", "passed")
    rows, details = [], {}
    for i, case_id in enumerate(ids):
        outcome = outcomes[i % len(outcomes)]
        suite = "test_tf1.py::test_tf1" if case_id.startswith("tf1-") else "test_keras.py::test_keras"
        nodeid = f"src/rnnparity/suite/{suite}[{case_id}]"
        message = {"failed": f"[{case_id}] the reference and the framework disagree (1 problem(s))\n  output [0] differs",
                   "skipped": f"{case_id.rsplit('-', 1)[-1]} cannot express this case: time_major"}.get(outcome, "")
        rows.append({"nodeid": nodeid, "case": case_id, "outcome": outcome, "message": message})
        if outcome in ("failed", "xfailed"):
            details[nodeid] = {"rnnparity_errors": _curves(i % 5), "diagnosis": "diagnosis line" if i % 2 else None}
            if outcome == "xfailed":
                details[nodeid].update(xfail_reason="known framework bug [unroll-mask-go-backwards-zero-output]: x",
                                       text="the failure report")
        elif i % 10 == 4:  # every other passed case (i % 5 == 4) is a rejection
            details[nodeid] = {"rejected": "ValueError: Forward layer and backward layer ..."}
    for case_id in ids[:6]:  # the same ids replayed from a recording: their own panel
        rows.append({"nodeid": f"src/rnnparity/suite/test_replay.py::test_replay[rec-1/{case_id}]",
                     "case": case_id, "outcome": "passed", "message": ""})
    counts = Counter(r["outcome"] for r in rows)
    summary = {"counts": dict(counts), "exit_code": 1, "versions": __import__("rnnparity.targets.installed",
               fromlist=["versions"]).versions(), "tier": "quick", "targets": "tf_keras,keras3,tf1",
               "elapsed_s": 12.5, "max_errors": {"float32": {"abs": 1e-7, "rel": 1e-5, "cases": 3}}, "cases": rows}
    path = tmp_path_factory.mktemp("html") / "check.html"
    html.write_check_page(path, summary, details, seeds="crc32")
    return path, summary, details


def test_every_case_of_the_run_is_in_the_grid_once_with_its_verdict(synthetic):
    path, summary, details = synthetic
    page = Page(path.read_text())
    def panel_of(r):
        if "test_replay" in r["nodeid"]:
            return "replay rec-1"
        return "tf1" if r["case"].startswith("tf1-") else registry.target_of(r["case"])

    seen = Counter((c["panel"], c["data-case"]) for c in page.cases)
    assert set(seen) == {(panel_of(r), r["case"]) for r in summary["cases"]}
    assert max(seen.values()) == 1 and sum(seen.values()) == len(summary["cases"])
    by_id = {(c["panel"], c["data-case"]): c for c in page.cases}
    for r in summary["cases"]:
        li = by_id[(panel_of(r), r["case"])]
        assert li["data-outcome"] == r["outcome"]
        assert li["data-verdict"] == html.check_verdict(r["outcome"], details.get(r["nodeid"], {}))
    assert {c["data-verdict"] for c in page.cases} == {"pass", "fail", "xfail", "skip", "rejected"}


def test_the_grid_counts_are_the_runs_counts(synthetic):
    path, summary, _ = synthetic
    page = Page(path.read_text())
    assert Counter(c["data-outcome"] for c in page.cases) == Counter(summary["counts"])
    assert page.totals == {o: summary["counts"].get(o, 0) for o in ("passed", "failed", "xfailed", "skipped")}
    assert_cells_count_their_cases(page, list(html.CHECK_VERDICTS))


def test_a_flag_panel_has_the_16_combinations_and_cells_sit_under_their_flags(synthetic):
    path, summary, _ = synthetic
    panels = {p["name"]: p for p in html.grid(html.check_entries(summary, {}), html.CHECK_VERDICTS)}
    heads = panels["tf_keras"]["heads"]
    assert [h["name"] for h in heads] == list(html.FLAG_HEADS) and len(heads[0]["values"]) == 16
    for row in panels["tf_keras"]["rows"]:
        for k, cell in enumerate(row["cells"]):
            for e in cell["entries"]:
                assert [h["values"][k] == "✓" for h in heads] == [f in e.id.split("-") for f in
                                                                  ("seq", "state", "bwd", "stateful")], e.id


def test_failing_and_diverging_cases_get_a_plot_the_worst_element_and_the_diagnosis(synthetic):
    path, summary, details = synthetic
    text = path.read_text()
    bad = [r for r in summary["cases"] if r["outcome"] in ("failed", "xfailed")]
    assert text.count('<section class="case-detail v-') == len(bad)
    assert text.count("<svg") == len(bad)  # each has a sequence output beyond tolerance
    assert text.count('class="diagnosis"') == sum(1 for r in bad if details[r["nodeid"]]["diagnosis"])
    assert "rnnparity check --case " + bad[0]["case"] in text


def test_the_page_fetches_nothing_and_is_small(synthetic):
    path, _, _ = synthetic
    assert_self_contained(path, Page(path.read_text()))


def test_the_registry_links_upstream_issues_or_says_none():
    rows = {r["key"]: r for r in html.registry_rows()}
    assert len(rows) == len(all_divergences())
    links = [link["text"] for link in rows["unroll-mask-go-backwards-zero-output"]["links"]]
    assert links == ["keras-team/keras#17596", "keras-team/tf-keras#252"]
    text = html.render("check.html.j2", title="t", verdicts=html.CHECK_VERDICTS, panels=[], filters=[],
                       groups=[], registry=list(rows.values()), versions=[], keyword=None, seeds="",
                       started="", outcome_counts=[], verdict_counts=Counter(), plot_budget="1 MB",
                       repro_prefix="",
                       summary={"counts": {}, "tier": "quick", "targets": "", "elapsed_s": 0, "exit_code": 0,
                                "max_errors": {}, "cases": []})
    assert text.count("not reported upstream") == sum(1 for r in rows.values() if not r["links"])


# -- the error curves the suite records -----------------------------------------------------------
def test_error_curves_say_where_the_error_starts_and_how_it_grows():
    payload = _curves(3)
    (seq, state), = [payload["outputs"]]
    assert seq["first_bad"] == 3 and seq["per_step"][:3] == [0.0, 0.0, 0.0]
    assert seq["per_step"][3:] == sorted(seq["per_step"][3:]) and seq["per_step"][-1] == pytest.approx(0.5)
    assert seq["worst"]["index"][1] == 6 and seq["worst"]["reference"] == pytest.approx(0.5)
    assert len(state["per_step"]) == 1 and state["first_bad"] is None
    assert html.error_plot(payload["outputs"]).startswith("<svg")
    from rnnparity.check.compare import Mismatch

    verdict = Mismatch("rounding", "rounding verdict: FAIL, not rounding (re-run in float64):\n  still 0.4 apart")
    assert error_curves([verdict])["other"] == ["rounding verdict: FAIL, not rounding (re-run in float64): "
                                                "still 0.4 apart"]


# -- rnnparity compare --html ---------------------------------------------------------------------------
def test_compare_page_has_every_case_once_with_its_status(tmp_path):
    a, b = FIXTURES / "tf_keras-2.21.0", FIXTURES / "keras3-3.15.1"
    if not (a.is_dir() and b.is_dir()):
        pytest.skip("the checkout's fixtures/ recordings are not here")
    out = tmp_path / "compare.html"
    assert main(["compare", str(a), str(b), "--html", str(out), "--out", str(tmp_path / "c.md")]) == 1
    result = upgrade.compare(a, b)
    page = Page(out.read_text())
    by_key = defaultdict(list)
    for c in page.cases:
        by_key[c["data-case"]].append(c["data-verdict"])
    assert {k: v for k, v in by_key.items()} == {c.key: [upgrade.action(c)] for c in result.cases}
    assert page.totals == {} and Counter(v[0] for v in by_key.values()) == Counter(
        upgrade.action(c) for c in result.cases)
    for status, n in result.counts.items():  # the totals the text report prints
        assert f'data-status="{status}"><b>{n}</b>' in out.read_text()
    assert_cells_count_their_cases(page, list(html.COMPARE_VERDICTS))
    assert_self_contained(out, page)
    for (status, kind, sig), members in upgrade.groups(result):  # the text report's groups
        assert f"({len(members)} cases)" in out.read_text()


# -- rnnparity check-model --html -----------------------------------------------------------------------
def test_model_page_has_one_row_per_layer_with_its_verdict(tmp_path):
    from rnnparity.model.check_model import LayerResult, ModelReport

    layers = [LayerResult("enc/lstm", "LSTM", "pass", 1e-7, None, "none", "", "seq", 2, 1),
              LayerResult("dec", "Bidirectional(GRU)", "xfail", 0.4, 3, "propagated", "known framework bug [k]: x"),
              LayerResult("head", "SimpleRNN", "fail", 0.2, 0, "none", "[head] disagree\n  output [0]")]
    out = tmp_path / "model.html"
    html.write_model_page(out, ModelReport("m.keras", "keras3", layers, {"keras": "3.15.1"}))
    text = out.read_text()
    rows = re.findall(r'<tr data-layer="([^"]+)" data-status="([^"]+)">', text)
    assert rows == [(r.name, r.status) for r in layers]
    assert "FAILED" in text and text.count('<section class="case-detail v-') == 2
    assert_self_contained(out, Page(text))


# -- without the extra ---------------------------------------------------------------------------------
def test_without_the_extra_html_says_what_to_install(monkeypatch, tmp_path, capsys):
    real = html.importlib.util.find_spec
    monkeypatch.setattr(html.importlib.util, "find_spec", lambda name, *a: None if name == "jinja2" else real(name, *a))
    with pytest.raises(ImportError, match=re.escape('pip install "rnnparity[report]"')):
        html.require()
    out = tmp_path / "c.html"
    assert main(["compare", str(tmp_path), str(tmp_path), "--html", str(out)]) == 2
    err = capsys.readouterr().err
    assert "rnnparity compare: --html needs jinja2" in err and 'pip install "rnnparity[report]"' in err
    assert not out.exists()
    # check says it before running a case
    assert main(["check", "--target", "tf_keras", "--html", str(out)]) == 2
    assert 'pip install "rnnparity[report]"' in capsys.readouterr().err and not out.exists()


# -- a real run ---------------------------------------------------------------------------------------
@pytest.mark.live
def test_a_real_check_run_page_matches_its_text_report(tmp_path):
    ok, why = registry.availability("tf_keras")
    if not ok:
        pytest.skip(why)
    out = tmp_path / "check.html"
    # simple_rnn unrolled and masked: passes and the registered unroll/mask xfails (~30 s)
    proc = subprocess.run([sys.executable, "-m", "rnnparity.cli", "check", "--target", "tf_keras", "-k",
                           "simple_rnn and unroll and mask", "--html", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = re.search(r"^(\d+) cases in [\d.]+ s: (\d+) passed, (\d+) failed, (\d+) xfailed, (\d+) skipped$",
                     proc.stdout, re.M)
    total, *counts = map(int, line.groups())
    # the report ends with its verdict, after the known divergences grouped by registry entry
    last = proc.stdout.rstrip().splitlines()[-1]
    assert last == f"VERDICT: PASSED (exit 0): {total} cases: " + ", ".join(
        f"{n} {o}" for o, n in zip(("passed", "failed", "xfailed", "skipped"), counts) if n or o == "failed")
    assert re.search(rf"^known divergences \(strict xfails\): {counts[2]} cases?, \d+ registry entr(y|ies) ", proc.stdout, re.M)
    page = Page(out.read_text())
    assert len(page.cases) == len({c["data-case"] for c in page.cases}) == total
    grid_counts = Counter(c["data-outcome"] for c in page.cases)
    assert [grid_counts[o] for o in ("passed", "failed", "xfailed", "skipped")] == counts
    assert counts[2] > 0 and out.read_text().count("<svg") == counts[2]  # each xfail plots its error curve
    assert_cells_count_their_cases(page, list(html.CHECK_VERDICTS))
    assert_self_contained(out, page)
