"""The HTML report: one self-contained static page (inline CSS, JS and SVG plots; nothing fetched, so
it opens offline from a CI artifact) for `rnnparity check --html`, `rnnparity compare --html` and
`rnnparity check-model --html`.

The page is a Jinja2 template (templates/); the plots are drawn by matplotlib. Both come with the
optional extra `rnnparity[report]` and are imported only here, only when a page is written.

The grid: one panel per target (or per recording replayed), rows = layer x cell x wrapper, columns =
the 16 return_sequences x return_state x go_backwards x stateful combinations; tf1 cases get rows =
function x cell, columns = sequence lengths x layout x initial state. Each case is one <li> of its
cell (data-case, data-verdict, the filter attributes): the page's JS filters and recounts them.
"""
from __future__ import annotations

import datetime
import importlib.util
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

EXTRA = 'pip install "rnnparity[report]"'
TEMPLATES = Path(__file__).with_name("templates")
MAX_PLOTS = 400  # plots beyond these would take the page past 5 MB; the later cases keep their tables
FLAG_HEADS = ("return_sequences", "return_state", "go_backwards", "stateful")
TF1_HEADS = ("sequence_length", "layout", "initial state")


def require():
    """Raise ImportError naming the extra when Jinja2 or matplotlib is missing (nothing imported)."""
    missing = [m for m in ("jinja2", "matplotlib") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"--html needs {' and '.join(missing)}, which is not installed: {EXTRA}")


# -- verdicts: (css class, label, symbol shown in a cell), worst first --------------------------
CHECK_VERDICTS = {
    "fail": ("failed", "✗"),
    "xfail": ("known divergence (strict xfail)", "⚠"),
    "pass": ("passed", ""),
    "rejected": ("rejected by the framework, as by the reference (passed)", "⊘"),
    "skip": ("skipped (not expressible by the target, or not installed)", "–"),
}
COMPARE_VERDICTS = {
    "differs": ("differs", "≠"),
    "newly-rejected": ("newly rejected (accepted in A, rejected in B)", "⊘"),
    "newly-accepted": ("newly accepted (rejected in A, accepted in B)", "+"),
    "only": ("in one recording only", "?"),
    "same": ("same within tolerance", ""),
}
COMPARE_STATUS = {"same": "same", "differs": "differs", "rejected in B": "newly-rejected",
                  "rejected in A": "newly-accepted", "only in A": "only", "only in B": "only"}


def check_verdict(outcome, detail) -> str:
    if outcome == "passed":
        return "rejected" if "rejected" in detail else "pass"
    return {"failed": "fail", "xfailed": "xfail", "skipped": "skip"}[outcome]


# -- where a case goes in the grid ----------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    panel: str
    heads: tuple  # the column header rows' names
    row: tuple  # sort key, then the label last
    col: tuple  # one value per header row
    attrs: tuple = ()  # (name, value) pairs the filters read: mask, dtype, init


def place(case_id: str, panel: str | None = None) -> Place:
    """The panel, row and column of a case id; ``panel`` overrides the panel (a replayed recording)."""
    from ..matrix import cases as m
    from ..targets import registry

    if case_id.startswith("tf1-"):
        from ..matrix.tf1_cases import Tf1Case

        try:
            c = Tf1Case.from_id(case_id)
        except (ValueError, AssertionError):
            return _other(case_id, panel or "tf1")
        return Place(panel or "tf1", TF1_HEADS, (c.function, c.cell, f"{c.function} · {c.cell}"),
                     (f"seqlen {c.seqlen}", "time major" if c.time_major else "batch major",
                      "given" if c.init else "zeros"),
                     (("mask", "n/a (tf1)"), ("dtype", {"float32": "f32", "float64": "f64"}[c.dtype]),
                      ("init", "yes" if c.init else "no")))
    try:
        c = m.case_from_id(case_id)
    except ValueError:
        return _other(case_id, panel or registry.target_of(case_id) or "other")
    parts = [c.layer] + ([m.CELLS[c.cell]] if c.cell != "layer" else []) + \
        ([c.wrapper] if c.wrapper != "none" else [])
    row = (list(m.LAYERS).index(c.layer), list(m.CELLS).index(c.cell), list(m.WRAPPERS).index(c.wrapper),
           " · ".join(parts))
    return Place(panel or c.target, FLAG_HEADS, row, tuple(getattr(c, f) for f in m.FLAGS),
                 (("mask", c.mask), ("dtype", c.dtype), ("init", "yes" if c.initial_state else "no")))


