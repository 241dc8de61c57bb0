"""The report's plots: the max abs error per timestep of a failing or diverging case's outputs, drawn
by matplotlib (the `report` extra, imported when a plot is drawn) as inline SVG."""
from __future__ import annotations

import io
import re


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
        ax.legend(fontsize=7.5, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False,
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
    svg = re.sub(r'(url\(#|href="#)([^")]+)', rf"\1{prefix}-\2", svg)
    svg = re.sub(r">\s+<", "><", svg)  # a page may hold hundreds: no indentation,
    return re.sub(r"(\d+\.\d{2})\d+", r"\1", svg)  # and coordinates to 1/100 px


def _short(label):
    """'call 1 of 2 (first): output [0] = whole sequence output (...)' -> 'call 1: output [0] = whole
    sequence output'."""
    label = re.sub(r"^call (\d+) of \d+ \([^)]*\): ", r"call \1: ", label or "")
    return re.sub(r" \(.*$", "", label)[:60]
