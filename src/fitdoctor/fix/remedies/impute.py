"""Fill missing values with the training median (treats `missing_values`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


@register
class ImputeMissing(Remedy):
    id = "impute_missing"
    treats = ("missing_values",)
    description = "Replace NaN features with the training median of their column."
    stage = 0

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return bool(np.isnan(np.asarray(setup.x_train, dtype="float64")).any()
                    or np.isnan(np.asarray(setup.x_val, dtype="float64")).any())

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        x = np.asarray(setup.x_train, dtype="float64")
        median = np.nanmedian(x, axis=0)
        median = np.where(np.isfinite(median), median, 0.0)

        def fill(a: np.ndarray) -> np.ndarray:
            a = np.array(a, dtype="float32", copy=True)
            mask = np.isnan(a)
            a[mask] = np.broadcast_to(median, a.shape)[mask]
            return a

        return setup.replace(x_train=fill(setup.x_train), x_val=fill(setup.x_val))

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet("""
            from sklearn.impute import SimpleImputer

            imputer = SimpleImputer(strategy="median").fit(x_train)
            x_train, x_val = imputer.transform(x_train), imputer.transform(x_val)
            # apply the same imputer to every input at prediction time
        """)
