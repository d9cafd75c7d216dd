"""`missing_values`: NaN or infinite values the model would see."""

from __future__ import annotations

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding


@register
class MissingValues(Check):
    id = "missing_values"
    description = (
        "Counts NaN, None and infinite values per feature column in the training and validation "
        "features, and in the labels, over all rows. Keras has no missing-value handling: one NaN "
        "in a batch makes that batch's loss NaN and, through the gradient, every weight NaN, so "
        "any missing value the model would see is critical and explains a `nan_loss`. The finding "
        "names the columns with the most missing values (at most `max_columns_shown`)."
    )
    category = "data"
    rank = 5
    explains = ("nan_loss", "exploding_gradients", "underfitting")

    def __init__(self, *, max_columns_shown: int = 10) -> None:
        """Args:
        max_columns_shown: Columns listed in the finding, most missing first. Defaults to 10.
        """
        if max_columns_shown < 1:
            raise ValueError(f"max_columns_shown must be >= 1. Received: {max_columns_shown}")
        self.max_columns_shown = max_columns_shown

    def run(self, evidence: Evidence) -> list[Finding]:
        stats = evidence.get("data_stats")
        train, val = stats.missing_train, stats.missing_val
        total = int(train.sum() + val.sum())
        if total == 0 and stats.label_missing == 0:
            return []
        both = train + val
        order = [int(i) for i in np.argsort(-both) if both[i] > 0][: self.max_columns_shown]
        columns = {
            stats.feature_names[i]: {"train": int(train[i]), "val": int(val[i])} for i in order
        }
        where = ", ".join(stats.feature_names[i] for i in order[:3]) or "the labels"
        facts = {
            "missing_in_train_features": int(train.sum()),
            "missing_in_val_features": int(val.sum()),
            "missing_labels": stats.label_missing,
            "columns_with_missing": int((both > 0).sum()),
            "by_column": columns,
        }
        if stats.image:
            facts["by_column"] = {"pixels": {"train": int(train.sum()), "val": int(val.sum())}}
            where = "pixel values"
        return [self.finding(
            "critical",
            f"{total + stats.label_missing} NaN/Inf values reach the model ({where}); "
            "one NaN in a batch turns the loss into NaN",
            facts,
            "Fill or drop missing values before training (keep the imputer's statistics from the "
            "training split only), and drop rows whose label is missing.",
            """
            from sklearn.impute import SimpleImputer
            import numpy as np

            imputer = SimpleImputer(strategy="median").fit(x_train)
            x_train, x_val = imputer.transform(x_train), imputer.transform(x_val)
            keep = np.isfinite(y_train)
            x_train, y_train = x_train[keep], y_train[keep]
            """,
        )]
