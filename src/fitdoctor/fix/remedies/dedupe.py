"""Drop duplicate training rows and rows that also sit in the validation set."""

from __future__ import annotations

from typing import Any

import numpy as np

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies._helpers import keep_rows
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


def _row_keys(x: np.ndarray) -> np.ndarray:
    flat = np.ascontiguousarray(np.asarray(x).reshape(len(x), -1))
    return flat.view(np.dtype((np.void, flat.dtype.itemsize * flat.shape[1]))).reshape(len(x))


def rows_to_keep(setup: Setup) -> np.ndarray:
    """Mask of training rows that are first copies and absent from the validation set."""
    keys = _row_keys(setup.x_train)
    _, first = np.unique(keys, return_index=True)
    keep = np.zeros(len(keys), dtype=bool)
    keep[first] = True
    val_keys = _row_keys(np.asarray(setup.x_val, dtype=np.asarray(setup.x_train).dtype))
    keep &= ~np.isin(keys, val_keys)
    return keep


@register
class Deduplicate(Remedy):
    id = "deduplicate"
    treats = ("duplicate_samples", "train_val_leakage")
    description = ("Keep one copy of each repeated training row and drop training rows that also "
                   "appear in the validation set.")
    stage = 0
    changes_rows = True

    def applies(self, setup: Setup, finding: Finding) -> bool:
        keep = rows_to_keep(setup)
        return 0 < int((~keep).sum()) < setup.n_train // 2

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        return keep_rows(setup, rows_to_keep(setup))

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        return snippet("""
            import numpy as np

            _, first = np.unique(x_train, axis=0, return_index=True)
            first = np.sort(first)
            x_train, y_train = x_train[first], y_train[first]
            in_val = (x_train[:, None] == x_val[None]).all(axis=-1).any(axis=1)
            x_train, y_train = x_train[~in_val], y_train[~in_val]
        """)
