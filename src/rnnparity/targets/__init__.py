"""The oracles: one module per target behind one protocol (see targets.base)."""
