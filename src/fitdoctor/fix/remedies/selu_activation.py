"""Swap ReLU for SELU so units cannot die (treats `dead_relu`)."""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies.activation import hidden_activations, swap_activations
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


@register
class SeluActivation(Remedy):
    """SELU (Klambauer et al., 2017) is negative below zero, so a unit always passes a gradient,
    and with LeCun-normal weights it keeps activations near zero mean and unit variance."""

    id = "selu_activation"
    treats = ("dead_relu",)
    description = "Use selu (with LeCun normal initialization) in hidden layers that use ReLU."
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return "relu" in hidden_activations(setup)

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        return swap_activations(setup, {"relu": "selu"})

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet("""
            # in build_model(), each hidden layer:
            keras.layers.Dense(64, activation="selu", kernel_initializer="lecun_normal"),
        """)