def _other(case_id, panel):
    return Place(panel, ("",), (0, "other tests"), ("",))


def _columns(heads):
    """Every column of a flag panel (all 16, in the matrix's order), else None (the ones seen)."""
    if heads == FLAG_HEADS:
        import itertools

        return list(itertools.product((False, True), repeat=len(FLAG_HEADS)))
    return None


@dataclass
class Entry:
    """One case of the page: where it goes, its verdict, and what the cell's pane shows."""
    id: str
    verdict: str
    place: Place
    note: str = ""  # one line: why it failed / diverged / was rejected / skipped; a compare finding
    repro: str = ""
    anchor: str = ""  # the id of its detail section, if it has one
    outcome: str = ""  # check: the pytest outcome (what the text report counts)
    max_abs: float | None = None  # compare: the largest difference
    extra: dict = field(default_factory=dict)


def grid(entries, verdicts) -> list:
    """Panels for the template: {name, heads, columns, rows: [{label, cells: [cell]}], counts}."""
    order = list(verdicts)
    panels: dict = {}
    for e in entries:
        p = panels.setdefault(e.place.panel, {"name": e.place.panel, "heads": e.place.heads, "rows": {},
                                             "cols": set(), "counts": Counter()})
        p["rows"].setdefault(e.place.row, defaultdict(list))[e.place.col].append(e)
        p["cols"].add(e.place.col)
        p["counts"][e.verdict] += 1
    out = []
    for name in sorted(panels, key=_panel_order):
        p = panels[name]
        cols = _columns(p["heads"]) or sorted(p["cols"])
        rows = []
        for key in sorted(p["rows"]):
            cells = [_cell(p["rows"][key].get(col, []), order, verdicts) for col in cols]
            rows.append({"label": key[-1], "cells": cells})
        heads = [{"name": h, "values": [_head(col[i]) for col in cols]} for i, h in enumerate(p["heads"])]
        out.append({"name": name, "heads": heads, "rows": rows, "n": sum(p["counts"].values()),
                    "col_labels": [_col_label(p["heads"], col) for col in cols],
                    "counts": [(v, p["counts"][v]) for v in order if p["counts"][v]]})
    return out


def _panel_order(name):
    from ..targets import registry

    names = list(registry.TARGETS)
    return (name.startswith("replay"), names.index(name) if name in names else len(names), name)


def _col_label(heads, col):
    """A column in words, for the pane's title: 'return_sequences + stateful', 'no flag'."""
    if heads == FLAG_HEADS:
        return " + ".join(h for h, on in zip(heads, col) if on) or "no flag"
    return " · ".join(str(v) for v in col if v != "") or "cases"


def _head(value):
    return "✓" if value is True else "" if value is False else str(value)


def _cell(entries, order, verdicts):
    counts = Counter(e.verdict for e in entries)
    worst = next((v for v in order if counts[v]), None)
    largest = max((e.max_abs for e in entries if e.max_abs is not None), default=None)
    return {"entries": sorted(entries, key=lambda e: (order.index(e.verdict), e.id)), "n": len(entries),
            "verdict": worst, "badges": badges(counts, order, verdicts), "largest": small_number(largest),
            "title": _title(counts, order, verdicts, largest)}


def badges(counts, order, verdicts):
    """(symbol, count) for each verdict of a mixed cell (the colour says it all in a uniform one)."""
    if sum(1 for v in order if counts[v]) < 2:
        return []
    return [(verdicts[v][1], counts[v]) for v in order if counts[v] and verdicts[v][1]]


def small_number(x):
    """A cell's largest difference, in 3-4 characters (the page's JS formats the same way)."""
    if x is None:
        return ""
    if x == 0:
        return "0"
    return f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e") if x < 0.01 or x >= 1000 else f"{x:.2g}"


