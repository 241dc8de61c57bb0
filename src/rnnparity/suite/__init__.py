"""The shipped conformance suite: `pytest --pyargs rnnparity` runs it in a user's environment."""
