"""Swap ReLU for LeakyReLU so dead units can recover (treats `dead_relu`)."""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies.activation import hidden_activations, swap_activations
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


@register
class LeakyRelu(Remedy):
    id = "leaky_relu"
    treats = ("dead_relu",)
    description = "Use leaky_relu (with He initialization) in hidden layers that use ReLU."
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return "relu" in hidden_activations(setup)

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        return swap_activations(setup, {"relu": "leaky_relu"})

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet("""
            # in build_model(), each hidden layer:
            keras.layers.Dense(64, activation="leaky_relu", kernel_initializer="he_normal"),
        """)