def _title(counts, order, verdicts, largest):
    if not counts:
        return "no case"
    text = f"{sum(counts.values())} cases: " + ", ".join(f"{verdicts[v][0].split(' (')[0]} {counts[v]}"
                                                          for v in order if counts[v])
    if largest is not None:
        text += f"; largest difference {largest:.3g}"
    return text + " (click for the ids)"


def filters(entries) -> list:
    """The filter menus: (name, label, values seen)."""
    seen = defaultdict(set)
    for e in entries:
        for k, v in e.place.attrs:
            seen[k].add(v)
    labels = {"mask": "mask", "dtype": "dtype", "init": "initial_state"}
    return [(k, labels[k], sorted(seen[k])) for k in labels if seen.get(k)]


# -- plots ----------------------------------------------------------------------------------------
def _float(v):
    return float(v) if not isinstance(v, str) else float("inf") if "inf" in v else float("nan")


def error_plot(outputs, salt="rnnparity") -> str | None:
    """An inline SVG: max abs error per timestep of each sequence output (log scale), with its atol;
    None when no output has a time axis (their single values are in the table). ``salt``: unique per
    plot of a page, so that the SVG's clip-path ids do not collide."""
    curves = [o for o in outputs if len(o.get("per_step") or ()) > 1]
    if not curves:
        return None
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt, "font.size": 8.5}):
        fig = Figure(figsize=(5.2, 2.4), dpi=96)
        ax = fig.add_subplot()
        atol = min(o["atol"] for o in curves)
        values = [_float(v) for o in curves for v in o["per_step"]]
        floor = min([v for v in values if 0 < v < float("inf")] + [atol]) / 10  # where an exact 0 is drawn
        for o in curves:
            ys = [min(max(_float(v), floor), 1e6) for v in o["per_step"]]  # NaN stays a gap; inf is clipped
            ax.plot(range(len(ys)), ys, marker="o", markersize=3, linewidth=1.3, label=_short(o["label"]))
        if any(v == 0 for v in values):
            ax.text(1, 0.02, "an exact 0 is drawn on the bottom edge", transform=ax.transAxes, ha="right",
                    va="bottom", fontsize=6.5, color="0.35")
        top = max([min(v, 1e6) for v in values if v == v] + [atol])
        ax.set_ylim(floor / 1.5, top * 3)
        ax.axhline(atol, color="0.45", linestyle="--", linewidth=0.8, label=f"atol {atol:g}")
        ax.set_yscale("log")
        ax.set_xlabel("timestep of the output")
        ax.set_ylabel("max |error|")
        ax.grid(True, which="major", linewidth=0.3)
        ax.legend(fontsize=6.5, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False,
                  borderaxespad=0.2)
        fig.subplots_adjust(left=0.13, right=0.98, bottom=0.2, top=0.8)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype: inline SVG in HTML5
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    # every plot of a page shares one id space: prefix its ids and the references to them
    prefix = re.sub(r"[^\w-]", "_", salt)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    return re.sub(r'(url\(#|href="#)([^")]+)', rf"\1{prefix}-\2", svg)


def _short(label):
    """'call 1 of 2 (first): output [0] = whole sequence output (...)' -> 'call 1: output [0] = whole
    sequence output'."""
    label = re.sub(r"^call (\d+) of \d+ \([^)]*\): ", r"call \1: ", label or "")
    return re.sub(r" \(.*$", "", label)[:60]


# -- the divergence registry ----------------------------------------------------------------------
def registry_rows(hits=None) -> list:
    from ..check.divergences import all_divergences

    hits = hits or Counter()
    rows = []
    for d in all_divergences():
        links = []
        for ref in d.upstream:
            m = re.match(r"([\w.-]+)/([\w.-]+)#(\d+)\s*(.*)", ref)
            if m:
                links.append({"text": f"{m[1]}/{m[2]}#{m[3]}", "note": m[4],
                              "url": f"https://github.com/{m[1]}/{m[2]}/issues/{m[3]}"})
        rows.append({"key": d.key, "targets": ", ".join(d.targets), "reason": d.reason,
                     "evidence": d.evidence, "repro": d.repro, "links": links, "hits": hits.get(d.key, 0)})
    return rows


# -- rendering ------------------------------------------------------------------------------------
def _env():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["g3"] = lambda x: "-" if x is None else (f"{x:.3g}" if isinstance(x, (int, float)) else str(x))
    return env


