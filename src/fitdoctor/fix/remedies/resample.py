"""Oversample rare classes in the training rows (treats `class_imbalance`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies._helpers import integer_labels
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


@register
class Oversample(Remedy):
    id = "oversample_minority"
    treats = ("class_imbalance",)
    description = ("Repeat rows of rare classes (seeded) until each class has as many as the "
                   "largest.")
    stage = 0
    changes_rows = True

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return setup.task.kind in ("binary", "multiclass")

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        y = integer_labels(setup)
        rng = np.random.default_rng(0)
        target = np.bincount(y).max()
        rows = [np.arange(len(y))]
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            if len(members) < target:
                rows.append(rng.choice(members, target - len(members), replace=True))
        order = rng.permutation(np.concatenate(rows))
        return setup.replace(x_train=setup.x_train[order].copy(),
                             y_train=setup.y_train[order].copy())

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet("""
            import numpy as np

            rng = np.random.default_rng(0)
            target = np.bincount(y_train).max()
            rows = [np.arange(len(y_train))] + [
                rng.choice(np.flatnonzero(y_train == c), target - (y_train == c).sum())
                for c in np.unique(y_train)
            ]
            order = rng.permutation(np.concatenate(rows))
            x_train, y_train = x_train[order], y_train[order]
        """)
