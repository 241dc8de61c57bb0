"""The `tf_keras` target: Keras 2 (`import tf_keras`; it is `tf.keras` in TF <= 2.15)."""
from .keras_adapter import KerasAdapter

ADAPTER = KerasAdapter("tf_keras", "tf_keras", "keras2")
