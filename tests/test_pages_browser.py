"""The pages' JavaScript in a real browser: Debian's headless chromium, driven by selenium through
chromedriver (both from apt: `apt-get install chromium chromium-driver`, which .ci/run does). The check
page's grid filters recount and recolour the cells, a clicked cell opens the pane with its cases, their
verdicts and repro commands, the pane's details link opens a collapsed group; the compare page colours
structure-only changes apart and its filters recompute the largest differences; the check-model page
links each layer's verdict to its report. Every test also asserts the page logged no JavaScript error.

The pages come from small inputs (tests/page_fixtures.py), not from a suite run; one browser serves the
whole file (a few seconds). Without chromium or chromedriver the tests skip, saying so."""
from __future__ import annotations

import shutil
from collections import Counter

import pytest

pytest.importorskip("jinja2")
pytest.importorskip("matplotlib")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra: "
                                "pip install -e '.[test]'")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from tests import page_fixtures  # noqa: E402
from rnnparity.golden import upgrade  # noqa: E402
from rnnparity.report import html, statuses  # noqa: E402

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def browser():
    binary = next((shutil.which(b) for b in CHROMIUM if shutil.which(b)), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver; .ci/run does)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pages")
    out = {"check": page_fixtures.write_check_page(tmp / "check.html"),
           "model": page_fixtures.write_model_page(tmp / "model.html")}
    pair = page_fixtures.compare_recordings(tmp)
    if pair is not None:
        html.write_compare_page(tmp / "compare.html", upgrade.compare(*pair))
        out["compare"] = tmp / "compare.html"
    return out


@pytest.fixture
def open_page(browser, pages):
    """Load a page; after the test, no JavaScript error may have been logged."""
    def load(name):
        if name not in pages:
            pytest.skip("the checkout's fixtures/ recordings are not here")
        browser.get(pages[name].as_uri())
        browser.get_log("browser")  # start clean
        return browser

    yield load
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


# -- reading the page --------------------------------------------------------------------------------
def cell_of(driver, case_id):
    return driver.find_element(By.XPATH, f"//li[@data-case='{case_id}']/ancestor::td[1]")


SHOWN_COUNTS = """
return [...document.querySelectorAll("td.cell, td.empty")]
  .filter(td => td.querySelector("li[data-case]"))
  .map(td => [td.dataset.where, td.querySelector(".n").textContent, td.className]);
"""


def shown_counts(driver):
    """{cell's data-where: (count shown, class)} for every cell with a case (one round trip: a page has
    dozens of cells)."""
    return {where: (int(n) if n else 0, cls) for where, n, cls in driver.execute_script(SHOWN_COUNTS)}


def legend_totals(driver):
    return {b.get_attribute("data-total"): int(b.text) for b in driver.find_elements(By.CSS_SELECTOR, "b[data-total]")}


def panel_counts(driver, panel):
    return driver.find_element(By.XPATH, f"//table[@data-panel='{panel}']/ancestor::details[1]"
                                         f"//span[@class='pcounts']").text


def pane(driver):
    box = driver.find_element(By.ID, "pane")
    items = []
    for li in box.find_elements(By.CSS_SELECTOR, "#pane-list > li"):
        code = li.find_elements(By.TAG_NAME, "code")
        items.append({"id": li.find_element(By.CSS_SELECTOR, ".id").text,
                      "badge": li.find_element(By.CSS_SELECTOR, ".badge").text,
                      "repro": " ".join(code[0].text.split()) if code else None})
    return box.is_displayed(), driver.find_element(By.ID, "pane-title").text, items


def choose(driver, name, value):
    Select(driver.find_element(By.CSS_SELECTOR, f"select[data-filter='{name}']")).select_by_value(value)


def check_run(dtype=None):
    from rnnparity.matrix.cases import case_from_id

    return [(c, o, d) for c, o, d in page_fixtures.CHECK_RUN if dtype is None or case_from_id(c).dtype == dtype]


