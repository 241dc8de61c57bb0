"""The search: hypothesis draws configurations (space.strategy) under a wall-clock budget; the
property fails on a finding (a framework crash or an UNEXPLAINED result), so hypothesis shrinks it;
then shrink.greedy tries the last simplifications and repro.write writes the standalone script. The
search goes on (hypothesis started again on the next seed) until the budget is spent; a finding
already seen (same signature) is counted but not shrunk again.

The plain sweep (``examples=N``) runs N seeded configurations (space.sweep_config) without
hypothesis, and shrinks its findings with the greedy pass alone.
"""
from __future__ import annotations

import logging
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import repro, shrink, space
from .run import FINDINGS, KNOWN, OUTCOMES, REF_REFUSES, REFUSED_ALIKE, run_config


@dataclass
class Summary:
    counts: Counter = field(default_factory=Counter)
    known: Counter = field(default_factory=Counter)  # registered bug key -> times met
    refusals: Counter = field(default_factory=Counter)  # the reference's / both sides' refusal reasons
    findings: list = field(default_factory=list)  # (signature, shrunk run.Result, repro path)
    unexplained_results: list = field(default_factory=list)  # every finding as met (not shrunk)
    seconds: float = 0.0
    configs: int = 0

    def add(self, result):
        self.configs += 1
        self.counts[result.outcome] += 1
        if result.outcome == KNOWN:
            self.known[result.known_key] += 1
        if result.outcome in (REF_REFUSES, REFUSED_ALIKE):
            self.refusals[f"{result.outcome}: {result.detail[:90]}"] += 1
        if result.finding:
            self.unexplained_results.append(result)

    @property
    def unexplained(self) -> int:
        return sum(self.counts[o] for o in FINDINGS)

    def text(self) -> str:
        lines = [f"explored {self.configs} configurations in {self.seconds:.0f} s"]
        lines += [f"  {o:30s} {self.counts[o]}" for o in OUTCOMES]
        lines += [f"    known: {k} x{n}" for k, n in self.known.most_common()]
        lines += [f"    {r} x{n}" for r, n in self.refusals.most_common(8)]
        for result in self.unexplained_results[:12]:
            lines.append(f"  {result.outcome}: {space.config_id(result.config)} | {result.detail[:120]}")
        if len(self.unexplained_results) > 12:
            lines.append(f"  ... and {len(self.unexplained_results) - 12} more (--json lists them all)")
        for signature, result, path in self.findings:
            lines += [f"FINDING {signature}", f"  minimal: {space.describe(result.config)}",
                      f"  {result.detail}", f"  repro: {path}"]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"configs": self.configs, "seconds": round(self.seconds, 1),
                "counts": {o: self.counts[o] for o in OUTCOMES}, "known": dict(self.known),
                "refusals": dict(self.refusals),
                "findings": [{"signature": s, "config": r.config, "detail": r.detail, "repro": str(p)}
                             for s, r, p in self.findings],
                "unexplained": [{"id": space.config_id(r.config), "outcome": r.outcome,
                                 "signature": r.signature, "detail": r.detail, "config": r.config}
                                for r in self.unexplained_results]}


def _quiet():
    """The reference's overflow warnings (exploding layers), Keras' notes and TensorFlow's "Object
    was never used" log of an aborted loop are not the answer."""
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    logging.getLogger("tensorflow").setLevel(logging.CRITICAL)


def _log_line(log, result):
    if log:
        log(f"{result.seconds:5.1f}s {result.outcome:28s} {space.config_id(result.config)}"
            + (f" | {result.detail[:140]}" if result.detail else ""))


def _finish(summary, result, out_dir, shrink_seconds, log):
    """Greedy-shrink a finding and write its repro."""
    if shrink_seconds > 0:
        result = shrink.greedy(result, shrink_seconds, log)
    path = repro.write(result, out_dir)
    summary.findings.append((result.signature, result, path))
    if log:
        log(f"  -> {result.signature}: {space.describe(result.config)}\n     repro: {path}")


