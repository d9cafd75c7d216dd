"""Train/validation shift: can a classifier tell the two apart, and which features moved.

A histogram gradient-boosting classifier (it takes missing values as they are) learns to tell
sampled training rows from sampled validation rows; its cross-validated ROC AUC is 0.5 when the
two come from one distribution. Per-feature two-sample Kolmogorov-Smirnov tests name the
features that moved most. Images are compared through `table_view`'s coarse grid. On tables
wider than `REDUCE_ABOVE` columns the classifier reads the leading principal components of both
samples (`wide_reduction`: missing values imputed with the median first); the KS tests read
every column.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from fitdoctor.evidence.base import Evidence, EvidenceSkipped, EvidenceUnavailable, probe
from fitdoctor.evidence.data_stats import (
    REDUCE_ABOVE,
    TOKEN_IDS,
    reduced,
    sample_rows,
    table_rows,
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
    x_tr, names = table_rows(setup.x_train, tr, setup.feature_names)
    x_va, _ = table_rows(setup.x_val, va, setup.feature_names)
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
    ks, ks_p, shift = _column_tests(x_tr, x_va)
    return DataShift(auc, ks, ks_p, names, shift, len(tr), len(va))


def _column_tests(x_tr: np.ndarray, x_va: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: the two-sample KS statistic, its p-value and the difference of means in
    training standard deviations, over the finite values (0, 1 and 0 where either sample has
    fewer than two). Exact p-values cost about 5 ms a column, so wide tables get the
    asymptotic ones."""
    import warnings

    from scipy.stats import ks_2samp

    n_tr, n_va = np.sum(~np.isnan(x_tr), axis=0), np.sum(~np.isnan(x_va), axis=0)
    usable = (n_tr >= 2) & (n_va >= 2)
    ks, ks_p, shift = (np.zeros(x_tr.shape[1]), np.ones(x_tr.shape[1]),
                       np.zeros(x_tr.shape[1]))
    if not usable.any():
        return ks, ks_p, shift
    method = "asymp" if x_tr.shape[1] > REDUCE_ABOVE else "auto"
    a, b = x_tr[:, usable], x_va[:, usable]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = ks_2samp(a, b, axis=0, method=method, nan_policy="omit")
        sd = np.nanstd(a, axis=0)
        moved = (np.nanmean(b, axis=0) - np.nanmean(a, axis=0)) / np.where(sd > 0, sd, 1.0)
    ks[usable] = result.statistic
    ks_p[usable] = result.pvalue
    shift[usable] = np.where(sd > 0, moved, 0.0)
    return ks, ks_p, shift
