"""Replace plain SGD by Adam (treats `lr_too_low`, `lr_too_high`, `underfitting`, ...)."""

from __future__ import annotations

from typing import Any

import keras

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, optimizer_config
from fitdoctor.fix.remedies._helpers import optimizer_name
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup

_CLIP_KEYS = ("clipnorm", "clipvalue", "global_clipnorm")


@register
class SwitchToAdam(Remedy):
    id = "switch_to_adam"
    treats = ("lr_too_low", "lr_too_high", "underfitting", "vanishing_gradients")
    description = "Train with Adam (learning rate 1e-3) instead of SGD, keeping any clipping."

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return optimizer_name(setup) == "SGD"

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        def edit(config: dict[str, Any]) -> dict[str, Any]:
            old = optimizer_config(config)
            adam = keras.optimizers.serialize(keras.optimizers.Adam(1e-3))
            adam["config"].update({k: old[k] for k in _CLIP_KEYS if old.get(k) is not None})
            config["optimizer"] = adam
            return config

        return setup.replace(build_model=edited_builder(setup.build_model, compile_edit=edit))

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet("""
            # in build_model():
            model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                          loss=..., metrics=...)
        """)
