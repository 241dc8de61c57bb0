"""The `tf_keras` target: Keras 2 (`import tf_keras`; with TF <= 2.15 it is the bundled keras 2.x,
i.e. `tf.keras`)."""
from .registry import keras2_module
from .keras_adapter import KerasAdapter

ADAPTER = KerasAdapter("tf_keras", keras2_module(), "keras2")
