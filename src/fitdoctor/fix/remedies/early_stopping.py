"""Stop when validation loss stops improving, keeping the best weights (treats `overfitting`)."""

from __future__ import annotations

from typing import Any

import keras

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


def _patience(setup: Setup) -> int:
    return max(3, setup.epochs // 10)


@register
class EarlyStopping(Remedy):
    id = "early_stopping"
    treats = ("overfitting",)
    judged_early = False  # it changes the run's length
    description = ("Add EarlyStopping(monitor='val_loss', restore_best_weights=True) to fit, so "
                   "the model kept is the one from the best epoch.")

    def applies(self, setup: Setup, finding: Finding) -> bool:
        callbacks = setup.fit.get("callbacks") or []
        return setup.epochs > 3 and not any(
            isinstance(c, keras.callbacks.EarlyStopping) for c in callbacks
        )

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=_patience(setup),
                                             restore_best_weights=True)
        callbacks = [*(setup.fit.get("callbacks") or []), stop]
        return setup.replace(fit={**setup.fit, "callbacks": callbacks})

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet(f"""
            stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience={_patience(setup)},
                                                 restore_best_weights=True)
            FIT = {{**FIT, "callbacks": [*FIT.get("callbacks", []), stop]}}
        """)
