"""Keras conformance: every case of the matrix, live framework vs the NumPy reference."""
from __future__ import annotations

import pytest

from rnnparity.targets import registry
from rnnparity.check import runner
from rnnparity.check.compare import Stats
from rnnparity.check.divergences import divergence_for
from rnnparity.plugin import cases_by_target, selected_targets
from rnnparity.suite import conclude, not_selected


def pytest_generate_tests(metafunc):
    if "keras_case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    targets = [t for t in selected_targets(config) if t in registry.keras_targets()]
    params = []
    for case in cases_by_target(config, targets):
        known, inexpressible = divergence_for(case), registry.cannot_express(case)
        marks = [pytest.mark.xfail(strict=True, reason=known.xfail_reason())] if known else []
        if inexpressible:  # visible, naming the option: the conformance table's "rejected" cell
            marks = [pytest.mark.skip(reason=f"{case.target} cannot express this case: {inexpressible}")]
        params.append(pytest.param(case, id=case.id, marks=marks))
    if not targets:  # a visible reason rather than pytest's "got empty parameter set"
        params = [not_selected("keras", registry.keras_targets(), selected_targets(config))]
    metafunc.parametrize("keras_case", params)


@pytest.mark.live
def test_keras(keras_case, record_property, pytestconfig):
    available, reason = registry.availability(keras_case.target)
    if not available:
        pytest.skip(reason)
    stats = Stats()
    # a registered bug fails on semantics, not rounding: no rounding verdict for it (the strict xfail
    # still XPASSes the day the bug is fixed, as the case then agrees within the table)
    rec, _ = runner.check_live(keras_case, stats, rounding=divergence_for(keras_case) is None)
    if rec.info:  # how the target ran it (ops, kernel): in the report and the JUnit XML
        record_property("ran_as", rec.info)
    if rec.outcome.error is not None and rec.outcome.error[0] == -1:  # refused, as the reference does
        record_property("rejected", f"{rec.outcome.error[1]}: {rec.outcome.error[2]}"[:300])
    conclude(keras_case.id, rec.verdict, record_property, pytestconfig, stats, keras_case.target)
