"""tf1 conformance: tf.compat.v1.nn RNN functions with the legacy cells, live TF vs the NumPy reference
(the `tf1` target, selected with --rnnparity-targets like the Keras targets).

Every expected value comes from running real TF (the tf1 target); the reference replays the recorded
inputs and weights, through the same runner as the Keras cases (rnnparity.check.runner.check_live). Known TF bugs are strict xfails from rnnparity.check.divergences (the same
registry as the Keras cases; none is registered for tf1). Select with -k, e.g.
    pytest --pyargs rnnparity.suite -k "dynamic_rnn and lstm_cell_peep and ragged"
"""
from __future__ import annotations

import pytest

from rnnparity.targets import registry
from rnnparity.check import runner
from rnnparity.check.compare import Stats
from rnnparity.check.divergences import divergence_for
from rnnparity.plugin import selected_targets
from rnnparity.suite import conclude, not_selected
from rnnparity.matrix.tf1_cases import tf1_cases

pytestmark = [
    pytest.mark.filterwarnings("ignore:`tf.nn.rnn_cell.*is deprecated:UserWarning"),
    pytest.mark.filterwarnings("ignore:The object being serialized includes a `lambda`:UserWarning"),
]


def tf1_params(tier, targets):
    """One param per tf1 case of the tier (strict xfail where a registered TF bug applies), or one
    visible skip when tf1 is not among the selected targets."""
    if "tf1" not in targets:
        return [not_selected("tf1", ("tf1",), targets)]
    params = []
    for case in tf1_cases(tier):
        known = divergence_for(case)
        marks = [pytest.mark.xfail(strict=True, reason=known.xfail_reason())] if known else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def pytest_generate_tests(metafunc):
    if "tf1_case" in metafunc.fixturenames:
        config = metafunc.config
        metafunc.parametrize("tf1_case", tf1_params(config.getoption("--rnnparity-tier"),
                                                    selected_targets(config)))


@pytest.mark.live
def test_tf1(tf1_case, record_property, pytestconfig):
    available, reason = registry.availability("tf1")
    if not available:
        pytest.skip(reason)
    stats = Stats()
    rec, _ = runner.check_live(tf1_case, stats)  # a values failure carries its diagnosis
    conclude(tf1_case.id, rec.verdict, record_property, pytestconfig, stats, "tf1")
