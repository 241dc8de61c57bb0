"""Every built-in activation name of each framework, as `activation` (SimpleRNN, LSTM, GRU) and as
`recurrent_activation` (LSTM, GRU): the reference computes the same, or rejects it the same way.

The names come from the live framework's `activations` module, so a name added in a new Keras
release shows up here as a new case, and fails until the reference models it.

The sweep runs in float64: several names are unbounded or non-contractive as gates (exponential,
linear, selu, tanh as a GRU gate) and amplify float32 rounding step after step; agreement at 1e-12
in float64 proves the maths are identical. float32 is covered by the case matrix's activations.
The quick tier runs each name once (as one layer's activation or recurrent_activation, rotating)."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from rnnparity.targets import registry
from rnnparity.check import runner
from rnnparity.plan import Call, Plan
from rnnparity.check.divergences import activation_divergence
from rnnparity.suite import conclude, not_selected

NOT_ACTIVATIONS = {"get", "serialize", "deserialize", "activations"}
# Names each Keras version exposes (read from the installed framework when it is there).
_LAYERS = (("SimpleRNN", "activation"), ("LSTM", "activation"), ("LSTM", "recurrent_activation"),
           ("GRU", "activation"), ("GRU", "recurrent_activation"))
# the case matrix's layer names, so ids and the check summary's rows use one name per layer
_LAYER_IDS = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}


def _case_id(cls, option, name, target):
    return f"{_LAYER_IDS[cls]}-{option}_{name}-{target}"


def _names(target):
    ok, _ = registry.availability(target)
    if not ok:
        return []
    module = registry.get(target).K.activations
    return sorted(n for n in dir(module) if not n.startswith("_") and n not in NOT_ACTIVATIONS
                  and callable(getattr(module, n)))


def pytest_generate_tests(metafunc):
    if "activation_case" not in metafunc.fixturenames:
        return
    from rnnparity.plugin import selected_targets

    params = []
    targets = [t for t in selected_targets(metafunc.config) if t in ("keras3", "tf_keras")]
    if not targets:  # a visible reason rather than pytest's "got empty parameter set"
        params.append(not_selected("activations", ("keras3", "tf_keras"), selected_targets(metafunc.config)))
    for target in targets:
        names = _names(target)
        if not names:
            params.append(pytest.param((target, None, None, None), id=f"activations-{target}-unavailable"))
        quick = metafunc.config.getoption("--rnnparity-tier") == "quick"
        for n, name in enumerate(names):
            known = activation_divergence(target, name)
            marks = [pytest.mark.xfail(strict=True, reason=known.xfail_reason())] if known else []
            # the quick tier (a smoke gate): each name once, in one layer/option, rotating
            for cls, option in [_LAYERS[n % len(_LAYERS)]] if quick else _LAYERS:
                params.append(pytest.param((target, cls, option, name), marks=marks,
                                           id=_case_id(cls, option, name, target)))
    metafunc.parametrize("activation_case", params)


@pytest.mark.live
def test_builtin_activation(activation_case, record_property, pytestconfig):
    target, cls, option, name = activation_case
    ok, reason = registry.availability(target)
    if not ok:
        pytest.skip(reason)
    case_id = _case_id(cls, option, name, target)
    seed = zlib.crc32(f"{cls}-{option}-{name}".encode())
    rng = np.random.RandomState(seed)
    # LSTM applies `activation` twice per step (candidate, then output), feeding h back: an unbounded
    # one (exponential) grows doubly exponentially, to 1e137 by step 5. Three steps stay in range.
    steps = 3 if (cls, option) == ("LSTM", "activation") else 5
    x = rng.normal(size=(3, steps, 4)).astype("float64")
    spec = {"class": cls, "config": {"units": 5, option: name, "return_sequences": True,
                                     "return_state": True, "dtype": "float64"}, "wrapper": None}
    rec, _ = runner.check_spec_live(target, spec, Plan([Call(x, None, None, "call")]), seed,
                                    case_id, x.shape)
    # a sweep case is not in the matrix (`check --case` cannot run it): pytest selects it
    conclude(case_id, rec.verdict, record_property, pytestconfig, None, target,
             repro=runner.pytest_repro(case_id))
