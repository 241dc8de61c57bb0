"""`assert_parity`: check one of your own live Keras layers against the reference.

    from rnnparity.testing import assert_parity
    assert_parity(my_lstm_layer, x, mask=m)   # raises AssertionError explaining any difference
"""
from __future__ import annotations

import numpy as np

from . import frameworks
from .compare import compare_outputs
from .convert import dialect_of, from_keras
from .structure import explain
from .runner import failure_report

_TARGET_OF_DIALECT = {"keras3": "keras3", "keras2": "tf_keras"}


def assert_parity(framework_layer, x, mask=None, initial_state=None):
    """Run the live layer and the reference copied from it on the same input; raise on mismatch.

    Returns the framework's outputs (NumPy, the framework's structure) when they agree. For a
    stateful layer both sides start from the layer's current states and the layer advances.
    """
    __tracebackhide__ = True
    dialect = dialect_of(framework_layer)
    x = np.asarray(x)
    if not framework_layer.built:
        framework_layer.build(x.shape)
    reference = from_keras(framework_layer)
    adapter = frameworks.get(_TARGET_OF_DIALECT[dialect])
    expected = adapter.call(framework_layer, x, mask, initial_state)
    actual = reference(x, mask=mask, initial_state=initial_state)
    time_major = bool(getattr(framework_layer, "time_major", False))
    try:
        names = explain(framework_layer, x.shape, dialect).names()
    except ValueError:
        names = None
    problems = compare_outputs(expected, actual, names, time_axis=0 if time_major else 1,
                               steps=x.shape[0 if time_major else 1])
    if problems:
        raise AssertionError(failure_report(f"{type(framework_layer).__name__} {framework_layer.name}",
                                            problems).rsplit("\nrepro:", 1)[0])
    return expected
