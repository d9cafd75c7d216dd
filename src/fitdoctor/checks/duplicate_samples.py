"""`duplicate_samples`: training rows that repeat, exactly or nearly, some with other labels."""

from __future__ import annotations

import numpy as np

from fitdoctor.checks._measured import measured_gain
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding


@register
class DuplicateSamples(Check):
    id = "duplicate_samples"
    description = (
        "Counts training rows identical to an earlier training row (all rows, by row "
        "fingerprint) and near duplicates: sampled rows whose nearest other row is closer than "
        "`near_ratio` times the median nearest-neighbour distance. Duplicates over-weight some "
        "examples and shrink the effective training set: a warning when exact plus near "
        "duplicates are at least `max_fraction` of the rows, or when at least "
        "`max_conflicting` duplicate rows carry a different label than their copy (the model "
        "is asked to predict two answers for one input), and the effect is measured: the fast "
        "baseline (logistic or ridge regression on the training sample) refitted without the "
        "exact repeats (one copy kept) raises its score on the same validation rows by more "
        "than `min_gain_se` standard errors of the paired per-row difference. Otherwise any "
        "duplicates are info, with the measured difference."
    )
    category = "data"
    rank = 45
    requires = ("data_stats", "neighbours", "row_effects")

    def __init__(self, *, max_fraction: float = 0.05, near_ratio: float = 0.05,
                 max_conflicting: int = 1, min_gain_se: float = 2.0) -> None:
        """Args:
        max_fraction: Share of duplicate rows that is a warning. Defaults to 0.05.
        near_ratio: Distance, as a fraction of the median nearest-neighbour distance, under
            which two rows count as near duplicates. Defaults to 0.05.
        max_conflicting: Duplicates with a different label that make a warning. Defaults to 1.
        min_gain_se: Standard errors by which deduplicating must raise the baseline's
            validation score for a warning. Defaults to 2.
        """
        if not 0 < max_fraction <= 1:
            raise ValueError(f"max_fraction must be in (0, 1]. Received: {max_fraction}")
        if not 0 < near_ratio < 1:
            raise ValueError(f"near_ratio must be in (0, 1). Received: {near_ratio}")
        if max_conflicting < 1:
            raise ValueError(f"max_conflicting must be >= 1. Received: {max_conflicting}")
        self.max_fraction, self.near_ratio = max_fraction, near_ratio
        if min_gain_se < 0:
            raise ValueError(f"min_gain_se must be >= 0. Received: min_gain_se={min_gain_se}")
        self.max_conflicting = max_conflicting
        self.min_gain_se = min_gain_se

    def run(self, evidence: Evidence) -> list[Finding]:
        stats = evidence.get("data_stats")
        nb = evidence.get("neighbours")
        # Exact copies are counted from fingerprints; distances only add the inexact ones.
        exact_rows = stats.train_has_twin[nb.train_rows]
        near = ~exact_rows & (nb.nearest_train < self.near_ratio * nb.typical)
        # Near pairs are found in both directions; count each row once per pair.
        near_rows = int(np.ceil(near.sum() / 2 / nb.train_fraction))
        exact = stats.exact_duplicates
        if exact == 0 and near_rows == 0:
            return []
        fraction = (exact + near_rows) / stats.n_train
        conflicting = stats.conflicting_duplicates
        problem = fraction >= self.max_fraction or conflicting >= self.max_conflicting
        facts = {"exact_duplicates": exact, "near_duplicates_estimated": near_rows,
                 "duplicate_fraction": round(fraction, 4),
                 "duplicates_with_other_label": conflicting,
                 "example_groups": [list(g) for g in stats.duplicate_groups[:5]]}
        if near.any():
            pairs = np.flatnonzero(near)[:5]
            facts["near_pairs"] = [[int(nb.train_rows[i]), int(nb.nearest_train_index[i])]
                                   for i in pairs]
        if nb.train_fraction < 1:
            facts["near_duplicates_measured_on"] = len(nb.train_rows)
        title = (f"{exact} exact and ~{near_rows} near-duplicate training rows "
                 f"({fraction:.1%} of the training set)")
        if conflicting:
            title += f"; {conflicting} repeat an input with a different label"
        if problem and exact:
            problem, effect = measured_gain(evidence, "without_repeats", self.min_gain_se,
                                            "deduplicating")
            facts.update(effect)
        elif problem:
            problem = False
            facts["why_not_a_warning"] = ("only near duplicates: the effect is measured by "
                                          "leaving exact repeats out")
        return [self.finding(
            "warning" if problem else "info",
            title,
            facts,
            "Drop repeated rows (keep one copy); for copies with different labels, decide "
            "which label is right.",
            """
            import numpy as np

            _, first = np.unique(x_train.reshape(len(x_train), -1), axis=0, return_index=True)
            keep = np.sort(first)
            x_train, y_train = x_train[keep], y_train[keep]
            """,
        )]
