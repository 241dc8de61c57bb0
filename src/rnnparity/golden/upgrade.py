"""`rnnparity compare A B`: the framework-upgrade report between two recordings.

Cases are matched by their id without the target (the same stem means the same inputs and weights on
every target). Each case is `same`, `differs` (structure, shape, dtype or values beyond tolerance:
max abs/rel error, first diverging output and timestep), `rejected in A|B` (one framework raised),
or `only in A|B`. No framework is imported.
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np

from .. import golden
from ..check.compare import as_list, elementwise_errors, first_bad_timestep
from ..plan import Tf1Spec
from ..reference.tf1_call import Tf1Call
from ..output_structure import explain
from ..check.tolerances import tolerance

PRIORITY = ("rejection", "shape", "values", "dtype", "structure")  # what a case is grouped under
STATUSES = ("same", "differs", "rejected in A", "rejected in B", "only in A", "only in B")
# What a user must act on first (the order of the grouped differences, the compare page's colours):
# values that changed (a number the model computes moved, or its shape), then rejections that changed
# (a layer that built in A raises in B, or raises differently), then dtype changes (the values agree
# within the coarser dtype's tolerance, but a precision was gained or lost), then structure-only
# changes (list vs tuple, the container: every value the same, usually max difference 0; fix the
# unpacking, not the maths), then what B newly accepts, what only one recording has, what is the same.
ACTIONS = ("differs", "newly-rejected", "dtype", "structure", "newly-accepted", "only", "same")


@dataclass
class CaseDiff:
    key: str
    status: str
    findings: list = field(default_factory=list)  # (kind, text) pairs, first is the headline
    max_abs: float | None = None
    max_rel: float | None = None
    output: str | None = None
    timestep: int | None = None


@dataclass
class Comparison:
    a: str
    b: str
    manifest_a: dict
    manifest_b: dict
    cases: list

    @property
    def counts(self):
        return Counter(c.status for c in self.cases)

    @property
    def any_difference(self):
        return any(c.status != "same" for c in self.cases)


def _key(case_id: str) -> str:
    if case_id.startswith("tf1-"):
        return case_id
    from ..targets import registry  # metadata only

    target = registry.target_of(case_id)  # targets may contain hyphens (keras3-numpy)
    return case_id[: -len(target) - 1] if target else case_id.rsplit("-", 1)[0]


def output_names(rec, x_shape) -> list:
    """The names of a recorded call's outputs (a tf1 call: TF's flattened structure)."""
    if isinstance(rec.spec, Tf1Spec):
        return Tf1Call.from_spec(rec.spec).output_names(x_shape[rec.time_axis])
    return explain(rec.spec, x_shape, rec.dialect).names()


def _container(out):
    return "array" if not isinstance(out, (list, tuple)) else f"{type(out).__name__} of {len(out)}"


def _error_text(rec):
    err = rec.outcome.error
    if err is None:
        return None
    where = "at construction/build" if err[0] == -1 else f"at plan step {err[0]}"
    return f"{err[1]} {where}: {err[2]}"


def _values(d: CaseDiff, label, e, a, time_axis, steps):
    e, a = np.asarray(e), np.asarray(a)
    if e.shape != a.shape:
        d.findings.append(("shape", f"{label}: shape A {e.shape}, B {a.shape}"))
        return
    if e.dtype != a.dtype:
        d.findings.append(("dtype", f"{label}: dtype A {e.dtype}, B {a.dtype}"))
    if e.dtype.kind != "f" or a.dtype.kind != "f" or e.size == 0:
        if not np.array_equal(e, a):
            d.findings.append(("values", f"{label}: values differ"))
        return
    tol = max((tolerance(e.dtype, steps), tolerance(a.dtype, steps)), key=lambda t: t["atol"])
    err, rel, bad = elementwise_errors(e, a, tol)
    d.max_abs = max(d.max_abs or 0.0, float(err.max()))
    d.max_rel = max(d.max_rel or 0.0, float(rel.max()))
    if not bad.any():
        return
    t = first_bad_timestep(bad, time_axis) if e.ndim == 3 else None
    if d.output is None:
        d.output, d.timestep = label, t
    d.findings.append(("values", f"{label}: {int(bad.sum())}/{bad.size} values beyond tolerance, max abs "
                                 f"{float(err.max()):.3g}" + (f", first at t={t}" if t is not None else "")))


def compare_case(key, ra, rb) -> CaseDiff:
    d = CaseDiff(key, "same")
    ea, eb = _error_text(ra), _error_text(rb)
    if ea or eb:
        if ea and eb:
            if ea.split(":")[0] != eb.split(":")[0]:
                d.status = "differs"
                d.findings.append(("rejection", f"both rejected, differently: A {ea}; B {eb}"))
            return d
        d.status = "rejected in A" if ea else "rejected in B"
        d.findings.append(("rejection", f"{d.status}: {ea or eb}"))
        return d
    pairs = []
    calls = ra.plan.calls
    for k, (oa, ob) in enumerate(zip(ra.outcome.outputs, rb.outcome.outputs)):
        call = f"call {k + 1} ({calls[k].label}) " if len(calls) > 1 else ""
        if _container(oa) != _container(ob):
            d.findings.append(("structure", f"{call}returns A: {_container(oa)}, B: {_container(ob)}"))
            if len(as_list(oa)) != len(as_list(ob)):
                continue
        try:
            names = output_names(ra, calls[k].x.shape)
        except Exception:  # noqa: BLE001 - names are a courtesy
            names = [f"output {i}" for i in range(len(as_list(oa)))]
        for i, (e, a) in enumerate(zip(as_list(oa), as_list(ob))):
            pairs.append((k, f"{call}output [{i}] = {names[i] if i < len(names) else '?'}", e, a,
                          calls[k].x.shape[ra.time_axis]))
    for _, label, e, a, steps in pairs:
        _values(d, label, e, a, time_axis=getattr(ra, "time_axis", 1), steps=steps)
    if d.findings:
        d.status = "differs"
    return d


def compare(a, b) -> Comparison:
    da, db = golden.RecordingDir(a), golden.RecordingDir(b)
    ka = {_key(c): c for c in da.case_ids}
    kb = {_key(c): c for c in db.case_ids}
    out = []
    for key in sorted(set(ka) | set(kb)):
        if key not in kb:
            out.append(CaseDiff(key, "only in A"))
        elif key not in ka:
            out.append(CaseDiff(key, "only in B"))
        else:
            out.append(compare_case(key, da.load(ka[key]), db.load(kb[key])))
    return Comparison(str(a), str(b), da.manifest, db.manifest, out)


# -- reports -------------------------------------------------------------------------------------
def _table(rows: dict, first: str):
    head = f"| {first} | " + " | ".join(STATUSES) + " | total |"
    lines = [head, "|" + "---|" * (len(STATUSES) + 2)]
    for name, counts in rows.items():
        cells = [str(counts.get(s, 0)) if counts.get(s, 0) else "." for s in STATUSES]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {sum(counts.values())} |")
    return lines


def summaries(result: Comparison):
    by_layer, by_flag = defaultdict(Counter), defaultdict(Counter)
    for c in result.cases:
        parts = c.key.split("-")
        by_layer[parts[0] if parts[0] != "tf1" else "tf1-" + parts[1]][c.status] += 1
        for p in parts[1:]:
            by_flag[p][c.status] += 1
    return dict(sorted(by_layer.items())), dict(sorted(by_flag.items()))


def action(c: CaseDiff) -> str:
    """Which of `ACTIONS` a case is."""
    kinds = {kind for kind, _ in c.findings}
    if c.status == "same":
        return "same"
    if c.status.startswith("only in"):
        return "only"
    if c.status == "rejected in A":
        return "newly-accepted"
    if c.status == "rejected in B" or "rejection" in kinds:
        return "newly-rejected"
    if kinds & {"values", "shape"}:
        return "differs"
    return "dtype" if "dtype" in kinds else "structure"


def groups(result: Comparison):
    """[((status, kind, signature), cases)], what a user must act on first (`ACTIONS`), then the
    largest group first."""
    by_key = defaultdict(list)
    for c in result.cases:
        if c.status in ("differs", "rejected in A", "rejected in B"):
            kind, text = min(c.findings, key=lambda f: PRIORITY.index(f[0]))
            sig = {"structure": re.sub(r"^call \d+ \(.*?\) ", "", text), "values": "values beyond tolerance",
                   "shape": "shapes differ"}.get(kind, text.split(": ", 1)[-1])
            by_key[(c.status, kind, re.sub(r" at plan step \d+", "", sig)[:160])].append(c)
    return sorted(by_key.items(), key=lambda kv: (ACTIONS.index(action(kv[1][0])), -len(kv[1])))


def version_line(m):
    v = m.get("versions", {})
    return (f"target {m.get('target')}, TensorFlow {v.get('tensorflow', '?')}, Keras {v.get('keras', '?')}, "
            f"backend {m.get('backend', '?')}, NumPy {v.get('numpy', '?')}, recorded {m.get('date', '?')}")


DIFFERS_WORDS = {"differs": "values", "newly-rejected": "rejected differently", "dtype": "dtype only",
                 "structure": "structure only"}


def one_line(result: Comparison):
    """'N cases: same .., differs .. (values .., dtype only .., structure only ..), ... -> verdict'."""
    kinds = Counter(action(c) for c in result.cases if c.status == "differs")
    split = ", ".join(f"{DIFFERS_WORDS[a]} {kinds[a]}" for a in ACTIONS if kinds[a])
    counts = ", ".join(f"{s} {result.counts.get(s, 0)}" + (f" ({split})" if s == "differs" and split else "")
                       for s in STATUSES)
    verdict = "DIFFERENT (exit 1)" if result.any_difference else "identical within tolerance (exit 0)"
    return f"{len(result.cases)} cases: {counts} -> {verdict}"


def largest_line(result: Comparison):
    same = [c for c in result.cases if c.status == "same" and c.max_abs is not None]
    if not same:
        return "No case compared values within tolerance."
    worst = max(same, key=lambda c: c.max_abs)
    return (f"Largest difference among the {len(same)} `same` cases with outputs: max abs {worst.max_abs:.3g}, "
            f"max rel {max(c.max_rel for c in same):.3g} (`{worst.key}`).")


def to_markdown(result: Comparison, examples: int = 8) -> str:
    lines = [f"# rnnparity compare", "", f"- A: `{result.a}`: {version_line(result.manifest_a)}",
             f"- B: `{result.b}`: {version_line(result.manifest_b)}", "", f"**{one_line(result)}**", "",
             largest_line(result), "",
             "## By layer", ""]
    by_layer, by_flag = summaries(result)
    lines += _table(by_layer, "layer") + ["", "## By flag / axis value (cases whose id has that word)", ""]
    lines += _table(by_flag, "word") + ["", "## Differences, grouped", ""]
    for (status, kind, sig), members in groups(result):
        lines.append(f"### {status} [{kind}]: {sig} ({len(members)} cases)")
        if action(members[0]) in ("dtype", "structure"):
            lines += ["", "(the values agree within tolerance: " + ("a precision changed)" if kind == "dtype"
                                                                    else "only the container changed)")]
        lines.append("")
        members = sorted(members, key=lambda c: -(c.max_abs or 0))
        for c in members[:examples]:
            nums = (f" max abs {c.max_abs:.3g}, max rel {c.max_rel:.3g};" if c.max_abs is not None
                    and kind in ("values", "dtype", "structure") else "")
            where = f" first diverging: {c.output}" + (f" at t={c.timestep}" if c.timestep is not None else "") \
                if c.output else ""
            lines.append(f"- `{c.key}`:{nums}{where} -- " + "; ".join(t for _, t in c.findings[:3]))
        if len(members) > examples:
            lines.append(f"- ... and {len(members) - examples} more (see `--format json`)")
        lines.append("")
    return "\n".join(lines)


def to_json(result: Comparison) -> str:
    by_layer, by_flag = summaries(result)
    return json.dumps({"a": result.a, "b": result.b, "manifest_a": {k: v for k, v in result.manifest_a.items()
                                                                     if k != "cases"},
                       "manifest_b": {k: v for k, v in result.manifest_b.items() if k != "cases"},
                       "counts": dict(result.counts), "any_difference": result.any_difference,
                       "by_layer": by_layer, "by_flag": by_flag,
                       "cases": [{**asdict(c), "action": action(c)} for c in result.cases]}, indent=1)
