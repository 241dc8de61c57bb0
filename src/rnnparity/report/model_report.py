"""A ModelReport as text (the table `rnnparity check-model` prints), JSON and JUnit XML."""
from __future__ import annotations

import json
from xml.etree import ElementTree

COLUMNS = ("layer", "class", "flags", "mask", "outputs checked", "max abs error", "first diverging step",
           "verdict")
VERDICTS = {"pass": "PASS", "fail": "FAIL", "xfail": "XFAIL (known framework bug)",
            "ill-conditioned": "ILL-CONDITIONED (not decidable beyond rounding)",
            "unsupported": "UNSUPPORTED"}


def verdict(report, row) -> str:
    """The row's verdict word, and "(skipped)" when the gate skips it (--unsupported=skip)."""
    return VERDICTS[row.status] + (" (skipped)" if report.outcome(row) == "skipped" else "")


def _cells(report, row):
    err = "-" if row.max_abs_error is None else f"{row.max_abs_error:.3g}"
    step = "-" if row.first_diverging_step is None else f"t={row.first_diverging_step}"
    return (row.name, row.cls, row.flags or "-", row.mask_source, row.outputs_checked, err, step,
            verdict(report, row))


def text_report(report) -> str:
    v = report.versions
    stack = ", ".join(f"{k} {v[k]}" for k in ("tensorflow", "keras") if k in v)
    lines = [f"rnnparity check-model: {report.model} ({report.target}; {stack}; "
             f"{report.batches} batch{'es' if report.batches != 1 else ''})"]
    if report.unsafe:
        lines.append("UNSAFE: loaded with safe mode off (--unsafe): the file could run code it carries")
    if report.tolerance:
        lines.append(f"tolerance: {report.tolerance}")
    rows = [COLUMNS] + [_cells(report, r) for r in report.layers]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(COLUMNS))]
    for k, cells in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    details = [r for r in report.layers if r.status != "pass" or r.message]
    for r in details:
        lines.append("")
        skip = ", skipped: --unsupported=skip" if report.outcome(r) == "skipped" else ""
        lines.append(f"{r.name} [{r.status}{skip}]:")
        lines += [f"  {line}" for line in r.message.splitlines()]
    counts = {s: sum(r.status == s for r in report.layers) for s in VERDICTS}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    skipped = sum(report.outcome(r) == "skipped" for r in report.layers)
    if skipped:
        summary += f" ({skipped} skipped: --unsupported=skip)"
    elif counts["unsupported"]:
        summary += " (failing the run: pass --unsupported=skip to skip them)"
    if not report.passed and not any(report.outcome(r) in ("passed", "xfailed") for r in report.layers):
        summary += "; no layer was checked"
    lines.append("")
    lines.append(f"{'PASSED' if report.passed else 'FAILED'}: {len(report.layers)} recurrent layer(s): "
                 f"{summary}")
    return "\n".join(lines)


def to_json(report) -> str:
    return json.dumps(report.to_dict(), indent=1)


def junit_xml(report) -> str:
    """One <testcase> per recurrent layer: a failed row (a fail, an unsupported layer under
    --unsupported=fail, an ill-conditioned one under --ill-conditioned=fail) is a <failure>, an
    xfail or a skipped unsupported layer a <skipped>; an ill-conditioned row under the default
    warn is a passed testcase with a property naming its verdict and the figures in <system-out>."""
    outcomes = [report.outcome(r) for r in report.layers]
    suite = ElementTree.Element("testsuite", name="rnnparity check-model", tests=str(len(report.layers)),
                                failures=str(outcomes.count("failed")),
                                skipped=str(outcomes.count("xfailed") + outcomes.count("skipped")), errors="0")
    props = ElementTree.SubElement(suite, "properties")
    for key, value in (("model", report.model), ("framework", report.target), ("unsafe", str(report.unsafe)),
                       ("unsupported", report.unsupported), ("tolerance", report.tolerance),
                       *report.versions.items()):
        ElementTree.SubElement(props, "property", name=key, value=str(value))
    for r in report.layers:
        case = ElementTree.SubElement(suite, "testcase", classname=f"rnnparity.check_model.{report.model}",
                                      name=r.name)
        first = r.message.splitlines()[0] if r.message else r.status
        if report.outcome(r) == "failed":
            failure = ElementTree.SubElement(case, "failure", type=r.status, message=first)
            failure.text = r.message
        elif report.outcome(r) in ("xfailed", "skipped"):
            kind = "xfail" if r.status == "xfail" else f"{r.status} (--unsupported=skip)"
            ElementTree.SubElement(case, "skipped", type=kind, message=first)
        elif report.outcome(r) == "ill-conditioned":
            case_props = ElementTree.SubElement(case, "properties")
            ElementTree.SubElement(case_props, "property", name="verdict", value=r.status)
            ElementTree.SubElement(case, "system-out").text = r.message
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)
