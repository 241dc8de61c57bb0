"""A Keras 3 layer as the layers format TensorFlow.js loads (a model.json's modelTopology), and the
check that TF.js took every option it was given.

TF.js reads the Keras 2 layers format: {"class_name", "config"} objects, dtypes as strings, a model
topology with an InputLayer carrying batch_input_shape. Keras 3 writes {"module", "class_name",
"config", "registered_name", "build_config"} objects and DTypePolicy objects for dtypes (the cause
of tfjs#8489 / #8494: Keras 3 models that TF.js cannot load). `layers_format` rewrites the Keras 3
serialization into the Keras 2 one, as the `tensorflowjs` converter writes it for a tf.keras model;
the layer sits alone in a functional model topology whose input has the case's batch size and an
open time axis (one model serves calls of any length).

TF.js' layer constructors ignore config keys they do not know. So after the load `unread_options`
compares what was sent with the layer's getConfig(): a key TF.js dropped is an option it cannot
express (the case fails naming it) unless it is listed in NO_EFFECT_AT_INFERENCE with the reason.
"""
from __future__ import annotations

import copy
import re

TOPOLOGY_NAME = "rnnparity_tfjs"
INPUT_NAME = "rnnparity_input"
KERAS_VERSION = "2.15.0"  # the layers format TF.js 4.22 reads (that of tf.keras)

# config keys TF.js may drop without changing what the loaded layer computes at inference
NO_EFFECT_AT_INFERENCE = {
    "seed": "the dropout seed (no dropout at inference)",
    "use_cudnn": "Keras' choice of a cuDNN kernel on a GPU, not a semantics",
    "unit_forget_bias": "an initializer option; the weights are set after the load",
    "implementation": "Keras' choice of how to batch the gate products, not a semantics",
    "dtype": "float32 (checked in layers_format: TF.js has no other float dtype)",
    "trainable": "training only",
    "activity_regularizer": "training only",
}


class NotExpressible(ValueError):
    """A Keras option the layers format or TF.js cannot carry (the message names it)."""


def layers_format(serialized: dict) -> dict:
    """``keras.saving.serialize_keras_object(layer)`` -> the Keras 2 layers-format object."""
    def convert(obj):
        if isinstance(obj, dict) and "class_name" in obj and "config" in obj:
            if obj["class_name"] in ("DTypePolicy", "FloatDTypePolicy"):
                return obj["config"]["name"]
            return {"class_name": obj["class_name"],
                    "config": {k: convert(v) for k, v in obj["config"].items()}}
        if isinstance(obj, dict):
            return {k: convert(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [convert(v) for v in obj]
        return obj

    out = convert(serialized)
    _check_dtypes(out)
    if out["class_name"] == "Bidirectional":
        _check_backward_layer(out["config"])
    return out


def _check_dtypes(obj):
    if isinstance(obj, dict):
        dtype = obj.get("dtype")
        if isinstance(dtype, str) and dtype != "float32":
            raise NotExpressible(f"dtype={dtype!r}: TensorFlow.js computes in float32 only "
                                 "(its tensors are float32, int32, bool, complex64 or string)")
        for v in obj.values():
            _check_dtypes(v)
    elif isinstance(obj, list):
        for v in obj:
            _check_dtypes(v)


def _check_backward_layer(config):
    """TF.js' Bidirectional has no backward_layer: it builds the backward layer from the forward
    config with go_backwards flipped. Keras 3 always serializes one; it must be that same copy."""
    backward = config.pop("backward_layer", None)
    if backward is None:
        return
    forward = copy.deepcopy(config["layer"]["config"])
    back = copy.deepcopy(backward["config"])
    for c in (forward, back):
        c.pop("name", None)
    forward["go_backwards"] = not forward.get("go_backwards", False)
    if backward["class_name"] != config["layer"]["class_name"] or forward != back:
        differing = sorted(k for k in set(forward) | set(back) if forward.get(k) != back.get(k))
        raise NotExpressible("Bidirectional(backward_layer=...): TensorFlow.js' Bidirectional has no "
                             "backward_layer (it flips go_backwards of the forward layer's config); this "
                             f"one differs in {', '.join(differing) or 'its class'}")


def model_topology(layer_object: dict, batch_input_shape) -> dict:
    """A functional model topology holding the layer alone, fed by an InputLayer."""
    layer_object = copy.deepcopy(layer_object)
    name = layer_object["config"]["name"]
    return {
        "class_name": "Functional",
        "config": {
            "name": TOPOLOGY_NAME,
            "layers": [
                {"class_name": "InputLayer", "name": INPUT_NAME, "inbound_nodes": [],
                 "config": {"batch_input_shape": list(batch_input_shape), "dtype": "float32",
                            "sparse": False, "name": INPUT_NAME}},
                {**layer_object, "name": name, "inbound_nodes": [[[INPUT_NAME, 0, 0, {}]]]},
            ],
            "input_layers": [[INPUT_NAME, 0, 0]],
            "output_layers": [[name, 0, 0]],
        },
        "keras_version": KERAS_VERSION,
        "backend": "tensorflow",
    }


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def unread_options(sent: dict, loaded_class: str, loaded_config: dict, wrapped=False) -> list:
    """The options of ``sent`` (a layers-format object) that the loaded TF.js layer does not hold
    (compared with its getConfig(), keys in camelCase), each as "Class.option=value", recursing into
    wrapped layers and cells. Not reported: options in NO_EFFECT_AT_INFERENCE; zero_output_for_mask
    False (what TF.js computes: it has no such option), or in the layer a Bidirectional wraps, where
    Keras sets it to return_sequences as part of the wrapper's semantics (what TF.js' Bidirectional
    computes instead is a question of values, which the cases answer)."""
    out = []
    if sent["class_name"] != loaded_class:
        return [f"{sent['class_name']} (loaded as {loaded_class})"]
    held = {_snake(k): v for k, v in loaded_config.items()}
    for key, value in sent["config"].items():
        if key in NO_EFFECT_AT_INFERENCE or (key == "zero_output_for_mask" and (value is False or wrapped)):
            continue
        if key not in held:
            out.append(f"{sent['class_name']}.{key}={value!r}")
            continue
        nested, there = value, held[key]
        if isinstance(nested, dict) and "class_name" in nested and isinstance(there, dict):
            out += unread_options(nested, there.get("className"), there.get("config", {}),
                                  wrapped=sent["class_name"] == "Bidirectional")
        elif isinstance(nested, list) and nested and isinstance(nested[0], dict) and "class_name" in nested[0]:
            for n, t in zip(nested, there):
                out += unread_options(n, t.get("className"), t.get("config", {}))
        elif isinstance(value, (bool, int, float)) and value != there:
            out.append(f"{sent['class_name']}.{key}={value!r} (TF.js holds {there!r})")
    return out
