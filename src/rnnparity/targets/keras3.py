"""The `keras3` target: Keras 3 (`import keras`), backend from KERAS_BACKEND (tensorflow by default)."""
from .keras_adapter import KerasAdapter

ADAPTER = KerasAdapter("keras3", "keras", "keras3")