# -- rnnparity check --html ----------------------------------------------------------------------------
def test_check_grid_filters_recount_and_recolour_the_cells(open_page):
    driver = open_page("check")
    everything = shown_counts(driver)
    assert sum(n for n, _ in everything.values()) == len(page_fixtures.CHECK_RUN)
    verdicts = Counter(statuses.check_verdict(o, d) for _, o, d in page_fixtures.CHECK_RUN)
    assert legend_totals(driver) == {v: verdicts.get(v, 0) for v in html.CHECK_VERDICTS}

    choose(driver, "dtype", "f64")
    f64 = check_run("f64")
    after = shown_counts(driver)
    assert sum(n for n, _ in after.values()) == len(f64)
    assert legend_totals(driver) == {v: sum(statuses.check_verdict(o, d) == v for _, o, d in f64)
                                     for v in html.CHECK_VERDICTS}
    # the lstm return_sequences cell holds two passes (f32), a failure and a known divergence (f64):
    # filtered to f64 it shows 2, red; filtered to f32 and mask left, 1, green
    seq = cell_of(driver, "lstm-seq-f32-tf_keras").get_attribute("data-where")
    assert everything[seq] == (4, "cell v-fail") and after[seq] == (2, "cell v-fail")
    keras3 = cell_of(driver, "simple_rnn-bwd-f32-keras3").get_attribute("data-where")
    assert everything[keras3] == (1, "cell v-pass") and after[keras3] == (0, "empty")  # its one case is f32
    assert panel_counts(driver, "tf_keras") == "failed: 1 · known divergence: 7"
    assert panel_counts(driver, "keras3") == "no case matches the filters"
    choose(driver, "dtype", "f32")
    choose(driver, "mask", "left")
    assert shown_counts(driver)[seq] == (1, "cell v-pass")
    choose(driver, "dtype", "f64")

    choose(driver, "mask", "left")  # f64 and mask left: nothing
    assert sum(n for n, _ in shown_counts(driver).values()) == 0
    assert panel_counts(driver, "tf_keras") == "no case matches the filters"
    choose(driver, "mask", "")
    choose(driver, "dtype", "")
    assert shown_counts(driver) == everything


def test_a_clicked_cell_opens_the_pane_with_its_cases_verdicts_and_repro_commands(open_page):
    driver = open_page("check")
    assert not pane(driver)[0]
    cell_of(driver, "lstm-seq-f32-tf_keras").click()
    shown, title, items = pane(driver)
    assert shown and title == "tf_keras · lstm · return_sequences: 4 case(s)"
    assert "selected" in cell_of(driver, "lstm-seq-f32-tf_keras").get_attribute("class")
    # worst first, then by id; each with its verdict and the command that reruns it
    assert items == [{"id": "lstm-seq-mask_right-f64-tf_keras", "badge": "failed",
                      "repro": "rnnparity check --case lstm-seq-mask_right-f64-tf_keras"},
                     {"id": "lstm-seq-f64-tf_keras", "badge": "known divergence",
                      "repro": "rnnparity check --case lstm-seq-f64-tf_keras"},
                     {"id": "lstm-seq-f32-tf_keras", "badge": "passed", "repro": "rnnparity check --case lstm-seq-f32-tf_keras"},
                     {"id": "lstm-seq-mask_left-f32-tf_keras", "badge": "passed",
                      "repro": "rnnparity check --case lstm-seq-mask_left-f32-tf_keras"}]
    note = driver.find_element(By.CSS_SELECTOR, "#pane-list > li .note").text
    assert note == "output [0] differs"  # the failure's first problem
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    assert not pane(driver)[0]

    choose(driver, "mask", "left")  # the pane lists only what the filters show
    cell_of(driver, "lstm-seq-f32-tf_keras").click()
    assert [i["id"] for i in pane(driver)[2]] == ["lstm-seq-mask_left-f32-tf_keras"]
    driver.find_element(By.CSS_SELECTOR, "#pane .close").click()
    assert not pane(driver)[0]


