"""Weight classes inversely to their frequency (treats `class_imbalance`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies._helpers import integer_labels
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


def class_weight(setup: Setup, power: float) -> dict[int, float]:
    """`{class: (n / (k * count)) ** power}`: power 1 is scikit-learn's "balanced"."""
    y = integer_labels(setup)
    counts = np.bincount(y, minlength=max(2, setup.task.n_classes))
    present = counts > 0
    weights = np.ones(len(counts))
    weights[present] = (len(y) / (present.sum() * counts[present])) ** power
    return {int(c): round(float(w), 4) for c, w in enumerate(weights)}


@register
class ClassWeights(Remedy):
    id = "class_weights"
    treats = ("class_imbalance",)
    description = ("Pass class_weight to fit so rare classes count as much as common ones "
                   "(power 0.5 = square-root weighting, 1.0 = fully balanced).")
    grid = (0.5, 1.0)

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return setup.task.kind in ("binary", "multiclass") and "class_weight" not in setup.fit

    def apply(self, setup: Setup, finding: Finding, strength: Any = 1.0) -> Setup:
        return setup.replace(fit={**setup.fit, "class_weight": class_weight(setup, strength)})

    def code(self, setup: Setup, finding: Finding, strength: Any = 1.0) -> str:
        return snippet(f"""
            FIT = {{**FIT, "class_weight": {class_weight(setup, strength)}}}
            # = (n_rows / (n_classes * rows_of_class)) ** {strength}
        """)
