"""Example models after well-known public Keras examples, for checking whole models (see catalog.py)."""
