"""The report's grid (rnnparity.report.html): where each case goes and how a cell is summed up.

One panel per target (or per recording replayed), rows = layer x cell x wrapper, columns = the 16
return_sequences x return_state x go_backwards x stateful combinations; tf1 cases get rows = function x
cell, columns = sequence lengths x layout x initial state; other tests (the activation sweep) one row
per target. Each case is one `Entry`, shown as one <li> of its cell.
"""
from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from . import statuses

FLAG_HEADS = ("return_sequences", "return_state", "go_backwards", "stateful")
TF1_HEADS = ("sequence_length", "layout", "initial state")


# -- verdicts: {key: (label, symbol shown in a cell)}, worst first (report/statuses.py) ---------------
CHECK_VERDICTS = statuses.table(statuses.CHECK)
COMPARE_VERDICTS = statuses.table(statuses.COMPARE)
check_verdict = statuses.check_verdict


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
        c = _conv_lstm_case(case_id)
        if c is None:
            return _other(case_id, panel or registry.target_of(case_id) or "other")
    parts = [c.layer] + ([m.CELLS[c.cell]] if c.cell != "layer" else []) + \
        ([c.wrapper] if c.wrapper != "none" else [])
    # ConvLSTM1D/2D/3D rows after the recurrent layers', in the same flag panel
    layer_row = (list(m.LAYERS).index(c.layer) if c.layer in m.LAYERS
                 else len(m.LAYERS) + int(c.layer[len("conv_lstm")]))
    row = (layer_row, list(m.CELLS).index(c.cell), list(m.WRAPPERS).index(c.wrapper), " · ".join(parts))
    return Place(panel or c.target, FLAG_HEADS, row, tuple(getattr(c, f) for f in m.FLAGS),
                 (("mask", c.mask), ("dtype", c.dtype), ("init", "yes" if c.initial_state else "no")))


def _conv_lstm_case(case_id):
    """The ConvLstmCase of a ConvLSTM matrix id, or None for any other id."""
    if not case_id.startswith("conv_lstm"):
        return None
    from ..matrix.tiers import case_of

    try:
        return case_of(case_id)
    except ValueError:
        return None


def _other(case_id, panel):
    return Place(panel, ("",), (0, "other tests"), ("",))


def _columns(heads):
    """Every column of a flag panel (all 16, in the matrix's order), else None (the ones seen)."""
    if heads == FLAG_HEADS:
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
        for key in sorted(p["rows"], key=_sortable):
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


def _sortable(row):
    """A row's sort key with numbers before strings at each position (a ConvLSTM row's key holds
    its rank where other rows hold a name)."""
    return tuple((0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v)) for v in row)