def sweep(examples, seed, targets=space.TARGETS, out_dir="explore-out", shrink_seconds=60.0,
          budget=None, log=None, names=space.activation_names, max_steps=space.MAX_STEPS,
          kinds=space.KINDS) -> Summary:
    """N seeded configurations, no hypothesis search; findings shrunk by the greedy pass."""
    _quiet()
    summary, start, seen = Summary(), time.monotonic(), set()
    for i in range(examples):
        if budget is not None and time.monotonic() - start > budget:
            break
        result = run_config(space.sweep_config(seed, i, targets, names, max_steps, kinds))
        summary.add(result)
        _log_line(log, result)
        if result.finding and result.signature not in seen:
            seen.add(result.signature)
            _finish(summary, result, out_dir, shrink_seconds, log)
    summary.seconds = time.monotonic() - start
    return summary


class _Finding(Exception):
    """Raised by the property on a finding; one subclass per signature, so hypothesis shrinks each
    finding as its own bug rather than sliding from one into another."""


_CLASSES = {}


def _finding_class(signature):
    if signature not in _CLASSES:
        _CLASSES[signature] = type(f"Finding_{len(_CLASSES)}", (_Finding,), {"signature": signature})
    return _CLASSES[signature]


def explore(budget, seed, targets=space.TARGETS, out_dir="explore-out", shrink_seconds=60.0,
            log=None, names=space.activation_names, max_steps=space.MAX_STEPS,
            kinds=space.KINDS) -> Summary:
    """Hypothesis search for ``budget`` seconds of searching; each new finding is then shrunk for up
    to ``shrink_seconds`` more (half hypothesis' shrinker, half the greedy pass), time that does not
    count against the search (a slow shrink must not keep the search from the next finding)."""
    import unittest

    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import Flaky

    _quiet()
    summary, start = Summary(), time.monotonic()
    search_end, seen, rounds = [start + budget], set(), 0  # moved on by the time spent shrinking
    strategy = space.strategy(tuple(targets), names, max_steps, tuple(kinds))
    while time.monotonic() < search_end[0]:
        state = {"shrinking": None, "until": None, "best": None, "found_at": None}

        def prop(config):
            now = time.monotonic()
            if state["shrinking"] is None:
                if now >= search_end[0]:
                    raise unittest.SkipTest("budget spent")  # hypothesis re-raises it: the search stops
                result = run_config(config)
                summary.add(result)
                _log_line(log, result)
                if result.finding and result.signature not in seen:
                    seen.add(result.signature)
                    state.update(shrinking=result.signature, until=now + shrink_seconds / 2, best=result,
                                 found_at=now)
                    if log:
                        log(f"  finding {result.signature}: shrinking")
                    raise _finding_class(result.signature)(result.detail)
                return
            if now >= state["until"]:
                return  # shrinking time spent: every further candidate "passes", hypothesis stops
            result = run_config(config)
            if result.signature == state["shrinking"]:
                state["best"] = result  # the shrinker only tries candidates simpler than its best
                raise _finding_class(result.signature)(result.detail)

        run = settings(max_examples=100_000, deadline=None, database=None, derandomize=False,
                       report_multiple_bugs=False, verbosity=Verbosity.quiet,
                       phases=(Phase.generate, Phase.shrink),
                       suppress_health_check=list(HealthCheck))(given(strategy)(prop))
        try:
            hypothesis_seed(seed * 7919 + rounds)(run)()
        except unittest.SkipTest:
            pass
        except (_Finding, Flaky):  # the shrunk finding, re-raised; or its replay after the shrink time
            pass
        rounds += 1
        if state["best"] is not None:
            _finish(summary, state["best"], out_dir, shrink_seconds / 2, log)
            search_end[0] += time.monotonic() - state["found_at"]
    summary.seconds = time.monotonic() - start
    return summary


def stderr_log(line):
    print(line, file=sys.stderr, flush=True)
