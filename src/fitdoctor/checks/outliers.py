"""`outliers`: training rows far from all the others."""

from __future__ import annotations

import numpy as np

from fitdoctor.checks._measured import measured_gain
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.evidence.neighbours import OUTLIER_RATIO
from fitdoctor.findings import Finding


@register
class Outliers(Check):
    id = "outliers"
    description = (
        "Scores each sampled training row by its distance to its k-th nearest neighbour (k = 1 % "
        "of the sampled rows, 5 to 50) in robustly scaled feature space (median and "
        "interquartile range), divided by the median "
        "of that distance over all sampled rows. Rows scoring at least `distance_ratio` are "
        "outliers when they are at least `min_fraction` of the rows (and at least one). "
        "Extreme rows can dominate a squared loss and produce large gradient steps, but "
        "whether they do here is measured: the fast baseline (logistic or ridge regression on "
        "the training sample) is refitted without the rows scoring at least 20 and scored on "
        "the same validation rows. A warning when leaving them out raises the validation "
        "score by more than `min_gain_se` standard errors of the paired per-row difference; "
        "otherwise info, with the measured difference. The finding lists the row indices and "
        "the feature that is most extreme in each. Silent on text given as token ids into an "
        "Embedding layer."
    )
    category = "data"
    rank = 40
    requires = ("neighbours", "row_effects")

    def __init__(self, *, distance_ratio: float = OUTLIER_RATIO, min_fraction: float = 0.0,
                 min_gain_se: float = 2.0) -> None:
        """Args:
        distance_ratio: Neighbour distance, in multiples of the median one, that makes a row
            an outlier. Defaults to 20 (`neighbours.OUTLIER_RATIO`, the rows the effect is
            measured without).
        min_fraction: Share of outlier rows needed for a finding. Defaults to 0 (any).
        min_gain_se: Standard errors by which leaving the outliers out must raise the
            baseline's validation score for a warning. Defaults to 2.
        """
        if distance_ratio <= 1:
            raise ValueError(f"distance_ratio must be > 1. Received: {distance_ratio}")
        if not 0 <= min_fraction < 1:
            raise ValueError(f"min_fraction must be in [0, 1). Received: {min_fraction}")
        if min_gain_se < 0:
            raise ValueError(f"min_gain_se must be >= 0. Received: min_gain_se={min_gain_se}")
        self.distance_ratio, self.min_fraction = distance_ratio, min_fraction
        self.min_gain_se = min_gain_se

    def run(self, evidence: Evidence) -> list[Finding]:
        if evidence.setup.token_inputs:
            return []
        nb = evidence.get("neighbours")
        if nb.typical_kth <= 0:
            return []
        score = nb.kth_train / nb.typical_kth
        flagged = np.flatnonzero(score >= self.distance_ratio)
        fraction = len(flagged) / len(score)
        if len(flagged) == 0 or fraction < self.min_fraction:
            return []
        order = flagged[np.argsort(-score[flagged])]
        rows = [int(nb.train_rows[i]) for i in order[:20]]
        features = [nb.feature_names[int(nb.extreme_features[i])] for i in order[:20]]
        facts = {"outlier_rows": len(flagged), "rows_checked": len(score),
                 "row_indices": rows,
                 "most_extreme_feature": dict(zip(map(str, rows[:10]), features[:10],
                                                  strict=True)),
                 "largest_distance_ratio": round(float(score[order[0]]), 1)}
        if nb.train_fraction < 1:
            facts["sampled_from"] = evidence.setup.n_train
        hurts, effect = measured_gain(evidence, "without_outliers", self.min_gain_se,
                                      "leaving them out")
        facts.update(effect)
        return [self.finding(
            "warning" if hurts else "info",
            f"{len(flagged)} training rows lie far from the rest (up to "
            f"{float(score[order[0]]):.0f}x the usual neighbour distance; rows "
            f"{', '.join(map(str, rows[:5]))})",
            facts,
            "Inspect these rows: drop entry errors, clip or log-transform heavy-tailed features, "
            "or use a robust loss (Huber) for regression.",
            """
            import numpy as np

            outlier_rows = [...]  # the row_indices above
            keep = np.setdiff1d(np.arange(len(x_train)), outlier_rows)
            x_train, y_train = x_train[keep], y_train[keep]
            # or, for regression: model.compile(loss=keras.losses.Huber(), ...)
            """,
        )]
