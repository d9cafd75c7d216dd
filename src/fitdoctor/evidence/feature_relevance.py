"""Feature relevance: how much each feature tells about the label (mutual information).

Mutual information between each feature and the label is estimated (scikit-learn's k-nearest
neighbour estimator) on a seeded sample, once with the real labels and once with the labels
shuffled; the shuffled run's 95th percentile is the noise floor a feature must clear to count
as carrying signal. Images are skipped: single pixels are not features a user chooses.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from fitdoctor.evidence.base import Evidence, EvidenceSkipped, probe
from fitdoctor.evidence.data_stats import (
    TOKEN_IDS,
    class_ids,
    is_image,
    sample_rows,
    table_view,
)

#: Rows the estimator reads at most.
MAX_RELEVANCE_ROWS = 5_000


@dataclasses.dataclass(frozen=True)
class FeatureRelevance:
    """Mutual information of each feature with the label.

    Args:
        feature_names: Feature names, in column order.
        mutual_info: Estimated mutual information (nats) with the real labels.
        noise_floor: 95th percentile of the estimates with shuffled labels.
        rows: Rows the estimate used; `n_train`: training rows available.
    """

    feature_names: tuple[str, ...]
    mutual_info: np.ndarray
    noise_floor: float
    rows: int
    n_train: int

    def to_measurements(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "noise_floor": round(self.noise_floor, 5),
            "mutual_info": {
                n: round(float(v), 5)
                for n, v in zip(self.feature_names[:200], self.mutual_info, strict=False)
            },
        }


@probe("feature_relevance")
def feature_relevance(evidence: Evidence) -> FeatureRelevance:
    """Estimate each feature's mutual information with the label against a shuffled-label floor."""
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
    from threadpoolctl import threadpool_limits

    setup = evidence.setup
    if is_image(setup.x_train):
        raise EvidenceSkipped("feature relevance is not measured pixel by pixel on images")
    if setup.task.kind == "multilabel":
        raise EvidenceSkipped("feature relevance is measured for single-label tasks only")
    if setup.token_inputs:
        raise EvidenceSkipped(f"feature relevance is not measured on text: {TOKEN_IDS}")
    limit = min(evidence.budget.max_audit_rows, MAX_RELEVANCE_ROWS)
    rows = sample_rows(setup.n_train, limit, evidence.seed + 7)
    x, names = table_view(np.asarray(setup.x_train)[rows], setup.feature_names)
    x = np.where(np.isfinite(x), x, np.nan)
    median = np.nan_to_num(np.nanmedian(np.where(np.isnan(x).all(axis=0), 0.0, x), axis=0))
    x = np.where(np.isnan(x), median, x)
    if setup.task.is_classification:
        y = class_ids(np.asarray(setup.y_train)[rows]).astype("float64")
        estimate = mutual_info_classif
    else:
        y = np.asarray(setup.y_train)[rows].reshape(len(rows), -1)[:, 0].astype("float64")
        estimate = mutual_info_regression
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    shuffled = np.random.default_rng(evidence.seed).permutation(y)
    with threadpool_limits(1):  # OpenMP threads oversubscribe a busy machine
        real = estimate(x, y, random_state=evidence.seed)
        null = estimate(x, shuffled, random_state=evidence.seed)
    return FeatureRelevance(names, real, float(np.percentile(null, 95)), int(len(y)),
                            setup.n_train)
