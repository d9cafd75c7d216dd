"""fitdoctor's own validation split: rows with identical features never land on both sides.

When the user gives no validation data, fitdoctor holds out a share of the training rows. A
plain random split of data that holds repeated rows puts copies of one row in training and in
validation, which is exactly the leakage `train_val_leakage` reports. Here rows with identical
features form one group (by the same row fingerprint the data audit uses), and whole groups go
to one side. Classification labels are stratified over groups (each group counts under its most
common label); without duplicates this is the ordinary stratified random split.
"""

from __future__ import annotations

import numpy as np

#: Stratify only when labels look like classes: at most this many distinct values.
_MAX_STRATA = 100


def duplicate_groups(x: np.ndarray) -> np.ndarray:
    """One group id per row; rows with identical features (NaN matching NaN) share an id.

    Ids are numbered by first occurrence, so without duplicates row i is group i.
    """
    from fitdoctor.evidence.data_stats import row_fingerprints

    _, first, inverse = np.unique(row_fingerprints(x), axis=0, return_index=True,
                                  return_inverse=True)
    renumber = np.empty(len(first), dtype=np.int64)
    renumber[np.argsort(first)] = np.arange(len(first))
    return renumber[inverse.reshape(-1)]


def split_by_duplicates(x: np.ndarray, y: np.ndarray, fraction: float, seed: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation row indices, `fraction` of the groups held out, seeded.

    Args:
        x: Features, one sample per leading index.
        y: Labels; class labels (one column, at most 100 values) are stratified.
        fraction: Share of duplicate groups (rows, when no rows repeat) held out, in (0, 1).
        seed: Seed of the split.

    Returns:
        Sorted training and validation row indices; no group appears in both.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1). Received: fraction={fraction}")
    groups = duplicate_groups(x)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    stratify = _group_labels(y, groups, n_groups)
    n_val = int(np.ceil(fraction * n_groups))  # rounded up, as train_test_split does
    if stratify is not None and min(n_val, n_groups - n_val) < len(np.unique(stratify)):
        stratify = None  # fewer held-out rows than classes: a stratified split is impossible
    _, val_groups = train_test_split(
        np.arange(n_groups), test_size=fraction, random_state=seed, stratify=stratify
    )
    in_val = np.zeros(n_groups, dtype=bool)
    in_val[val_groups] = True
    rows_in_val = in_val[groups]
    return np.flatnonzero(~rows_in_val), np.flatnonzero(rows_in_val)


def _group_labels(y: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray | None:
    """Each group's most common class label, or None when labels should not be stratified."""
    y = np.asarray(y)
    if not (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
        return None
    values, codes = np.unique(y.reshape(-1), return_inverse=True)
    if len(values) > _MAX_STRATA:
        return None
    votes = np.zeros((n_groups, len(values)), dtype=np.int64)
    np.add.at(votes, (groups, codes.reshape(-1)), 1)
    labels = votes.argmax(axis=1)
    if np.unique(labels, return_counts=True)[1].min() < 2:
        return None
    return labels
