"""Drop feature columns that carry no information about the label (treats `irrelevant_features`)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import NotEditable, is_editable
from fitdoctor.fix.remedies._helpers import evidence_indices
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup

COLUMN_KEYS = ("columns", "column_indices", "features", "feature_indices", "indices")


def irrelevant_columns(setup: Setup, finding: Finding,
                       min_information: float = 0.005) -> np.ndarray:
    """Columns the finding names, or else those with mutual information below the floor."""
    n_cols = setup.x_train.shape[1]
    columns = evidence_indices(finding, COLUMN_KEYS, n_cols)
    if columns is not None:
        return columns
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    x = np.nan_to_num(np.asarray(setup.x_train, dtype="float64"))
    y = np.asarray(setup.y_train)
    if setup.task.kind == "regression":
        info = mutual_info_regression(x, y.reshape(len(y), -1)[:, 0], random_state=0)
    else:
        labels = y.argmax(axis=-1) if y.ndim == 2 else y.reshape(len(y))
        info = mutual_info_classif(x, labels, random_state=0)
    return np.flatnonzero(info < min_information)


@register
class DropIrrelevantFeatures(Remedy):
    id = "drop_irrelevant_features"
    treats = ("irrelevant_features",)
    description = "Remove the feature columns that carry no information about the label."
    edits_model = True
    stage = 0

    def applies(self, setup: Setup, finding: Finding) -> bool:
        if setup.x_train.ndim != 2:
            return False
        return 0 < len(irrelevant_columns(setup, finding)) < setup.x_train.shape[1]

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        keep = np.setdiff1d(np.arange(setup.x_train.shape[1]), irrelevant_columns(setup, finding))
        previous = setup.build_model

        def build() -> Any:
            model = previous()
            if not is_editable(model):
                raise NotEditable(f"{type(model).__name__} is subclassed; cannot change its input")
            compile_config = model.get_compile_config()
            inputs = keras.Input(shape=(len(keep),))
            narrowed = keras.models.clone_model(model, input_tensors=inputs)
            narrowed.compile_from_config(compile_config)
            return narrowed

        return setup.replace(build_model=build, x_train=setup.x_train[:, keep].copy(),
                             x_val=setup.x_val[:, keep].copy())

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        dropped = irrelevant_columns(setup, finding).tolist()
        return snippet(f"""
            import numpy as np

            drop = {dropped}  # columns with no information about the label
            x_train, x_val = np.delete(x_train, drop, axis=1), np.delete(x_val, drop, axis=1)
            # and build the model with keras.Input(shape=(x_train.shape[1],))
        """)
