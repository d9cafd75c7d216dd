"""Clip the gradient norm (treats `exploding_gradients`, `nan_loss`)."""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, optimizer_config
from fitdoctor.fix.remedies._helpers import optimizer_name
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


@register
class GradientClipping(Remedy):
    id = "gradient_clipping"
    treats = ("exploding_gradients", "nan_loss")
    description = "Set the optimizer's clipnorm (searched: 5, then 1)."
    grid = (5.0, 1.0)
    stage = 3

    def apply(self, setup: Setup, finding: Finding, strength: Any = 1.0) -> Setup:
        def edit(config: dict[str, Any]) -> dict[str, Any]:
            optimizer = optimizer_config(config)
            optimizer["clipnorm"] = float(strength)
            optimizer["global_clipnorm"] = None
            return config

        return setup.replace(build_model=edited_builder(setup.build_model, compile_edit=edit))

    def code(self, setup: Setup, finding: Finding, strength: Any = 1.0) -> str:
        return snippet(f"""
            # in build_model(): keep your optimizer and learning rate, add clipnorm
            optimizer = keras.optimizers.{optimizer_name(setup)}(learning_rate=...,
                                                                 clipnorm={float(strength):g})
        """)
