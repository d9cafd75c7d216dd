"""BatchNormalization before each hidden activation.

Treats `vanishing_gradients`, `saturated_activations` and `exploding_gradients`.
"""

from __future__ import annotations

from typing import Any

import keras

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, hidden_layers, probe_model
from fitdoctor.fix.remedies.activation import activation_name
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


@register
class BatchNormalization(Remedy):
    id = "batch_normalization"
    treats = ("vanishing_gradients", "saturated_activations", "exploding_gradients")
    description = ("Insert BatchNormalization between each hidden Dense layer and its activation.")
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        model = probe_model(setup)
        has_bn = any(type(la).__name__ == "BatchNormalization" for la in model.layers)
        return bool(hidden_layers(model)) and not has_bn

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
            if type(layer).__name__ != "Dense" or is_output:
                return None
            activation = activation_name(config)
            config["activation"] = "linear"
            return keras.Sequential(
                [type(layer).from_config(config), keras.layers.BatchNormalization(),
                 keras.layers.Activation(activation)],
                name=f"{layer.name}_bn",
            )

        return setup.replace(build_model=edited_builder(setup.build_model, layer_edit=edit))

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet("""
            # in build_model(), each hidden layer:
            keras.layers.Dense(64),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),  # your activation
        """)