def test_the_panes_details_link_opens_the_collapsed_group_and_shows_the_case(open_page):
    driver = open_page("check")
    group = driver.find_element(By.XPATH, "//details[contains(@class, 'group')][.//section[contains(@class, 'v-xfail')]]")
    assert group.get_attribute("open") is None  # seven known divergences: collapsed
    cell_of(driver, "gru-seq-f64-tf_keras").click()
    (item,) = pane(driver)[2]
    assert item["badge"] == "known divergence"
    link = driver.find_element(By.CSS_SELECTOR, "#pane-list a")
    anchor = link.get_attribute("href").split("#", 1)[1]
    link.click()
    section = driver.find_element(By.ID, anchor)
    assert group.get_attribute("open") is not None and section.is_displayed()
    assert driver.execute_script("return location.hash") == "#" + anchor
    top, bottom, height = driver.execute_script(  # scrolled into the viewport (to a fraction of a pixel)
        "const r = arguments[0].getBoundingClientRect(); return [r.top, r.bottom, window.innerHeight]", section)
    assert -2 <= top < height and bottom > 0


# -- rnnparity compare --html --------------------------------------------------------------------------
def test_compare_colours_structure_only_apart_and_its_pane_gives_both_repros(open_page):
    driver = open_page("compare")
    colour = {}
    for key in ("differs", "structure", "dtype", "newly-rejected"):
        td = driver.find_element(By.CSS_SELECTOR, f"td.cell.v-{key}")
        colour[key] = td.value_of_css_property("background-color")
    assert len(set(colour.values())) == 4, colour
    cell_of(driver, "gru-state-f32").click()
    shown, title, items = pane(driver)
    assert shown and title.startswith("Keras matrix · gru · return_state")
    assert items == [{"id": "gru-state-f32", "badge": "structure only",
                      "repro": "rnnparity check --case gru-state-f32-tf_keras "
                               "(B: rnnparity check --case gru-state-f32-keras3)"}]
    assert cell_of(driver, "gru-state-f32").find_element(By.CSS_SELECTOR, ".big").text == "0"


def test_compare_filters_recompute_the_largest_difference(open_page):
    driver = open_page("compare")
    cell = cell_of(driver, "lstm-state-act_hard_sigmoid-f32")  # values (0.0148) and lstm-state-f16 (0)
    assert (cell.find_element(By.CSS_SELECTOR, ".n").text, cell.find_element(By.CSS_SELECTOR, ".big").text) == \
        ("2", "0.015")
    assert "v-differs" in cell.get_attribute("class")
    choose(driver, "dtype", "f16")
    assert (cell.find_element(By.CSS_SELECTOR, ".n").text, cell.find_element(By.CSS_SELECTOR, ".big").text) == \
        ("1", "0")
    assert "v-structure" in cell.get_attribute("class")
    assert legend_totals(driver)["structure"] == 1 and legend_totals(driver)["differs"] == 0


# -- rnnparity check-model --html ----------------------------------------------------------------------
def test_check_model_page_links_each_verdict_to_the_layers_report(open_page):
    driver = open_page("model")
    rows = driver.find_elements(By.CSS_SELECTOR, "#layers tr[data-layer]")
    assert [(r.get_attribute("data-layer"), r.get_attribute("data-status")) for r in rows] == \
        [("enc/lstm", "pass"), ("dec", "xfail"), ("head", "fail")]
    assert not pane(driver)[0]
    rows[2].find_element(By.CSS_SELECTOR, "td.v-fail a").click()
    anchor = driver.execute_script("return location.hash")[1:]
    section = driver.find_element(By.ID, anchor)
    assert section.is_displayed() and section.find_element(By.TAG_NAME, "h3").text.startswith("head (SimpleRNN)")
    assert "[head] disagree" in section.find_element(By.TAG_NAME, "pre").text
    assert rows[0].find_elements(By.TAG_NAME, "a") == []  # a passing layer has no report to link
