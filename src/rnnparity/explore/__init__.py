"""`rnnparity explore`: property-based search of layer configurations against the live frameworks.

- space.py: the configurations (one JSON-able dict each) and how to draw them, from hypothesis or
  from a seeded NumPy generator; the layer spec, plan and weights a configuration stands for;
- run.py: one configuration -> one outcome (agree, within rounding, ill-conditioned, a registered
  bug, refused alike, the reference refuses an option, a framework crash, or UNEXPLAINED);
- shrink.py: a last greedy pass that drops options and reduces sizes while the outcome stays;
- repro.py: a standalone script (framework + NumPy only) that shows an unexplained result;
- search.py: the hypothesis search under a wall-clock budget, and the plain seeded sweep.

Nothing here imports a framework or hypothesis at import time.
"""
