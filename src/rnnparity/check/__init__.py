"""Run a case on a target and on the reference, compare, judge: the verdicts."""
