"""The conformance table: per target, per feature, whether the target agrees with Keras' semantics.

Generated from the case grid each target runs in the default tier (what CI checks; for a target only
a tox env runs, the tier that env runs), the divergence
registry and each target's `cannot_express`; no run is needed because the suite itself is the proof:
every case counted as agreeing is a case the suite runs and that fails CI if the target disagrees
(for the targets CI does not run, the table says which tox env does). docs/conformance.md holds the
generated table (scripts/update_docs.py); tests/test_docs.py keeps it current.
"""
from __future__ import annotations

from collections import Counter

from ..check.divergences import divergence_for
from ..matrix import cases as matrix, conv_lstm_cases, tiers
from ..targets import registry

# (row label, predicate on a Case)
FEATURES = (
    *[(f"layer `{layer}`", lambda c, v=layer: c.layer == v) for layer in matrix.LAYERS],
    *[(f"layer `ConvLSTM{r}D`", lambda c, v=f"conv_lstm{r}d": c.layer == v) for r in conv_lstm_cases.RANKS],
    # a ConvLSTM's own axes (other cases have none: getattr's default is the ConvLSTM default)
    ("ConvLSTM `padding='valid'`", lambda c: getattr(c, "padding", "same") == "valid"),
    ("ConvLSTM `strides=2`", lambda c: getattr(c, "strides", "s1") != "s1"),
    ("ConvLSTM `dilation_rate=2`", lambda c: getattr(c, "dilation", "d1") != "d1"),
    ("ConvLSTM `data_format='channels_first'`", lambda c: getattr(c, "data_format", "cl") == "cf"),
    *[(f"`{flag}=True`", lambda c, f=flag: getattr(c, f)) for flag in matrix.FLAGS],
    *[(f"mask `{mask}`", lambda c, v=mask: c.mask == v) for mask in matrix.MASKS[1:]],
    *[(f"Bidirectional `merge_mode={matrix.WRAPPERS[w]!r}`", lambda c, v=w: c.wrapper == v)
      for w in list(matrix.WRAPPERS)[1:]],
    ("`initial_state`", lambda c: c.initial_state),
    *[(f"dtype `{matrix.DTYPES[d]}`", lambda c, v=d: c.dtype == v) for d in matrix.DTYPES],
    *[(f"`{matrix.CELLS[cell]}`", lambda c, v=cell: c.cell == v) for cell in list(matrix.CELLS)[1:]],
)


def classify(case) -> tuple[str, str | None]:
    """("agrees" | "diverges" | "rejected", the registry key or the reason)."""
    why = registry.cannot_express(case)
    if why:
        return "rejected", why
    known = divergence_for(case)
    if known is not None:
        return "diverges", known.key
    return "agrees", None


# Targets CI does not run: the tier their tox env runs (tox.ini), which is what the table may claim.
TOX_TIERS = {"keras3-jax": "quick"}


def table_targets() -> tuple:
    return registry.keras_targets()


def table_tier(target) -> str:
    return TOX_TIERS.get(target, "default")


def where_checked(target) -> str:
    info = registry.info(target)
    if info.default or info.auto:
        return "CI (`pytest -n 2`)"
    return f"`tox -e {target}` ({table_tier(target)} tier)"


SIZE = "cases in the grid"  # the row of each target's grid size


def cells(targets=None) -> dict:
    """{(feature label, target): Counter of verdicts, plus the keys under "keys"}, and
    {(SIZE, target): the number of cases in the target's grid}."""
    targets = targets or table_targets()
    out = {}
    for target in targets:
        grid = tiers.cases(table_tier(target), (target,))
        out[(SIZE, target)] = len(grid)
        for case in grid:
            verdict, key = classify(case)
            for label, applies in FEATURES:
                if applies(case):
                    cell = out.setdefault((label, target), {"counts": Counter(), "keys": Counter()})
                    cell["counts"][verdict] += 1
                    if verdict == "diverges":
                        cell["keys"][key] += 1
    return out


def _cell_text(cell, numbers) -> str:
    if cell is None:
        return "not in grid"
    counts, parts = cell["counts"], []
    if counts["agrees"]:
        parts.append(f"✓ {counts['agrees']}")
    if counts["diverges"]:
        parts.append(f"✗ {counts['diverges']} [{','.join(str(numbers[k]) for k in sorted(cell['keys'], key=numbers.get))}]")
    if counts["rejected"]:
        parts.append(f"n/a {counts['rejected']}")
    return " · ".join(parts)


def markdown(targets=None) -> str:
    """The table, then the numbered divergence keys its cells cite."""
    targets = targets or table_targets()
    grid = cells(targets)
    keys = sorted({k for (label, _), cell in grid.items() if label != SIZE for k in cell["keys"]})
    numbers = {k: i + 1 for i, k in enumerate(keys)}
    lines = ["| feature | " + " | ".join(f"`{t}`" for t in targets) + " |",
             "|---|" + "---|" * len(targets)]
    for label, _ in FEATURES:
        lines.append(f"| {label} | " + " | ".join(_cell_text(grid.get((label, t)), numbers) for t in targets) + " |")
    lines.append(f"| {SIZE} | " + " | ".join(str(grid[SIZE, t]) for t in targets) + " |")
    lines.append("| checked by | " + " | ".join(where_checked(t) for t in targets) + " |")
    lines.append("")
    lines += [f"[{numbers[k]}] `{k}`" + ("  " if i < len(keys) - 1 else "") for i, k in enumerate(keys)]
    return "\n".join(lines) + "\n"


def legend() -> str:
    return ("✓ N: N cases agree with the reference (the suite fails otherwise); ✗ N (`key`): N cases "
            "are a registered divergence, a strict xfail (see Known framework bugs); n/a N: the target "
            "cannot express N cases (each is a visible skip naming the option). A configuration Keras "
            "itself refuses counts as agreeing when the reference refuses it the same way.")
