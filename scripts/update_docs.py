"""Regenerate the generated blocks of the documentation from the code (tests/test_docs.py checks
they are current).

    python scripts/update_docs.py          # rewrite the blocks in place
    python scripts/update_docs.py --check  # exit 1 if a block is out of date, naming it

A block sits between `<!-- generated: NAME -->` and `<!-- /generated: NAME -->` in README.md or a page
under docs/. The names: `divergences` (the known-bugs registry, check/divergences.py), `conformance`
(report/conformance.py), `return-table` (rnnparity.explain), `cli` (every subcommand of the argument
parser, cli/__init__.py), `quick-start` (README.md's quick-start commands, copied), `conv-lstm-tiers`
(the ConvLSTM cases per tier and target, matrix/tiers.py), `conv-lstm-mistakes` (diagnose's ConvLSTM
catalogue, check/conv_lstm_mistakes.py). Every name is used at least once; a marker with an unknown name is an error."""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- generated: ([a-z-]+) -->\n)(?:.*?\n)?(<!-- /generated: \2 -->)", re.S)


def pages() -> list:
    """Every file that may hold generated blocks: README.md and the markdown pages under docs/."""
    return [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))


def blocks() -> dict:
    from rnnparity.check.divergences import markdown
    from rnnparity.output_structure import return_table_markdown
    from rnnparity.report import conformance

    return {"conformance": conformance.markdown(), "divergences": markdown(),
            "return-table": return_table_markdown(), "cli": cli_reference(), "quick-start": quick_start(),
            "conv-lstm-tiers": conv_lstm_tiers(), "conv-lstm-mistakes": conv_lstm_mistakes()}


def conv_lstm_tiers() -> str:
    """How many ConvLSTM cases each target runs in each tier."""
    from rnnparity.matrix import tiers
    from rnnparity.targets import registry

    rows = ["| target | quick | default | full |", "|---|---|---|---|"]
    for target in registry.keras_targets():
        counts = [sum(c.layer.startswith("conv_lstm") for c in tiers.cases(tier, (target,))) for tier in tiers.TIERS]
        rows.append(f"| `{target}` | " + " | ".join(map(str, counts)) + " |")
    return "\n".join(rows)


def conv_lstm_mistakes() -> str:
    """diagnose's ConvLSTM mistakes: the gate orders counted, the others named and described."""
    from rnnparity.check import conv_lstm_mistakes as catalogue

    orders, others = catalogue.GATE_ORDERS, catalogue.CATALOGUE[len(catalogue.GATE_ORDERS):]
    lines = [f"- {len(orders)} gate orders: every permutation of Keras' i, f, c, o but its own "
             f"(`{orders[0].name}`, ...)"]
    lines += [f"- `{m.name}`: {m.says}" for m in others]
    return "\n".join(lines)


def quick_start() -> str:
    """The quick start's code block, copied from README.md: the commands live in one place."""
    text = (ROOT / "README.md").read_text()
    found = re.search(r"## Quick start\n\n(```bash\n.*?\n```)", text, re.S)
    if not found:
        raise SystemExit("README.md has no '## Quick start' section opening on a ```bash block")
    return found.group(1)


# --- the CLI reference, from the parser's actions (not print_help: its layout changes between
# Python versions and with the terminal's width, so a regenerated page would differ per machine)

def _actions(parser) -> list:
    return parser._actions  # argparse has no public way to list a parser's arguments


def subcommands(parser=None) -> tuple:
    """({name: subparser}, {name: one-line help}) of the `rnnparity` command, in the parser's order."""
    if parser is None:
        from rnnparity.cli import parser as make_parser

        parser = make_parser()
    sub, = (a for a in _actions(parser) if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices), {c.dest: c.help for c in sub._choices_actions}


def _argument(action) -> str:
    if not action.option_strings:  # a positional
        name = action.metavar or action.dest
        return f"[{name} ...]" if action.nargs == "*" else name
    if action.nargs == 0:
        return ""
    if action.choices is not None:
        return "{" + ",".join(map(str, action.choices)) + "}"
    return action.metavar or action.dest.upper()


def _synopsis(name, subparser) -> str:
    words = [f"rnnparity {name}"]
    for action in _actions(subparser):
        if isinstance(action, argparse._HelpAction):
            continue
        arg = _argument(action)
        if not action.option_strings:
            words.append(arg)
            continue
        text = " ".join(filter(None, (action.option_strings[-1], arg)))
        words.append(text if action.required else f"[{text}]")
    return " ".join(words)


def _cell(text) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def cli_reference() -> str:
    """One section per subcommand: its one-line help, a synopsis and a table of its arguments."""
    parsers, helps = subcommands()
    parts = []
    for name, sub in parsers.items():
        parts += [f"### `rnnparity {name}`", "", _cell(helps.get(name)) + ".", ""]
        if sub.description and sub.description.strip() != helps.get(name):
            parts += [_cell(sub.description), ""]
        parts += ["```text", _synopsis(name, sub), "```", "",
                  "| argument | value | what it does |", "|---|---|---|"]
        for action in _actions(sub):
            if isinstance(action, argparse._HelpAction):
                continue
            flags = ", ".join(f"`{o}`" for o in action.option_strings) or f"`{action.metavar or action.dest}`"
            value = _argument(action)
            parts.append(f"| {flags} | {'`' + _cell(value) + '`' if value else ''} | {_cell(action.help)} |")
        parts.append("")
    return "\n".join(parts)


# --- rewriting the blocks

def updated(text: str, generated: dict, where="") -> str:
    unknown = sorted({m.group(2) for m in BLOCK.finditer(text)} - set(generated))
    if unknown:
        raise SystemExit(f"{where}: unknown generated block(s) {unknown}; known: {sorted(generated)}")
    return BLOCK.sub(lambda m: m.group(1) + generated[m.group(2)] + "\n" + m.group(3), text)


def stale(generated=None) -> dict:
    """{path: new text} of every page whose generated blocks are out of date."""
    generated = blocks() if generated is None else generated
    out, used = {}, set()
    for page in pages():
        text = page.read_text()
        used |= {m.group(2) for m in BLOCK.finditer(text)}
        new = updated(text, generated, page.relative_to(ROOT))
        if new != text:
            out[page] = new
    missing = sorted(set(generated) - used)
    if missing:
        raise SystemExit(f"no page holds the generated block(s) {missing}")
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    changed = stale()
    if "--check" in argv:
        for page in changed:
            print(f"{page.relative_to(ROOT)}: generated blocks out of date (python scripts/update_docs.py)")
        return 1 if changed else 0
    for page, text in changed.items():
        page.write_text(text)
        print(f"{page.relative_to(ROOT)}: generated blocks rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