def render(template, **context) -> str:
    require()
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return _env().get_template(template).render(generated=now, **context)


def write(path, text) -> int:
    data = text.encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def _anchor(text):
    return "d-" + re.sub(r"[^A-Za-z0-9_-]", "_", text)


# -- rnnparity check --------------------------------------------------------------------------------
def check_entries(summary, details) -> list:
    """An Entry per case of a `check` run (summary: the --json payload; details: Collector.details)."""
    from ..check.runner import pytest_repro
    from . import case_of, kind_of

    out = []
    for c in summary["cases"]:
        nodeid, outcome = c["nodeid"], c["outcome"]
        detail = details.get(nodeid, {})
        verdict = check_verdict(outcome, detail)
        kind = kind_of(nodeid)
        selector = re.search(r"\[(.*)\]$", nodeid)
        selector = selector[1] if selector else nodeid
        if kind == "replay":
            where = place(c["case"], panel=f"replay {selector.split('/')[0]}")
            repro = pytest_repro(selector)
        elif kind == "matrix":
            where, repro = place(c["case"]), f"rnnparity check --case {c['case']}"
        else:
            from . import target_of

            where = Place(kind, ("",), (0, target_of(nodeid), target_of(nodeid)), ("",))
            repro = pytest_repro(selector)
        e = Entry(c["case"], verdict, where, repro=repro, outcome=outcome)
        if verdict == "fail":
            e.note = _first_problem(c["message"])
        elif verdict == "xfail":
            e.note = detail.get("xfail_reason", "")
        elif verdict == "rejected":
            e.note = "rejected: " + detail["rejected"].splitlines()[0]
        elif verdict == "skip":
            e.note = (c["message"].strip().splitlines() or [""])[-1]
        if verdict in ("fail", "xfail"):
            e.anchor = _anchor(f"{where.panel}-{c['case']}")
            e.extra = {"text": c["message"] if verdict == "fail" else detail.get("text", ""),
                       "errors": detail.get("rnnparity_errors") or {}, "diagnosis": detail.get("diagnosis"),
                       "reason": detail.get("xfail_reason"), "kind": kind}
        out.append(e)
    return out


def _first_problem(message):
    lines = [ln for ln in message.strip().splitlines() if ln.strip()]
    return lines[1].strip() if len(lines) > 1 else (lines[0] if lines else "")


def _detail_groups(entries):
    """The detail sections, grouped: the failures first, then one group per known divergence."""
    groups = defaultdict(list)
    for s in _detail_sections(entries):
        m = re.search(r"\[([\w-]+)\]", s["e"].note or "") if s["e"].verdict == "xfail" else None
        groups[(s["e"].verdict != "fail", m[1] if m else "")].append(s)
    return [{"verdict": "fail" if not xf else "xfail", "key": key, "sections": members}
            for (xf, key), members in sorted(groups.items())]


def _detail_sections(entries):
    sections, plotted = [], 0
    for e in entries:
        if not e.anchor:
            continue
        outputs = e.extra["errors"].get("outputs", [])
        plot = None
        if outputs and plotted < MAX_PLOTS:
            plot = error_plot(outputs, salt=e.anchor)
            plotted += plot is not None
        sections.append({"e": e, "outputs": outputs, "plot": plot, "other": e.extra["errors"].get("other", []),
                         "omitted": bool(outputs) and plot is None and plotted >= MAX_PLOTS})
    return sections


def _versions_list(summary):
    """(name, version) pairs: the header's packages, then each run target's requirements."""
    from importlib import metadata

    from ..targets import registry

    v = dict(summary["versions"])
    pairs = [("rnnparity", v.get("rnnparity")), ("Python", v.get("python")), ("NumPy", v.get("numpy")),
             ("TensorFlow", v.get("tensorflow")), ("Keras", f"{v.get('keras')} (backend {v.get('keras backend')})"),
             ("tf_keras", v.get("tf_keras"))]
    named = {"tensorflow", "keras", "tf_keras", "numpy"}
    dists = metadata.packages_distributions()
    for t in summary["targets"].split(","):
        if t not in registry.TARGETS:
            continue
        for module in registry.info(t).requires:
            if module in named:
                continue
            named.add(module)
            for dist in dists.get(module, [module]):
                try:
                    pairs.append((dist, metadata.version(dist)))
                except metadata.PackageNotFoundError:
                    pairs.append((dist, "not installed"))
    return pairs


