"""Fill missing values with the training median (treats `missing_values`).

Missing means NaN, and the values the finding found written for 'unknown' in a column of a
feature table (a -999 code, zeros where zero is impossible, as in Pima's glucose and BMI):
those are marked missing first, so the median is taken over the column's real values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fitdoctor.evidence.impute import column_medians
from fitdoctor.findings import Finding
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


def written_missing(setup: Setup, finding: Finding) -> list[tuple[int, float, str]]:
    """(column, value, the column's name in the finding) of each value the finding names as
    written for 'unknown', in the columns of a two-dimensional feature table (none for
    images, several inputs or streams)."""
    entries = finding.evidence.get("written_as_numbers") or {}
    x = setup.x_train
    if not entries or not isinstance(x, np.ndarray) or x.ndim != 2 or setup.feed is not None:
        return []
    found = []
    for key, entry in entries.items():  # keyed "glucose=0", as the finding shows them
        column = entry.get("column") if isinstance(entry, dict) else None
        if isinstance(column, int) and 0 <= column < x.shape[1]:
            found.append((column, float(entry["value"]), str(key).rsplit("=", 1)[0]))
    return found


@register
class ImputeMissing(Remedy):
    id = "impute_missing"
    treats = ("missing_values",)
    description = ("Replace NaN features, and values written for 'unknown' (-999, impossible "
                   "zeros), with the training median of their column.")
    stage = 0

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return bool(written_missing(setup, finding)
                    or np.isnan(np.asarray(setup.x_train, dtype="float64")).any()
                    or np.isnan(np.asarray(setup.x_val, dtype="float64")).any())

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        written = written_missing(setup, finding)

        def marked(a: np.ndarray) -> np.ndarray:
            a = np.array(a, dtype="float32", copy=True)
            for column, value, _ in written:
                a[a[:, column] == value, column] = np.nan
            return a

        x_train, x_val = marked(setup.x_train), marked(setup.x_val)
        median = column_medians(x_train.astype("float64"))
        median = np.where(np.isfinite(median), median, 0.0)

        def fill(a: np.ndarray) -> np.ndarray:
            mask = np.isnan(a)
            a[mask] = np.broadcast_to(median, a.shape)[mask]
            return a

        return setup.replace(x_train=fill(x_train), x_val=fill(x_val))

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        written = written_missing(setup, finding)
        if written:
            from fitdoctor.checks.missing_values import written_missing_code

            return written_missing_code([(name, value) for _, value, name in written[:5]])
        return snippet("""
            from sklearn.impute import SimpleImputer

            imputer = SimpleImputer(strategy="median").fit(x_train)
            x_train, x_val = imputer.transform(x_train), imputer.transform(x_val)
            # apply the same imputer to every input at prediction time
        """)
