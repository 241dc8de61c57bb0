"""The shipped conformance suite: `pytest --pyargs rnnparity` runs it in a user's environment."""
import pytest


def not_selected(what, targets, selected):
    """The one visible skip a test gets when none of its targets is selected (rather than pytest's
    "got empty parameter set")."""
    return pytest.param(None, id=f"{what}-not-selected", marks=pytest.mark.skip(
        reason=f"no {'/'.join(targets)} target selected (--rnnparity-targets={','.join(selected)})"))