def write_check_page(path, summary, details, started=None, seeds="", keyword=None) -> int:
    """Write the page of a `rnnparity check` run; returns its size in bytes."""
    entries = check_entries(summary, details)
    hits = Counter()
    for e in entries:
        m = re.search(r"\[([\w-]+)\]", e.note) if e.verdict == "xfail" else None
        if m:
            hits[m[1]] += 1
    counts = Counter(e.outcome for e in entries)
    text = render("check.html.j2", title="rnnparity check", verdicts=CHECK_VERDICTS,
                  panels=grid(entries, CHECK_VERDICTS), filters=filters(entries),
                  groups=_detail_groups(entries), registry=registry_rows(hits),
                  versions=_versions_list(summary), summary=summary, keyword=keyword, seeds=seeds,
                  started=started.isoformat(timespec="seconds") if started else "",
                  outcome_counts=[(o, counts.get(o, 0)) for o in ("passed", "failed", "xfailed", "skipped")],
                  verdict_counts=Counter(e.verdict for e in entries), max_plots=MAX_PLOTS)
    return write(path, text)


# -- rnnparity compare ------------------------------------------------------------------------------
def compare_entries(result) -> list:
    target = result.manifest_a.get("target") or "keras3"
    other = result.manifest_b.get("target") or target
    out = []
    for c in result.cases:
        case_id = c.key if c.key.startswith("tf1-") else f"{c.key}-{target}"
        where = place(case_id, panel="tf1" if c.key.startswith("tf1-") else "Keras matrix")
        note = "; ".join(t for _, t in c.findings[:3])
        repro = f"rnnparity check --case {case_id}" if c.key.startswith("tf1-") else \
            f"rnnparity check --case {c.key}-{target}    (B: rnnparity check --case {c.key}-{other})"
        out.append(Entry(c.key, COMPARE_STATUS[c.status], where, note=f"{c.status}: {note}" if note else c.status,
                         repro=repro, max_abs=c.max_abs, extra={"status": c.status}))
    return out


def write_compare_page(path, result) -> int:
    from ..golden import upgrade

    entries = compare_entries(result)
    groups = [{"status": s, "kind": k, "sig": sig, "n": len(members),
               "members": [(c.key, c.max_abs) for c in sorted(members, key=lambda c: -(c.max_abs or 0))[:12]]}
              for (s, k, sig), members in upgrade._groups(result)]
    text = render("compare.html.j2", title="rnnparity compare", verdicts=COMPARE_VERDICTS,
                  panels=grid(entries, COMPARE_VERDICTS), filters=filters(entries), result=result,
                  one_line=upgrade.one_line(result), largest=upgrade._largest(result),
                  side_a=upgrade._version_line(result.manifest_a), side_b=upgrade._version_line(result.manifest_b),
                  counts=[(s, result.counts.get(s, 0)) for s in upgrade.STATUSES], groups=groups,
                  verdict_counts=Counter(e.verdict for e in entries))
    return write(path, text)


# -- rnnparity check-model ----------------------------------------------------------------------------
MODEL_VERDICTS = {"fail": ("failed", "✗"), "unsupported": ("unsupported", "?"),
                  "xfail": ("known framework bug", "⚠"), "pass": ("passed", "")}


def write_model_page(path, report) -> int:
    """Write the page of a `rnnparity check-model` report (models.ModelReport); returns its size."""
    from .model_report import VERDICTS

    from ..targets.installed import versions

    d = report.to_dict()
    here = versions()
    d["versions"] = {"rnnparity": here["rnnparity"], "python": here["python"], "numpy": here["numpy"],
                     **d["versions"]}
    counts = Counter(r["status"] for r in d["layers"])
    text = render("model.html.j2", title=f"rnnparity check-model {d['model']}", report=d,
                  verdicts=MODEL_VERDICTS, labels=VERDICTS, counts=[(s, counts[s]) for s in MODEL_VERDICTS if counts[s]])
    return write(path, text)
