"""Swap saturating or missing hidden activations for ReLU.

Treats `vanishing_gradients`, `saturated_activations` and `no_nonlinearity`.
"""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies.activation import hidden_activations, swap_activations
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup

SATURATING = ("sigmoid", "tanh", "hard_sigmoid", "softsign")


@register
class ReluActivation(Remedy):
    id = "relu_activation"
    treats = ("vanishing_gradients", "saturated_activations", "no_nonlinearity")
    description = ("Use ReLU (with He initialization) in hidden layers that use sigmoid/tanh, or "
                   "no activation at all.")
    edits_model = True
    stage = 1

    def _swap(self, finding: Finding) -> dict[str, str]:
        names = ("linear",) if finding.id == "no_nonlinearity" else SATURATING
        return {name: "relu" for name in names}

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return any(a in self._swap(finding) for a in hidden_activations(setup))

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        return swap_activations(setup, self._swap(finding))

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet("""
            # in build_model(), each hidden layer:
            keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
        """)
