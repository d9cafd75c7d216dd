"""Drop training rows flagged as outliers (treats `outliers`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fitdoctor.evidence.impute import column_medians
from fitdoctor.findings import Finding
from fitdoctor.fix.remedies._helpers import evidence_indices, keep_rows
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup

#: Evidence keys checks may use for the flagged rows.
ROW_KEYS = ("rows", "row_indices", "indices", "outlier_rows")


def outlier_rows(setup: Setup, finding: Finding, z: float = 6.0) -> np.ndarray:
    """Rows the finding names, or else rows with a feature more than `z` robust SDs out."""
    rows = evidence_indices(finding, ROW_KEYS, setup.n_train)
    if rows is not None:
        return rows
    x = np.asarray(setup.x_train, dtype="float64").reshape(setup.n_train, -1)
    median = column_medians(x)
    mad = column_medians(np.abs(x - median)) * 1.4826
    mad = np.where(mad > 1e-12, mad, np.inf)
    robust_z = np.nan_to_num(np.abs(x - median) / mad)
    return np.flatnonzero(robust_z.max(axis=1) > z)


@register
class DropOutliers(Remedy):
    id = "drop_outliers"
    treats = ("outliers",)
    description = "Drop the training rows flagged as outliers (validation rows stay)."
    stage = 0
    changes_rows = True

    def applies(self, setup: Setup, finding: Finding) -> bool:
        rows = outlier_rows(setup, finding)
        return 0 < len(rows) < setup.n_train // 2

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        keep = np.ones(setup.n_train, dtype=bool)
        keep[outlier_rows(setup, finding)] = False
        return keep_rows(setup, keep)

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        rows = outlier_rows(setup, finding).tolist()
        shown = rows if len(rows) <= 20 else [*rows[:20], "..."]
        return snippet(f"""
            import numpy as np

            outlier_rows = {shown}  # {len(rows)} training rows, as fitdoctor flagged them
            keep = np.ones(len(x_train), dtype=bool)
            keep[outlier_rows] = False
            x_train, y_train = x_train[keep], y_train[keep]
        """)
