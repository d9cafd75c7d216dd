"""Train/validation shift: can a classifier tell the two apart, and which features moved.

A histogram gradient-boosting classifier (it takes missing values as they are) learns to tell
sampled training rows from sampled validation rows; its cross-validated ROC AUC is 0.5 when the
two come from one distribution. Per-feature two-sample Kolmogorov-Smirnov tests name the
features that moved most. Images are compared through `table_view`'s coarse grid. On tables
wider than `REDUCE_ABOVE` columns the classifier reads the leading principal components of both
samples (`wide_reduction`: missing values imputed with the median first), the tests every column.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from fitdoctor.evidence.base import Evidence, EvidenceSkipped, EvidenceUnavailable, probe
from fitdoctor.evidence.data_stats import (
    TOKEN_IDS,
    reduced,
    sample_rows,
    table_view,
    wide_reduction,
)

#: Rows per split the domain classifier reads at most.
MAX_SHIFT_ROWS = 3_000


@dataclasses.dataclass(frozen=True)
class DataShift:
    """How different the validation rows look from the training rows.

    Args:
        auc: Cross-validated ROC AUC of the train-vs-validation classifier (0.5 = no shift).
        ks: Per-feature KS statistic, `ks_p`: its p-value, in `feature_names` order.
        feature_names: Names of the compared columns.
        mean_shift: Per-feature difference of means in training standard deviations.
        rows_train, rows_val: Rows compared from each split.
    """

    auc: float
    ks: np.ndarray
    ks_p: np.ndarray
    feature_names: tuple[str, ...]
    mean_shift: np.ndarray
    rows_train: int
    rows_val: int

    def top(self, n: int = 5) -> list[dict[str, Any]]:
        """The `n` features with the largest KS statistic."""
        order = np.argsort(-self.ks)[:n]
        return [
            {"feature": self.feature_names[i], "ks": round(float(self.ks[i]), 3),
             "p": float(f"{self.ks_p[i]:.3g}"),
             "mean_shift_sd": round(float(self.mean_shift[i]), 2)}
            for i in order
        ]

    def to_measurements(self) -> dict[str, Any]:
        return {"auc": round(self.auc, 4), "rows_train": self.rows_train,
                "rows_val": self.rows_val, "top_features": self.top(10)}


@probe("data_shift")
def data_shift(evidence: Evidence) -> DataShift:
    """Fit a train-vs-validation classifier and run per-feature KS tests on samples of both."""
    from scipy.stats import ks_2samp
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    setup = evidence.setup
    if setup.token_inputs:
        raise EvidenceSkipped(f"the shift test is not run on text: {TOKEN_IDS}")
    limit = min(evidence.budget.max_audit_rows, MAX_SHIFT_ROWS)
    tr = sample_rows(setup.n_train, limit, evidence.seed + 5)
    va = sample_rows(len(setup.x_val), limit, evidence.seed + 6)
    if len(va) < 10:
        raise EvidenceUnavailable(f"only {len(va)} validation rows; a shift test needs 10 or more")
    x_tr, names = table_view(np.asarray(setup.x_train)[tr], setup.feature_names)
    x_va, _ = table_view(np.asarray(setup.x_val)[va], setup.feature_names)
    x_tr = np.where(np.isfinite(x_tr), x_tr, np.nan)
    x_va = np.where(np.isfinite(x_va), x_va, np.nan)
    x = np.concatenate([x_tr, x_va])
    domain = np.r_[np.zeros(len(x_tr)), np.ones(len(x_va))]
    model = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15, early_stopping=False,
                                           random_state=evidence.seed)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=evidence.seed)
    with threadpool_limits(1):  # OpenMP threads oversubscribe a busy machine (~20x slower)
        # wide tables: the classifier reads the leading components of both samples together,
        # so a direction only validation rows vary along is kept
        seen = reduced(wide_reduction(x, evidence.seed), x)
        scores = cross_val_predict(model, seen, domain, cv=cv, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(domain, scores))
    ks, ks_p, shift = [], [], []
    sd = np.nanstd(x_tr, axis=0)
    for j in range(x.shape[1]):
        a, b = x_tr[:, j], x_va[:, j]
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        if len(a) < 2 or len(b) < 2:
            ks.append(0.0)
            ks_p.append(1.0)
            shift.append(0.0)
            continue
        result = ks_2samp(a, b)
        ks.append(float(result.statistic))
        ks_p.append(float(result.pvalue))
        shift.append(float((b.mean() - a.mean()) / sd[j]) if sd[j] > 0 else 0.0)
    return DataShift(auc, np.array(ks), np.array(ks_p), names, np.array(shift),
                     len(tr), len(va))
