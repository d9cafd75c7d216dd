"""Convolutions in front of a dense-only model on images (treats `underfitting`,
`baseline_beats_model`).

A Flatten + Dense model sees an image as an unordered list of pixels: it must learn every
position of every pattern separately. Two convolution blocks (3x3 filters shared across the
image, then max pooling) give it local, translation-tolerant features first; the user's own
layers then read those instead of raw pixels.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import keras

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import NotEditable, probe_model
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.keras_vocab import CONV_LAYERS, is_photo_batch
from fitdoctor.setup import Setup

#: Filters of the two convolution blocks put in front.
FILTERS = (32, 64)


def conv_blocks() -> list[Any]:
    """Conv 3x3 + max pooling, twice, ReLU with He initialization."""
    layers = []
    for filters in FILTERS:
        layers += [keras.layers.Conv2D(filters, 3, padding="same", activation="relu",
                                       kernel_initializer="he_normal"),
                   keras.layers.MaxPooling2D()]
    return layers


def with_convolutions(build_model: Callable[[], Any]) -> Callable[[], Any]:
    """Wrap a builder of a Sequential model so its layers come after `conv_blocks()`."""

    def build() -> Any:
        model = build_model()
        if type(model).__name__ != "Sequential":
            raise NotEditable("convolutions are put in front of Sequential models only")
        compile_config = copy.deepcopy(model.get_compile_config())
        layers = [type(la).from_config(la.get_config()) for la in model.layers]
        rebuilt = keras.Sequential(
            [keras.Input(shape=tuple(model.inputs[0].shape[1:])), *conv_blocks(), *layers],
            name=f"{model.name}_conv",
        )
        rebuilt.compile_from_config(compile_config)
        return rebuilt

    return build


@register
class Convolutions(Remedy):
    id = "convolutions"
    treats = ("underfitting", "baseline_beats_model")
    description = ("Put two Conv2D + MaxPooling2D blocks (32 and 64 filters) in front of a "
                   "Sequential model that reads images with Dense layers only.")
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        if not is_photo_batch(setup.x_train):
            return False
        model = probe_model(setup)
        return (type(model).__name__ == "Sequential"
                and not any(type(la).__name__ in CONV_LAYERS for la in model.layers))

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        return setup.replace(build_model=with_convolutions(setup.build_model))

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet(f"""
            # in build_model(), right after keras.Input(...) and before Flatten:
            keras.layers.Conv2D({FILTERS[0]}, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D({FILTERS[1]}, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
        """)
