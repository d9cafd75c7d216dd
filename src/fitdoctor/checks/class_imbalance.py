"""`class_imbalance`: some classes far rarer than others."""

from __future__ import annotations

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence, EvidenceUnavailable
from fitdoctor.findings import Finding


@register
class ClassImbalance(Check):
    id = "class_imbalance"
    description = (
        "Counts training rows per class. The imbalance ratio is the largest class count over the "
        "smallest. A ratio of at least `max_ratio` is a warning; so is a ratio of at least "
        "`min_ratio` when the rarest class's out-of-fold recall (a cross-validated logistic "
        "regression on a training sample, when it can be computed) is below `min_recall`. The "
        "model then learns to predict the common classes and accuracy hides the rare ones."
    )
    category = "data"
    rank = 30
    tasks = ("binary", "multiclass")

    def __init__(self, *, max_ratio: float = 10.0, min_ratio: float = 3.0,
                 min_recall: float = 0.5) -> None:
        """Args:
        max_ratio: Imbalance ratio that is a warning on its own. Defaults to 10.
        min_ratio: Imbalance ratio that is a warning when the rare class's recall is low.
            Defaults to 3.
        min_recall: Out-of-fold recall of the rarest class below which it counts as low.
            Defaults to 0.5.
        """
        if not 1 <= min_ratio <= max_ratio:
            raise ValueError(
                f"need 1 <= min_ratio <= max_ratio. Received: min_ratio={min_ratio}, "
                f"max_ratio={max_ratio}"
            )
        if not 0 <= min_recall <= 1:
            raise ValueError(f"min_recall must be in [0, 1]. Received: {min_recall}")
        self.max_ratio, self.min_ratio, self.min_recall = max_ratio, min_ratio, min_recall

    def run(self, evidence: Evidence) -> list[Finding]:
        counts = evidence.get("data_stats").class_counts_train
        n_classes = evidence.setup.task.n_classes
        present = {c: n for c, n in counts.items()}
        if len(present) < 2:
            return []
        rare = min(present, key=present.get)
        common = max(present, key=present.get)
        ratio = present[common] / present[rare]
        if ratio < self.min_ratio:
            return []
        recall = None
        try:
            recall = evidence.get("oof_probs").recall_by_class()
        except EvidenceUnavailable:
            pass
        rare_recall = recall.get(rare) if recall else None
        low_recall = rare_recall is not None and rare_recall < self.min_recall
        if ratio < self.max_ratio and not low_recall:
            return []
        facts = {"class_counts": {str(k): v for k, v in sorted(present.items())},
                 "imbalance_ratio": round(ratio, 2), "rarest_class": rare,
                 "most_common_class": common}
        if len(present) < n_classes:
            facts["classes_without_rows"] = n_classes - len(present)
        if recall:
            facts["oof_recall_by_class"] = {str(k): round(v, 3) for k, v in sorted(recall.items())}
        return [self.finding(
            "warning",
            f"classes are imbalanced {ratio:.1f}:1 (class {rare} has {present[rare]} rows, "
            f"class {common} has {present[common]})"
            + (f"; recall on class {rare} is {rare_recall:.2f}" if rare_recall is not None else ""),
            facts,
            "Weight the loss by inverse class frequency (or resample the training set), and "
            "track per-class recall or macro F1 instead of accuracy.",
            """
            import numpy as np

            classes, counts = np.unique(y_train, return_counts=True)
            class_weight = {int(c): len(y_train) / (len(classes) * n)
                            for c, n in zip(classes, counts)}
            model.fit(x_train, y_train, class_weight=class_weight, ...)
            """,
        )]
