"""Small inputs for the HTML pages' tests (tests/test_compare_page.py, tests/test_pages_browser.py): two
recordings of a few cases cut from the committed fixtures/ (real framework outputs), a scripted `check`
run over real case ids, and a check-model report. Each page renders in well under a second."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from rnnparity.golden import MANIFEST

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
A, B = FIXTURES / "tf_keras-2.21.0", FIXTURES / "keras3-3.15.1"

# compare A (tf_keras) with B (keras3): a case or two of each kind of change (see golden.upgrade.ACTIONS)
COMPARED = {
    "differs": ("gru-bwd-ract_hard_sigmoid-f32", "lstm-state-act_hard_sigmoid-f32"),  # the second: values and list/tuple
    "newly-rejected": ("lstm-time_major-f32", "gru-bidi_ave-bwd-f32"),
    "dtype": ("gru-bidi_mul-f16",),
    "structure": ("gru-state-f32", "lstm-state-f16", "lstm-seq-state-f32"),
    "same": ("gru-f32", "lstm-f32"),
}
ONLY_IN_A = "gru-b1-f32"


def subset_recording(src: Path, keys, out: Path) -> Path:
    """A recording of only the cases of ``src`` whose id less the target is in ``keys``."""
    manifest = json.loads((src / MANIFEST).read_text())
    target = manifest["target"]
    cases = {}
    out.mkdir(parents=True)
    for key in keys:
        case_id = f"{key}-{target}"
        entry = manifest["cases"][case_id]
        shutil.copy(src / entry["file"], out / entry["file"])
        assert hashlib.sha256((out / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
        cases[case_id] = entry
    (out / MANIFEST).write_text(json.dumps({**manifest, "cases": cases}, indent=1, sort_keys=True))
    return out


def compare_recordings(tmp: Path):
    """(a, b): the two small recordings, or None when the checkout's fixtures/ are not here."""
    if not (A.is_dir() and B.is_dir()):
        return None
    keys = [k for ks in COMPARED.values() for k in ks]
    return (subset_recording(A, keys + [ONLY_IN_A], tmp / "a"), subset_recording(B, keys, tmp / "b"))


# -- a scripted `rnnparity check` run --------------------------------------------------------------------
# (case id, pytest outcome, detail): real ids, so that each lands in its panel, row and column
XFAIL = {"xfail_reason": "known framework bug [unroll-mask-go-backwards-zero-output]: x"}
CHECK_RUN = (
    ("lstm-seq-f32-tf_keras", "passed", {}),
    ("lstm-seq-mask_left-f32-tf_keras", "passed", {}),
    ("lstm-seq-mask_right-f64-tf_keras", "failed", {}),
    ("gru-state-f32-tf_keras", "skipped", {}),
    ("gru-state-mask_left-f32-tf_keras", "passed", {"rejected": "ValueError: Forward layer and backward layer ..."}),
    ("simple_rnn-bwd-f32-keras3", "passed", {}),
    # seven known divergences of one registry entry: their group on the page starts collapsed
    *((case_id, "xfailed", XFAIL) for case_id in (
        "lstm-seq-f64-tf_keras", "lstm-state-f64-tf_keras", "lstm-bwd-f64-tf_keras", "gru-seq-f64-tf_keras",
        "gru-state-f64-tf_keras", "simple_rnn-seq-f64-tf_keras", "simple_rnn-state-f64-tf_keras")),
)


def check_summary():
    """(summary, details) as `rnnparity check` hands them to html.write_check_page."""
    from rnnparity.targets.installed import versions

    rows, details = [], {}
    for case_id, outcome, detail in CHECK_RUN:
        nodeid = f"src/rnnparity/suite/test_keras.py::test_keras[{case_id}]"
        message = {"failed": f"[{case_id}] the reference and the framework disagree (1 problem(s))\n"
                             f"  output [0] differs",
                   "skipped": "tf_keras cannot express this case: time_major"}.get(outcome, "")
        rows.append({"nodeid": nodeid, "case": case_id, "outcome": outcome, "message": message})
        if detail:
            details[nodeid] = dict(detail, text="the failure report") if outcome == "xfailed" else dict(detail)
    counts = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    summary = {"counts": counts, "exit_code": 1, "versions": versions(), "tier": "quick",
               "targets": "tf_keras,keras3", "elapsed_s": 1.5, "max_errors": {}, "cases": rows}
    return summary, details


def write_check_page(path: Path) -> Path:
    from rnnparity.report import html

    summary, details = check_summary()
    html.write_check_page(path, summary, details, seeds="crc32")
    return path


def write_model_page(path: Path) -> Path:
    from rnnparity.model.check_model import LayerResult, ModelReport
    from rnnparity.report import html

    layers = [LayerResult("enc/lstm", "LSTM", "pass", max_abs_error=1e-7, flags="seq", outputs_per_call=2, calls=1),
              LayerResult("dec", "Bidirectional(GRU)", "xfail", max_abs_error=0.4, first_diverging_step=3,
                          mask_source="propagated", message="known framework bug [k]: x"),
              LayerResult("head", "SimpleRNN", "fail", max_abs_error=0.2, first_diverging_step=0,
                          message="[head] disagree\n  output [0]")]
    html.write_model_page(path, ModelReport("m.keras", "keras3", layers, {"keras": "3.15.1"}))
    return path
