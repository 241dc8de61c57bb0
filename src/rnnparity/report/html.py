"""The HTML report: one self-contained static page (inline CSS, JS and SVG plots; nothing fetched, so
it opens offline from a CI artifact) for `rnnparity check --html`, `rnnparity compare --html` and
`rnnparity check-model --html`.

The page is a Jinja2 template (templates/); the plots are drawn by matplotlib. Both come with the
optional extra `rnnparity[report]` and are imported only here, only when a page is written.

The grid is report/grid.py (each case one <li> of its cell: data-case, data-verdict and the filter
attributes, which the page's JS filters and recounts), the plots report/plots.py.
"""
from __future__ import annotations

import datetime
import importlib.util
import re
from collections import Counter, defaultdict
from pathlib import Path

from . import statuses
from .grid import (CHECK_VERDICTS, COMPARE_VERDICTS, FLAG_HEADS, Entry, Place,  # noqa: F401
                   check_verdict, filters, grid, place)
from .plots import error_plot
from .text import verdict_line
from ..plugin import ILL_REPORT_KEY

EXTRA = 'pip install "rnnparity[report]"'
TEMPLATES = Path(__file__).with_name("templates")
# the bytes of plots a page may hold (~13 kB each) so that it stays under 5 MB; later cases keep their tables
PLOT_BUDGET = 2_500_000
PAGE_LIMIT = 4_900_000  # under the 5 MB a CI artifact page may take: a big run gets fewer plots


def require():
    """Raise ImportError naming the extra when Jinja2 or matplotlib is missing (nothing imported)."""
    missing = [m for m in ("jinja2", "matplotlib") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"--html needs {' and '.join(missing)}, which is not installed: {EXTRA}")


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
    return _env().get_template(template).render(generated=now, palette=statuses.palette(), **context)


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
    from . import kind_of

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
        elif verdict == "ill":
            e.note = _ill_headline(detail.get(ILL_REPORT_KEY, ""))
        if verdict in ("fail", "xfail", "ill"):
            e.anchor = _anchor(f"{where.panel}-{c['case']}")
            text = {"fail": c["message"], "xfail": detail.get("text", ""),
                    "ill": detail.get(ILL_REPORT_KEY, "")}[verdict]
            e.extra = {"text": text,
                       "errors": detail.get("rnnparity_errors") or {}, "diagnosis": detail.get("diagnosis"),
                       "reason": detail.get("xfail_reason"), "kind": kind}
        out.append(e)
    return out


def _ill_headline(report):
    """The envelope verdict's headline of an ill-conditioned case's report."""
    line = next((ln.strip() for ln in report.splitlines() if "ILL-CONDITIONED" in ln), "")
    return line.removeprefix("rounding verdict: ") or "ill-conditioned"


def _first_problem(message):
    lines = [ln for ln in message.strip().splitlines() if ln.strip()]
    return lines[1].strip() if len(lines) > 1 else (lines[0] if lines else "")


def _detail_groups(entries, budget=PLOT_BUDGET, plots=None):
    """The detail sections, grouped: the failures first, then one group per known divergence."""
    groups = defaultdict(list)
    for s in _detail_sections(entries, budget, {} if plots is None else plots):
        m = re.search(r"\[([\w-]+)\]", s["e"].note or "") if s["e"].verdict == "xfail" else None
        order = {"fail": 0, "ill": 1}.get(s["e"].verdict, 2)
        groups[(order, s["e"].verdict, m[1] if m else "")].append(s)
    return [{"verdict": verdict, "key": key, "sections": members}
            for (_, verdict, key), members in sorted(groups.items())]


def _detail_sections(entries, budget, plots):
    """``plots``: anchor -> SVG already drawn (a page rendered again with a smaller budget reuses them)."""
    sections, spent = [], 0
    for e in entries:
        if not e.anchor:
            continue
        outputs = e.extra["errors"].get("outputs", [])
        plot = None
        if outputs and spent < budget:
            if e.anchor not in plots:
                plots[e.anchor] = error_plot(outputs, salt=e.anchor)
            plot = plots[e.anchor]
        spent += len(plot or "")
        sections.append({"e": e, "outputs": outputs, "plot": plot, "other": e.extra["errors"].get("other", []),
                         "omitted": bool(outputs) and plot is None and spent >= budget})
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
    common = dict(title="rnnparity check", verdicts=CHECK_VERDICTS,
                  panels=grid(entries, CHECK_VERDICTS), filters=filters(entries), registry=registry_rows(hits),
                  versions=_versions_list(summary), summary=summary, keyword=keyword, seeds=seeds,
                  started=started.isoformat(timespec="seconds") if started else "",
                  outcome_counts=statuses.counted(counts),
                  verdict_counts=Counter(e.verdict for e in entries), repro_prefix="rnnparity check --case ",
                  headline=verdict_line(summary["counts"], summary["exit_code"]))
    plots, budget = {}, PLOT_BUDGET
    while True:  # the grid and the tables of a big run leave less room for plots: halve until it fits
        text = render("check.html.j2", groups=_detail_groups(entries, budget, plots),
                      plot_budget=f"{budget / 1e6:g} MB", **common)
        if len(text.encode()) <= PAGE_LIMIT or budget < 50_000:
            return write(path, text)
        budget //= 2


# -- rnnparity compare ------------------------------------------------------------------------------
def compare_entries(result) -> list:
    from ..golden import upgrade

    target = result.manifest_a.get("target") or "keras3"
    other = result.manifest_b.get("target") or target
    out = []
    for c in result.cases:
        case_id = c.key if c.key.startswith("tf1-") else f"{c.key}-{target}"
        where = place(case_id, panel="tf1" if c.key.startswith("tf1-") else "Keras matrix")
        note = "; ".join(t for _, t in c.findings[:3])
        repro = f"rnnparity check --case {case_id}" if c.key.startswith("tf1-") else \
            f"rnnparity check --case {c.key}-{target}    (B: rnnparity check --case {c.key}-{other})"
        out.append(Entry(c.key, upgrade.action(c), where, note=f"{c.status}: {note}" if note else c.status,
                         repro=repro, max_abs=c.max_abs, extra={"status": c.status}))
    return out


def compare_groups(result) -> list:
    """The grouped differences, what a user must act on first (golden.upgrade.ACTIONS): each with its
    verdict (colour), the text report's heading, and up to 12 members with their largest difference."""
    from ..golden import upgrade

    return [{"verdict": upgrade.action(members[0]), "status": s, "kind": k, "sig": sig, "n": len(members),
             "members": [(c.key, c.max_abs) for c in sorted(members, key=lambda c: -(c.max_abs or 0))[:12]]}
            for (s, k, sig), members in upgrade.groups(result)]


def write_compare_page(path, result) -> int:
    from ..golden import upgrade

    entries = compare_entries(result)
    text = render("compare.html.j2", title="rnnparity compare", verdicts=COMPARE_VERDICTS,
                  panels=grid(entries, COMPARE_VERDICTS), filters=filters(entries), result=result,
                  one_line=upgrade.one_line(result), largest=upgrade.largest_line(result),
                  side_a=upgrade.version_line(result.manifest_a), side_b=upgrade.version_line(result.manifest_b),
                  counts=[(s, result.counts.get(s, 0)) for s in upgrade.STATUSES], groups=compare_groups(result),
                  verdict_counts=Counter(e.verdict for e in entries))
    return write(path, text)


# -- rnnparity check-model ----------------------------------------------------------------------------
MODEL_VERDICTS = statuses.table(statuses.MODEL)


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
