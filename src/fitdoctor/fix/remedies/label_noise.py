"""Drop or relabel training rows whose labels look wrong (treats `label_noise`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies._helpers import evidence_indices, integer_labels, keep_rows
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup

ROW_KEYS = ("rows", "row_indices", "indices", "suspect_rows", "issue_rows")


#: Relabel a suspect row only when the out-of-fold classifier is at least this sure.
RELABEL_CONFIDENCE = 0.8


def _suspects(setup: Setup, finding: Finding) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Suspect rows, and the label an out-of-fold classifier predicts and its confidence.

    Rows come from the finding's evidence when it names them, else from cleanlab's
    `find_label_issues` on out-of-fold logistic-regression probabilities.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.nan_to_num(np.asarray(setup.x_train, dtype="float64").reshape(setup.n_train, -1))
    y = integer_labels(setup)
    folds = int(min(5, np.bincount(y).min())) if len(np.unique(y)) > 1 else 0
    if folds < 2:
        return np.array([], dtype=int), y, np.zeros(len(y))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    proba = cross_val_predict(model, x, y, cv=folds, method="predict_proba")
    classes = np.unique(y)
    predicted = classes[proba.argmax(axis=1)]
    rows = evidence_indices(finding, ROW_KEYS, setup.n_train)
    if rows is None:
        from cleanlab.filter import find_label_issues

        remap = np.searchsorted(classes, y)
        rows = np.flatnonzero(find_label_issues(remap, proba))
    return rows, predicted, proba.max(axis=1)


@register
class FixMislabeled(Remedy):
    id = "fix_mislabeled"
    treats = ("label_noise",)
    judged_early = False  # its effect shows late in a run
    description = ("Drop the training rows flagged as mislabeled, or relabel those where an "
                   "out-of-fold classifier is at least 80 % sure of another class (both tried).")
    grid = ("drop", "relabel")
    ordered_grid = False
    stage = 0
    changes_rows = True

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return setup.task.kind in ("binary", "multiclass")

    def apply(self, setup: Setup, finding: Finding, strength: Any = "drop") -> Setup:
        rows, predicted, confidence = _suspects(setup, finding)
        if strength == "relabel":
            rows = rows[confidence[rows] >= RELABEL_CONFIDENCE]
            y = integer_labels(setup).copy()
            y[rows] = predicted[rows]
            if setup.task.label_encoding == "onehot":
                y = np.eye(setup.y_train.shape[-1], dtype=setup.y_train.dtype)[y]
            else:
                y = y.reshape(setup.y_train.shape).astype(setup.y_train.dtype)
            return setup.replace(y_train=y)
        keep = np.ones(setup.n_train, dtype=bool)
        keep[rows] = False
        return keep_rows(setup, keep)

    def code(self, setup: Setup, finding: Finding, strength: Any = "drop") -> str:
        fix_line = ("sure = issues & (pred_probs.max(axis=1) >= 0.8)\n"
                    "y_train[sure] = pred_probs[sure].argmax(axis=1)  # relabel"
                    if strength == "relabel" else
                    "x_train, y_train = x_train[~issues], y_train[~issues]  # drop")
        return snippet("""
            from cleanlab.filter import find_label_issues
            from sklearn.linear_model import LogisticRegression
            from sklearn.model_selection import cross_val_predict

            pred_probs = cross_val_predict(LogisticRegression(max_iter=500), x_train, y_train,
                                           cv=5, method="predict_proba")
            issues = find_label_issues(y_train, pred_probs)
        """) + "\n" + fix_line
