"""`label_noise`: training rows whose label is likely wrong (confident learning)."""

from __future__ import annotations

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding


@register
class LabelNoise(Check):
    id = "label_noise"
    description = (
        "Finds likely mislabeled training rows with confident learning (cleanlab's "
        "`find_label_issues`, per-class thresholds) from out-of-fold probabilities of a "
        "cross-validated logistic regression or nearest-neighbour model (the more accurate) on "
        "a training sample. The screening model's quality is measured first. Its out-of-fold "
        "balanced accuracy must remove at least `min_balanced_lift` of the error of guessing "
        "(1 / classes). And the rows it gets wrong that confident learning does not attribute "
        "to a wrong label are its own errors (hard rows, a weak model): labels are judged only "
        "when the flagged share is at least `min_explained_ratio` times that share of "
        "unexplained errors (on the clean twins of bench/label_noise.py it is at most 1.0), "
        "the median class holds at least `min_rows_per_class` rows of the sample (per-class "
        "thresholds are means over a class), the screening model errs out of fold on training "
        "rows more often than on validation rows by `noise_se` standard errors (labels that "
        "are hard to predict, not wrong, are as hard in validation), and at least "
        "`min_flagged` rows are flagged; and not when at least `max_one_class_share` of the "
        "flagged rows carry the label of one class that is at most half as common as the most "
        "common one (that is imbalance, not noise). Then a flagged share of at least "
        "`max_issue_fraction` is a warning (critical from `critical_fraction`): wrong labels "
        "cap the accuracy any model can reach and teach it contradictions. A flagged share the "
        "screening model cannot back is info, with the reason. The finding lists the most "
        "suspicious row indices with their given and likely labels. Not run on text given as "
        "token ids into an Embedding layer (the screening models read numbers)."
    )
    category = "data"
    rank = 20
    tasks = ("binary", "multiclass")
    requires = ("oof_probs",)

    def __init__(self, *, max_issue_fraction: float = 0.05, critical_fraction: float = 0.2,
                 min_balanced_lift: float = 0.25, min_explained_ratio: float = 1.5,
                 min_flagged: int = 10, min_rows_per_class: int = 20,
                 max_one_class_share: float = 0.8, noise_se: float = 2.0) -> None:
        """Args:
        max_issue_fraction: Share of flagged rows that is a warning. Defaults to 0.05.
        critical_fraction: Share of flagged rows that is critical. Defaults to 0.2.
        min_balanced_lift: Share of the error of guessing (balanced accuracy 1 / classes) the
            screening model's out-of-fold balanced accuracy must remove. Defaults to 0.25.
        min_explained_ratio: How many times the screening model's unexplained error rate
            (wrong, not flagged) the flagged share must be for labels to be judged.
            Defaults to 1.5.
        min_flagged: Fewest flagged rows for a warning. Defaults to 10.
        min_rows_per_class: Rows the median class needs in the sample for labels to be
            judged. Defaults to 20.
        max_one_class_share: Share of the flagged rows in one rarer class above which they
            are read as imbalance, not noise. Defaults to 0.8.
        noise_se: Standard errors by which the screening model's out-of-fold error on
            training rows must exceed its error on validation rows. Defaults to 2.0.
        """
        if not 0 < max_issue_fraction <= critical_fraction <= 1:
            raise ValueError(
                "need 0 < max_issue_fraction <= critical_fraction <= 1. Received: "
                f"max_issue_fraction={max_issue_fraction}, critical_fraction={critical_fraction}"
            )
        if not 0 <= min_balanced_lift < 1:
            raise ValueError("min_balanced_lift must be in [0, 1). Received: "
                             f"min_balanced_lift={min_balanced_lift}")
        if min_explained_ratio <= 0:
            raise ValueError("min_explained_ratio must be positive. Received: "
                             f"min_explained_ratio={min_explained_ratio}")
        if min_flagged < 1:
            raise ValueError(f"min_flagged must be >= 1. Received: min_flagged={min_flagged}")
        if min_rows_per_class < 1:
            raise ValueError("min_rows_per_class must be >= 1. Received: "
                             f"min_rows_per_class={min_rows_per_class}")
        if not 0 < max_one_class_share <= 1:
            raise ValueError("max_one_class_share must be in (0, 1]. Received: "
                             f"max_one_class_share={max_one_class_share}")
        self.max_issue_fraction = max_issue_fraction
        self.critical_fraction = critical_fraction
        self.min_balanced_lift = min_balanced_lift
        self.min_explained_ratio, self.min_flagged = min_explained_ratio, min_flagged
        self.max_one_class_share = max_one_class_share
        self.min_rows_per_class = min_rows_per_class
        self.noise_se = noise_se

    def _noisier_than_validation(self, oof) -> bool:
        """Whether the screening model errs more out of fold on training rows than on
        validation rows, by more than `noise_se` standard errors of the difference.

        Wrong training labels raise the first error only; labels that are simply hard to
        predict (the passengers of Titanic who share every feature and not their fate) raise
        both alike. Without validation rows this cannot be told, and it is not held against
        the labels.
        """
        if oof.val_rows == 0 or not np.isfinite(oof.val_accuracy):
            return True
        train_err, val_err = 1 - oof.accuracy, 1 - oof.val_accuracy
        se = np.sqrt(train_err * (1 - train_err) / len(oof.rows)
                     + val_err * (1 - val_err) / oof.val_rows)
        return train_err - val_err > self.noise_se * se

    def run(self, evidence: Evidence) -> list[Finding]:
        from cleanlab.filter import find_label_issues

        oof = evidence.get("oof_probs")
        ranked = find_label_issues(oof.labels, oof.probs,
                                   return_indices_ranked_by="self_confidence")
        fraction = len(ranked) / len(oof.rows)
        if fraction < self.max_issue_fraction:
            return []
        flagged = np.zeros(len(oof.rows), dtype=bool)
        flagged[ranked] = True
        wrong = oof.probs.argmax(axis=1) != oof.labels
        unexplained = float((wrong & ~flagged).mean())
        counts = np.bincount(oof.labels, minlength=len(oof.classes))
        by_class = np.bincount(oof.labels[ranked], minlength=len(oof.classes))
        top_class = int(by_class.argmax())
        chance = 1 / len(oof.classes)
        balanced = float(np.mean(list(oof.recall_by_class().values())))
        lift = (balanced - chance) / (1 - chance)
        reason = ""
        if np.median(counts) < self.min_rows_per_class:
            reason = (f"too few rows to judge labels: the median class has "
                      f"{int(np.median(counts))} rows in the sample")
        elif lift < self.min_balanced_lift:
            reason = (f"the screening model is too weak to judge labels: its balanced accuracy "
                      f"{balanced:.2f} removes {lift:.0%} of the error of guessing ({chance:.2f})")
        elif fraction < self.min_explained_ratio * unexplained:
            reason = (f"the screening model is too weak to tell wrong labels from hard rows: "
                      f"it is wrong on {unexplained:.1%} of the rows that do not look "
                      f"mislabeled, against {fraction:.1%} flagged")
        elif not self._noisier_than_validation(oof):
            reason = (f"validation labels disagree with the screening model about as often as "
                      f"training labels ({1 - oof.val_accuracy:.1%} of {oof.val_rows} validation "
                      f"rows against {1 - oof.accuracy:.1%} out of fold): these labels are hard "
                      "to predict from the features (or noisy in both splits), not wrong in "
                      "training")
        elif len(ranked) < self.min_flagged:
            reason = f"only {len(ranked)} rows flagged"
        elif (by_class[top_class] >= self.max_one_class_share * len(ranked)
              and 2 * counts[top_class] <= counts.max()):
            reason = (f"{by_class[top_class] / len(ranked):.0%} of the flagged rows are labeled "
                      f"{int(oof.classes[top_class])}, a rare class: that is class imbalance, "
                      "not noise")
        top = ranked[:20]
        rows = [int(oof.rows[i]) for i in top]
        likely = oof.classes[oof.probs[top].argmax(axis=1)]
        given = oof.classes[oof.labels[top]]
        examples = [{"row": r, "given": int(g), "likely": int(p)}
                    for r, g, p in zip(rows, given, likely, strict=True)][:10]
        severity = ("info" if reason
                    else "critical" if fraction >= self.critical_fraction else "warning")
        facts = {"flagged_rows": len(ranked), "rows_checked": len(oof.rows),
                 "flagged_fraction": round(fraction, 4), "row_indices": rows,
                 "examples": examples, "screening_model": oof.model,
                 "screening_accuracy": round(oof.accuracy, 4),
                 "majority_class_accuracy": round(oof.majority, 4),
                 "screening_balanced_accuracy": round(balanced, 4),
                 "unexplained_error_rate": round(unexplained, 4),
                 "screening_val_accuracy": round(oof.val_accuracy, 4),
                 "screening_val_rows": oof.val_rows,
                 "flagged_by_class": {str(int(c)): int(n)
                                      for c, n in zip(oof.classes, by_class, strict=True)}}
        if reason:
            facts["why_not_a_warning"] = reason
        if len(oof.rows) < oof.n_train:
            facts["sampled_from"] = oof.n_train
        return [self.finding(
            severity,
            (f"{len(ranked)} of {len(oof.rows)} training labels ({fraction:.0%}) disagree "
             "with a screening model, which cannot judge them" if reason else
             f"{len(ranked)} of {len(oof.rows)} training labels ({fraction:.0%}) look wrong "
             f"(first rows: {', '.join(map(str, rows[:5]))})"),
            facts,
            "Review the flagged rows and fix or drop those that are mislabeled; cleanlab's "
            "find_label_issues with your own model's out-of-fold probabilities refines the list.",
            """
            import numpy as np
            from cleanlab.filter import find_label_issues

            # pred_probs: out-of-fold probabilities (e.g. from cross_val_predict)
            issues = find_label_issues(y_train, pred_probs,
                                       return_indices_ranked_by="self_confidence")
            keep = np.setdiff1d(np.arange(len(y_train)), issues)
            x_train, y_train = x_train[keep], y_train[keep]
            """,
        )]

