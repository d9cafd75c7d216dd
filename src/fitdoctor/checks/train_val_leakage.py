"""`train_val_leakage`: validation rows that are (near) copies of training rows."""

from __future__ import annotations

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding


@register
class TrainValLeakage(Check):
    id = "train_val_leakage"
    description = (
        "Counts validation rows identical to a training row (all rows, by row fingerprint) and "
        "near copies: sampled validation rows closer to a training row than `near_ratio` times "
        "the median nearest-neighbour distance among training rows (scaled up when the "
        "training rows were sampled). When at least `max_fraction` of the validation rows are "
        "copies it is a warning, critical from `critical_fraction`: the validation score "
        "measures memory, not generalisation, and overstates what the model will do on new data."
    )
    category = "data"
    rank = 15

    def __init__(self, *, max_fraction: float = 0.01, critical_fraction: float = 0.1,
                 near_ratio: float = 0.05) -> None:
        """Args:
        max_fraction: Share of copied validation rows that is a warning. Defaults to 0.01.
        critical_fraction: Share that is critical. Defaults to 0.1.
        near_ratio: Distance, as a fraction of the median nearest-neighbour distance, under
            which a validation row is a near copy. Defaults to 0.05.
        """
        if not 0 < max_fraction <= critical_fraction <= 1:
            raise ValueError(
                "need 0 < max_fraction <= critical_fraction <= 1. Received: "
                f"max_fraction={max_fraction}, critical_fraction={critical_fraction}"
            )
        if not 0 < near_ratio < 1:
            raise ValueError(f"near_ratio must be in (0, 1). Received: {near_ratio}")
        self.max_fraction, self.critical_fraction = max_fraction, critical_fraction
        self.near_ratio = near_ratio

    def run(self, evidence: Evidence) -> list[Finding]:
        stats = evidence.get("data_stats")
        nb = evidence.get("neighbours")
        # Exact copies are counted from fingerprints; distances only add the inexact ones.
        exact_rows = stats.val_in_train_mask[nb.val_rows]
        near = ~exact_rows & (nb.nearest_val < self.near_ratio * nb.typical)
        near_share = min(1.0, near.mean() / nb.train_fraction) if len(near) else 0.0
        exact_share = stats.val_in_train / stats.n_val
        share = min(1.0, exact_share + near_share)
        if share < self.max_fraction:
            return []
        severity = "critical" if share >= self.critical_fraction else "warning"
        facts = {"val_rows_in_train": stats.val_in_train,
                 "val_rows_near_train_estimated": int(round(near_share * stats.n_val)),
                 "copied_val_fraction": round(share, 4),
                 "val_row_indices": list(stats.val_in_train_rows[:20])}
        if near.any():
            idx = np.flatnonzero(near)[:5]
            facts["near_pairs_val_train"] = [[int(nb.val_rows[i]), int(nb.nearest_val_index[i])]
                                             for i in idx]
        if evidence.setup.val_source == "held_out":
            facts["validation"] = "held out by fitdoctor (duplicates in training data leak)"
        return [self.finding(
            severity,
            f"{share:.0%} of validation rows also appear in the training data: validation "
            "scores overstate generalisation",
            facts,
            "Deduplicate before splitting, and split by group (patient, user, source file) when "
            "rows from one group are near copies.",
            """
            import numpy as np
            from sklearn.model_selection import GroupShuffleSplit

            _, first = np.unique(x.reshape(len(x), -1), axis=0, return_index=True)
            x, y = x[np.sort(first)], y[np.sort(first)]
            # rows of one group stay on one side:
            train_idx, val_idx = next(GroupShuffleSplit(test_size=0.2).split(x, y, groups))
            """,
        )]
