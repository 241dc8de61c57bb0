"""A ModelReport as text (the table `rnnparity check-model` prints), JSON and JUnit XML."""
from __future__ import annotations

import json
from xml.etree import ElementTree

COLUMNS = ("layer", "class", "flags", "mask", "outputs checked", "max abs error", "first diverging step",
           "verdict")
VERDICTS = {"pass": "PASS", "fail": "FAIL", "xfail": "XFAIL (known framework bug)",
            "ill-conditioned": "ILL-CONDITIONED (not decidable beyond rounding)",
            "unsupported": "UNSUPPORTED"}


def _cells(row):
    err = "-" if row.max_abs_error is None else f"{row.max_abs_error:.3g}"
    step = "-" if row.first_diverging_step is None else f"t={row.first_diverging_step}"
    return (row.name, row.cls, row.flags or "-", row.mask_source, row.outputs_checked, err, step,
            VERDICTS[row.status])


def text_report(report) -> str:
    v = report.versions
    stack = ", ".join(f"{k} {v[k]}" for k in ("tensorflow", "keras") if k in v)
    lines = [f"rnnparity check-model: {report.model} ({report.target}; {stack}; "
             f"{report.batches} batch{'es' if report.batches != 1 else ''})"]
    if report.unsafe:
        lines.append("UNSAFE: loaded with safe mode off (--unsafe): the file could run code it carries")
    rows = [COLUMNS] + [_cells(r) for r in report.layers]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(COLUMNS))]
    for k, cells in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    details = [r for r in report.layers if r.status != "pass" or r.message]
    for r in details:
        lines.append("")
        lines.append(f"{r.name} [{r.status}]:")
        lines += [f"  {line}" for line in r.message.splitlines()]
    counts = {s: sum(r.status == s for r in report.layers) for s in VERDICTS}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines.append("")
    lines.append(f"{'PASSED' if report.passed else 'FAILED'}: {len(report.layers)} recurrent layer(s): "
                 f"{summary}")
    return "\n".join(lines)


def to_json(report) -> str:
    return json.dumps(report.to_dict(), indent=1)


def junit_xml(report) -> str:
    """One <testcase> per recurrent layer: a fail or an unsupported layer is a <failure>, an xfail
    a <skipped>; an ill-conditioned layer a <failure> under ill_conditioned="fail", else a passed
    testcase with a property naming its verdict and the figures in <system-out>."""
    failing = ("fail", "unsupported") + (("ill-conditioned",) if report.ill_conditioned == "fail" else ())
    suite = ElementTree.Element("testsuite", name="rnnparity check-model", tests=str(len(report.layers)),
                                failures=str(sum(r.status in failing for r in report.layers)),
                                skipped=str(sum(r.status == "xfail" for r in report.layers)), errors="0")
    props = ElementTree.SubElement(suite, "properties")
    for key, value in (("model", report.model), ("framework", report.target), ("unsafe", str(report.unsafe)),
                       *report.versions.items()):
        ElementTree.SubElement(props, "property", name=key, value=str(value))
    for r in report.layers:
        case = ElementTree.SubElement(suite, "testcase", classname=f"rnnparity.check_model.{report.model}",
                                      name=r.name)
        if r.status in failing:
            first = r.message.splitlines()[0] if r.message else r.status
            failure = ElementTree.SubElement(case, "failure", type=r.status, message=first)
            failure.text = r.message
        elif r.status == "ill-conditioned":
            props = ElementTree.SubElement(case, "properties")
            ElementTree.SubElement(props, "property", name="verdict", value=r.status)
            ElementTree.SubElement(case, "system-out").text = r.message
        elif r.status == "xfail":
            ElementTree.SubElement(case, "skipped", type="xfail", message=r.message.splitlines()[0])
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)
