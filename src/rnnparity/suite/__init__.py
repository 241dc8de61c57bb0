"""The shipped conformance suite: `pytest --pyargs rnnparity` runs it in a user's environment."""
import pytest


def not_selected(what, targets, selected):
    """The one visible skip a test gets when none of its targets is selected (rather than pytest's
    "got empty parameter set")."""
    return pytest.param(None, id=f"{what}-not-selected", marks=pytest.mark.skip(
        reason=f"no {'/'.join(targets)} target selected (--rnnparity-targets={','.join(selected)})"))


class IllConditionedWarning(UserWarning):
    """A case whose valid low-precision computations scatter as widely as its values: agreement is
    proven up to a step and not decidable beyond (check/envelope_verdict.py). Under the default
    --rnnparity-ill-conditioned=warn the case passes with this warning; =fail fails it."""


def conclude(case_id, verdict, record_property, config, stats, stats_target, repro=None, preface=None):
    """The end of a suite test, from its verdict (check/verdict.py): fail with the report, pass
    with the stats, or, for an ill-conditioned case, warn (or fail under =fail) with the figures."""
    import warnings

    from ..check import runner
    from ..check.compare import ERRORS_KEY, error_curves
    from ..check.verdict import ILL_CONDITIONED
    from ..plugin import ILL_REPORT_KEY, STATS_KEY, VERDICT_KEY

    kwargs = {} if repro is None else {"repro": repro}

    def report(text):
        return f"{preface}\n{text}" if preface else text
    if verdict.problems:  # the error over time goes into the HTML report (xfails keep it too)
        record_property(ERRORS_KEY, error_curves(verdict.problems))
    if verdict.status == ILL_CONDITIONED:
        record_property(VERDICT_KEY, ILL_CONDITIONED)
        text = report(runner.failure_report(case_id, verdict.problems, ill_conditioned=True, **kwargs))
        if config.getoption("--rnnparity-ill-conditioned") == "fail":
            pytest.fail(text, pytrace=False)
        record_property(ILL_REPORT_KEY, text)
        warnings.warn(IllConditionedWarning(text))
        if stats is not None:
            record_property(STATS_KEY, stats.as_property(stats_target))
        return
    if verdict.problems:
        pytest.fail(report(runner.failure_report(case_id, verdict.problems, **kwargs)), pytrace=False)
    # only agreeing cases feed the summary of errors (a known-bug xfail would swamp it)
    if stats is not None:
        record_property(STATS_KEY, stats.as_property(stats_target))
