"""`irrelevant_features`: many features carry no signal about the label."""

from __future__ import annotations

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding


@register
class IrrelevantFeatures(Check):
    id = "irrelevant_features"
    description = (
        "Estimates each feature's mutual information with the label on a training sample and "
        "compares it with a noise floor (the 95th percentile of the same estimate with shuffled "
        "labels, at least `min_mutual_info` nats). When at least `max_fraction` of the features "
        "and at least `min_count` features fall under the floor it is a warning: noise features "
        "give the model ways to fit noise, most so with few samples per feature (reported). Not "
        "run on text given as token ids into an Embedding layer."
    )
    category = "data"
    rank = 60
    tasks = ("binary", "multiclass", "regression")

    def __init__(self, *, max_fraction: float = 0.5, min_count: int = 5,
                 min_mutual_info: float = 0.01) -> None:
        """Args:
        max_fraction: Share of no-signal features that is a warning. Defaults to 0.5.
        min_count: No-signal features needed as well. Defaults to 5.
        min_mutual_info: Lowest noise floor, in nats. Defaults to 0.01.
        """
        if not 0 < max_fraction <= 1:
            raise ValueError(f"max_fraction must be in (0, 1]. Received: {max_fraction}")
        if min_count < 1 or min_mutual_info < 0:
            raise ValueError(
                f"min_count must be >= 1 and min_mutual_info >= 0. Received: "
                f"min_count={min_count}, min_mutual_info={min_mutual_info}"
            )
        self.max_fraction, self.min_count = max_fraction, min_count
        self.min_mutual_info = min_mutual_info

    def run(self, evidence: Evidence) -> list[Finding]:
        rel = evidence.get("feature_relevance")
        floor = max(rel.noise_floor, self.min_mutual_info)
        silent = np.flatnonzero(rel.mutual_info <= floor)
        n_features = len(rel.mutual_info)
        fraction = len(silent) / n_features
        if len(silent) < self.min_count or fraction < self.max_fraction:
            return []
        names = [rel.feature_names[i] for i in silent]
        n_train = evidence.setup.n_train
        useful = n_features - len(silent)
        return [self.finding(
            "warning",
            f"{len(silent)} of {n_features} features carry no measurable signal about the label "
            f"(e.g. {', '.join(names[:4])})",
            {"no_signal_features": len(silent), "n_features": n_features,
             "no_signal_names": names[:30], "noise_floor_nats": round(floor, 4),
             "samples_per_feature": round(n_train / n_features, 1),
             "samples_per_useful_feature": round(n_train / max(1, useful), 1),
             "rows_measured": rel.rows},
            "Drop the no-signal features (or select features on the training split), or "
            "regularise the first layer so it can ignore them.",
            """
            no_signal = [...]  # the no_signal_names above, as column indices
            keep = [j for j in range(x_train.shape[1]) if j not in set(no_signal)]
            x_train, x_val = x_train[:, keep], x_val[:, keep]
            # or: keras.layers.Dense(64, kernel_regularizer=keras.regularizers.L1(1e-4))
            """,
        )]
