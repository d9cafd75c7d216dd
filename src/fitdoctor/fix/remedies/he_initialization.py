"""He initialization for ReLU-family hidden layers (treats `vanishing_gradients`, `dead_relu`)."""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder
from fitdoctor.fix.remedies._helpers import is_weighted
from fitdoctor.fix.remedies.activation import hidden_activations
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


@register
class HeInitialization(Remedy):
    id = "he_initialization"
    treats = ("vanishing_gradients", "dead_relu")
    description = "Initialize hidden Dense/Conv kernels with he_normal (suited to ReLU)."
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return bool(hidden_activations(setup))

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
            if is_output or not is_weighted(layer):
                return None
            config["kernel_initializer"] = "he_normal"
            return type(layer).from_config(config)

        return setup.replace(build_model=edited_builder(setup.build_model, layer_edit=edit))

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet("""
            # in build_model(), each hidden layer:
            keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
        """)
