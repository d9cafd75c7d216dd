"""`train_val_shift`: training and validation rows drawn from different distributions."""

from __future__ import annotations

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding


@register
class TrainValShift(Check):
    id = "train_val_shift"
    description = (
        "Trains a classifier to tell sampled training rows from sampled validation rows "
        "(cross-validated gradient boosting) and runs a Kolmogorov-Smirnov test per feature. "
        "A domain-classifier ROC AUC of at least `max_auc` is a warning, critical from "
        "`critical_auc`: the validation set measures a different problem than the one trained "
        "on, so validation loss can stay high however well the model fits. The finding names "
        "the features with the largest KS statistic. Not run on text given as token ids into an "
        "Embedding layer."
    )
    category = "data"
    requires = ("data_shift",)
    rank = 25

    def __init__(self, *, max_auc: float = 0.7, critical_auc: float = 0.9) -> None:
        """Args:
        max_auc: Domain-classifier AUC that is a warning. Defaults to 0.7.
        critical_auc: AUC that is critical. Defaults to 0.9.
        """
        if not 0.5 < max_auc <= critical_auc <= 1:
            raise ValueError(
                "need 0.5 < max_auc <= critical_auc <= 1. Received: "
                f"max_auc={max_auc}, critical_auc={critical_auc}"
            )
        self.max_auc, self.critical_auc = max_auc, critical_auc

    def run(self, evidence: Evidence) -> list[Finding]:
        shift = evidence.get("data_shift")
        if shift.auc < self.max_auc:
            return []
        top = shift.top(5)
        severity = "critical" if shift.auc >= self.critical_auc else "warning"
        return [self.finding(
            severity,
            f"validation data differs from training data (train-vs-val classifier AUC "
            f"{shift.auc:.2f}); moved most: {', '.join(t['feature'] for t in top[:3])}",
            {"domain_auc": round(shift.auc, 4), "moved_most": top,
             "rows_compared": {"train": shift.rows_train, "val": shift.rows_val}},
            "Draw training and validation data from the same source and period (shuffle before "
            "splitting), or, if production looks like the validation data, train on data like it.",
            """
            from sklearn.model_selection import train_test_split

            x = np.concatenate([x_train, x_val]); y = np.concatenate([y_train, y_val])
            x_train, x_val, y_train, y_val = train_test_split(
                x, y, test_size=0.2, shuffle=True, stratify=y, random_state=0)
            """,
        )]
