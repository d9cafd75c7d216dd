"""Standardize inputs inside the model (treats `unscaled_inputs`)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


def _is_pixels(x: np.ndarray) -> bool:
    finite = x[np.isfinite(x)]
    return x.ndim >= 3 and finite.size > 0 and finite.min() >= 0 and 1.5 < finite.max() <= 255


@register
class StandardizeInputs(Remedy):
    id = "standardize_inputs"
    treats = ("unscaled_inputs",)
    description = ("Put a Normalization layer (adapted to the training data) in front of the model "
                   "or, for 0-255 pixels, Rescaling(1/255).")
    edits_model = True
    stage = 2

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        x = np.asarray(setup.x_train, dtype="float64")
        if _is_pixels(x):
            layers = lambda model: [keras.layers.Rescaling(1.0 / 255)]  # noqa: E731
        else:
            axes = tuple(range(x.ndim - 1))
            mean = np.nanmean(x, axis=axes)
            var = np.nanvar(x, axis=axes)
            var = np.where(np.isfinite(var) & (var > 1e-12), var, 1.0)
            mean = np.where(np.isfinite(mean), mean, 0.0)
            layers = lambda model: [  # noqa: E731
                keras.layers.Normalization(axis=-1, mean=mean.tolist(), variance=var.tolist())
            ]
        return setup.replace(build_model=edited_builder(setup.build_model, input_layers=layers))

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        if _is_pixels(np.asarray(setup.x_train, dtype="float64")):
            return snippet("""
                # in build_model(), first layer after keras.Input:
                x = keras.layers.Rescaling(1.0 / 255)(inputs)
            """)
        return snippet("""
            # in build_model(): learn mean and variance from the training data
            norm = keras.layers.Normalization(axis=-1)
            norm.adapt(x_train)
            model = keras.Sequential([keras.Input(shape=x_train.shape[1:]), norm, *your_layers])
        """)
