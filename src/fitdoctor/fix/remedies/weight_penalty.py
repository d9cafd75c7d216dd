"""Shared code of the L1 and L2 weight-penalty remedies."""

from __future__ import annotations

from typing import Any

import keras

from fitdoctor.fix.model_edit import edited_builder
from fitdoctor.fix.remedies._helpers import WEIGHTED
from fitdoctor.fix.remedies.base import snippet
from fitdoctor.setup import Setup


def with_penalty(setup: Setup, kind: str, strength: float) -> Setup:
    """A setup whose Dense/Conv kernels carry an `l1` or `l2` penalty of `strength`."""

    def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
        if type(layer).__name__ not in WEIGHTED:
            return None
        penalty = keras.regularizers.L1 if kind == "l1" else keras.regularizers.L2
        regularizer = penalty(strength)
        config["kernel_regularizer"] = keras.regularizers.serialize(regularizer)
        return type(layer).from_config(config)

    return setup.replace(build_model=edited_builder(setup.build_model, layer_edit=edit))


def penalty_code(kind: str, strength: float) -> str:
    name = kind.upper()
    return snippet(f"""
        # in build_model(), on each Dense / Conv layer:
        keras.layers.Dense(64, activation="relu",
                           kernel_regularizer=keras.regularizers.{name}({strength:g}))
    """)
