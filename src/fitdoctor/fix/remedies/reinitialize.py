"""Initializers suited to each layer's activation, and zero biases.

Treats `dead_relu`, `exploding_gradients`, `vanishing_gradients`, `saturated_activations` and
`nan_loss` when they come from the starting weights: kernels drawn too wide (activations and
gradients grow layer after layer, or tanh/sigmoid units sit in their flat tails) and biases that
start every ReLU below zero. He initialization (He et al., 2015) keeps the variance of ReLU-family
activations constant across layers, Glorot initialization (Glorot & Bengio, 2010) does the same for
tanh, sigmoid and linear layers, and LeCun normal is what SELU's self-normalization assumes.
"""

from __future__ import annotations

from typing import Any

import keras

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, probe_model
from fitdoctor.fix.remedies._helpers import is_weighted
from fitdoctor.fix.remedies.activation import activation_name, suited_initializer
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


def _zero_bias(config: dict[str, Any]) -> bool:
    init = keras.initializers.get(config.get("bias_initializer") or "zeros")
    if isinstance(init, keras.initializers.Constant):
        return float(init.value) == 0.0
    return isinstance(init, keras.initializers.Zeros)


def _changes(config: dict[str, Any]) -> bool:
    """Whether reinitializing would change this layer's config."""
    if "kernel_initializer" not in config:
        return False
    wanted = suited_initializer(activation_name(config))
    current = keras.initializers.get(config["kernel_initializer"])
    if type(current) is not type(keras.initializers.get(wanted)):
        return True
    return config.get("use_bias", True) and not _zero_bias(config)


@register
class Reinitialize(Remedy):
    id = "reinitialize"
    treats = ("dead_relu", "exploding_gradients", "vanishing_gradients",
              "saturated_activations", "nan_loss")
    description = ("Initialize each Dense/Conv kernel for its activation (He for the ReLU "
                   "family, Glorot for tanh/sigmoid/linear, LeCun for SELU) and biases at zero.")
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return any(is_weighted(la) and _changes(la.get_config())
                   for la in probe_model(setup).layers)

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
            if not is_weighted(layer) or not _changes(config):
                return None
            config["kernel_initializer"] = suited_initializer(activation_name(config))
            if "bias_initializer" in config:
                config["bias_initializer"] = "zeros"
            return type(layer).from_config(config)

        return setup.replace(build_model=edited_builder(setup.build_model, layer_edit=edit))

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        lines = []
        for layer in probe_model(setup).layers:
            config = layer.get_config()
            if is_weighted(layer) and _changes(config):
                init = suited_initializer(activation_name(config))
                lines.append(f'# {layer.name} ({activation_name(config)}): '
                             f'kernel_initializer="{init}", bias_initializer="zeros"')
        return snippet("""
            # in build_model(), give each Dense/Conv layer the initializer its activation needs
            # (these are Keras' defaults, except He for ReLU layers):
            keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal",
                               bias_initializer="zeros"),
        """) + "\n" + "\n".join(lines)
