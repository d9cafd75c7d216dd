"""Image augmentation layers in front of the model, strength searched (treats `overfitting`)."""

from __future__ import annotations

from typing import Any

import keras

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.keras_vocab import is_photo_batch
from fitdoctor.setup import Setup


def augmentation_layers(strength: float) -> list[Any]:
    """Flip, rotate, shift, zoom and contrast scaled by `strength` (active only in training)."""
    return [
        keras.layers.RandomFlip("horizontal"),
        keras.layers.RandomRotation(strength / 2),
        keras.layers.RandomTranslation(strength, strength),
        keras.layers.RandomZoom(strength),
        keras.layers.RandomContrast(strength),
    ]


@register
class ImageAugmentation(Remedy):
    id = "image_augmentation"
    treats = ("overfitting",)
    judged_early = False  # its effect shows late in a run
    description = ("Random flips, rotations, shifts, zooms and contrast changes in front of the "
                   "model, at the strongest setting that still raises validation accuracy.")
    grid = (0.05, 0.1, 0.2, 0.3)
    edits_model = True
    stage = 2

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return is_photo_batch(setup.x_train, min_side=1)

    def apply(self, setup: Setup, finding: Finding, strength: Any = 0.1) -> Setup:
        strength = float(strength)
        builder = edited_builder(setup.build_model,
                                 input_layers=lambda model: augmentation_layers(strength))
        return setup.replace(build_model=builder)

    def code(self, setup: Setup, finding: Finding, strength: Any = 0.1) -> str:
        s = float(strength)
        return snippet(f"""
            augment = keras.Sequential([
                keras.layers.RandomFlip("horizontal"),
                keras.layers.RandomRotation({s / 2:g}),
                keras.layers.RandomTranslation({s:g}, {s:g}),
                keras.layers.RandomZoom({s:g}),
                keras.layers.RandomContrast({s:g}),
            ])
            # in build_model(): x = augment(inputs) before your first layer
            # (these layers only act during training)
        """)
