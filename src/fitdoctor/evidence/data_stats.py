"""Data statistics: what the training and validation arrays look like, measured once, no training.

Per-feature ranges, means and spreads come from a seeded sample of at most the budget's
`max_audit_rows` rows (fewer for images, so the sample stays under ~20 million values). Counts
that must be exact and are cheap stay on the full data, read in chunks: missing values, class
counts and exact duplicate rows (found by two random projections of each row, so no row is
copied). Images (inputs with more than one axis per sample) are summarised per pixel for ranges
and, for tests that compare rows, by a coarse grid of mean intensities (`table_view`). Tables
wider than `REDUCE_ABOVE` columns (flattened pictures, wide tables) are compared through their
`COMPONENTS` leading principal components (`wide_reduction`): fitting a screening model or a
neighbour search on 784 single pixels costs many times what the user's fit does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import weakref
from typing import Any

import numpy as np

from fitdoctor.evidence.base import Evidence, probe
from fitdoctor.evidence.impute import column_percentiles, per_block
from fitdoctor.keras_vocab import is_image
from fitdoctor.setup import Setup

#: Values a sample of an image data set may hold (rows x pixels) before it is cut further.
_MAX_SAMPLE_VALUES = 20_000_000
#: Rows per chunk for the full-data passes.
_CHUNK = 65_536
#: Grid cells per side in the image summary used to compare rows.
_GRID = 8
#: Tables wider than this many columns are compared through `COMPONENTS` principal components.
REDUCE_ABOVE = 200
COMPONENTS = 100
#: Why probes that read features as numbers skip text given as token ids (`Setup.token_inputs`).
TOKEN_IDS = "token ids are word indices, not measurements"
#: Numbers data sets write for "missing": all nines, two to nine digits, either sign (-999, 9999).
MISSING_CODES = tuple(sorted(sign * (10**k - 1) for k in range(2, 10) for sign in (1, -1)))


def sample_rows(n: int, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded sample of at most `limit` of `n` rows (all when n <= limit)."""
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=limit, replace=False))


def audit_limit(setup: Setup, max_rows: int) -> int:
    """Rows a data check may read: the budget's limit, cut so a sample stays under ~20M values."""
    per_row = int(np.prod(setup.x_train.shape[1:])) or 1
    return int(max(500, min(max_rows, _MAX_SAMPLE_VALUES // per_row)))


def class_ids(y: np.ndarray) -> np.ndarray | None:
    """Integer class ids from integer or one-hot labels; None for multi-label or regression."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    return flat


def table_view(x: np.ndarray, names: tuple[str, ...] | None = None
               ) -> tuple[np.ndarray, tuple[str, ...]]:
    """A 2-D float32 table of `x` for tests that compare rows, and its column names.

    Tabular data is returned as is (as float32); images become the mean intensity of each cell
    of an 8 x 8 grid per channel, plus each channel's standard deviation, so that shift,
    outlier and duplicate tests see the picture's layout, not thousands of single pixels.
    Images are summarised a block of them at a time (`per_block`), each on its own: a float32
    copy of 2,000 photos at once cost 0.9 s of fresh memory in the out-of-fold probe alone.
    """
    x = np.asarray(x)
    if not is_image(x):
        x2 = x.reshape(len(x), -1).astype("float32", copy=False)
        if names is None or len(names) != x2.shape[1]:
            names = tuple(f"x[{i}]" for i in range(x2.shape[1]))
        return x2, tuple(names)
    img = x if x.ndim == 4 else x[..., None]
    rows = per_block(int(np.prod(img.shape[1:])))
    tables = [_grid_summary(img[start:start + rows]) for start in range(0, len(img), rows)]
    if len(tables) < 2:
        return tables[0] if tables else _grid_summary(img)
    return np.concatenate([table for table, _ in tables]), tables[0][1]


def _grid_summary(img: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """`table_view` of a few images (n x h x w x c): each row is summarised on its own."""
    n, h, w, c = img.shape
    gh, gw = min(_GRID, h), min(_GRID, w)
    hs = np.linspace(0, h, gh + 1).astype(int)
    ws = np.linspace(0, w, gw + 1).astype(int)
    cols, labels = [], []
    for i in range(gh):
        for j in range(gw):
            cell = img[:, hs[i]:hs[i + 1], ws[j]:ws[j + 1], :].astype("float32")
            cols.append(cell.mean(axis=(1, 2)))
            labels.extend(f"grid[{i},{j},c{k}]" for k in range(c))
    cols.append(img.reshape(n, -1, c).astype("float32").std(axis=1))
    labels.extend(f"std[c{k}]" for k in range(c))
    return np.concatenate(cols, axis=1), tuple(labels)


def table_rows(x: np.ndarray, rows: np.ndarray, names: tuple[str, ...] | None = None
               ) -> tuple[np.ndarray, tuple[str, ...]]:
    """`table_view(x[rows], names)`, the same numbers, for probes that sample their own rows.

    An image array of at most twice the values one sample may hold is summarised once, whole,
    and each probe's rows are read from that (the summary is made row by row, so a row's
    values do not depend on which rows are summarised with it). On the 1,999 cats/dogs photos,
    three probes summarised 1,627 of them for their training samples, about 0.3 s each.
    """
    x = np.asarray(x)
    if not is_image(x) or x.size > 2 * _MAX_SAMPLE_VALUES:
        return table_view(x[rows], names)
    known = _TABLES.get(id(x))
    if known is None or known[0]() is not x:  # (an id is reused once its array is gone)
        known = (weakref.ref(x), *table_view(x))
        _TABLES.put(id(x), known)
    return known[1][rows], known[2]


class _Memo:
    """The last few values computed, by key (the oldest goes first); safe from any thread."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            return self._values.get(key)

    def __len__(self) -> int:
        return len(self._values)

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                del self._values[next(iter(self._values))]


#: Whole image arrays summarised already (`table_rows`), by the array's identity: a weak
#: reference to it, its table and the table's column names.
_TABLES = _Memo(4)


def wide_reduction(x_fit: np.ndarray, seed: int, *, standardise: bool = True):
    """A reduction of a table wider than `REDUCE_ABOVE` columns, fitted on `x_fit`; else None.

    A scikit-learn pipeline (median imputation, standardisation unless `standardise` is False,
    randomized PCA to `COMPONENTS` components) whose `transform` maps any table with the same
    columns; `reduction_code` writes it as code for notes. The caller limits BLAS threads.
    """
    if x_fit.ndim != 2 or x_fit.shape[1] <= REDUCE_ABOVE or len(x_fit) < 3:
        return None  # narrow enough, or too few rows to fit components on
    key = (seed, standardise, x_fit.shape, x_fit.dtype.str,
           hashlib.blake2b(np.ascontiguousarray(x_fit).data, digest_size=16).digest())
    reduction = _REDUCTIONS.get(key)
    if reduction is None:
        reduction = _fit_reduction(x_fit, seed, standardise)
        _REDUCTIONS.put(key, reduction)
    return reduction


#: Reductions fitted already, by seed, standardisation and the exact bytes of the table they
#: were fitted on: the out-of-fold probabilities, the row effects and the baselines read the
#: same training sample, and on 8,000 MNIST digits each fit took 0.35 s. A fitted pipeline's
#: `transform` only reads it, so one may serve them all, from any thread.
_REDUCTIONS = _Memo(4)


def _fit_reduction(x_fit: np.ndarray, seed: int, standardise: bool):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from fitdoctor.evidence.impute import MedianImputer

    steps = [MedianImputer()]
    if standardise:
        steps.append(StandardScaler())
    components = min(COMPONENTS, len(x_fit) - 1)
    steps.append(PCA(components, svd_solver="randomized", random_state=seed))
    return make_pipeline(*steps).fit(np.where(np.isfinite(x_fit), x_fit, np.nan))


def reduction_code(reduction) -> str:
    """`"PCA(n_components=100, random_state=0)"` for a `wide_reduction`; "" for None."""
    if reduction is None:
        return ""
    pca = reduction[-1]
    return f"PCA(n_components={pca.n_components}, random_state={pca.random_state})"


def reduced(reduction, x: np.ndarray) -> np.ndarray:
    """`x` through `reduction` as float32 (`x` itself when there is none)."""
    if reduction is None:
        return x
    return reduction.transform(np.where(np.isfinite(x), x, np.nan)).astype("float32")


def row_fingerprints(x: np.ndarray, seed: int = 12345) -> np.ndarray:
    """Two random projections per row (n x 2, float64): equal rows have equal fingerprints.

    NaN becomes a fixed sentinel so rows that are missing in the same places still match.
    Rows are read a block at a time (`per_block`): a float64 copy of 65,536 photos'
    rows at once cost more in fresh memory than the projection itself (1.4 s against 0.04 s
    on 1,999 photos of 64x64x3 values).
    """
    n = len(x)
    d = int(np.prod(x.shape[1:])) or 1
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(d, 2))
    missing_weights = rng.normal(size=(d, 2))
    out = np.empty((n, 2))
    rows = per_block(d, most=_CHUNK)
    for start in range(0, n, rows):
        chunk = np.asarray(x[start:start + rows], dtype="float64").reshape(-1, d)
        finite = np.isfinite(chunk)
        if finite.all():
            out[start:start + rows] = chunk @ weights
        else:
            out[start:start + rows] = (np.where(finite, chunk, 0.0) @ weights
                                       + (~finite) @ missing_weights)
    return np.round(out, 6)


@dataclasses.dataclass(frozen=True)
class Ranges:
    """Per-feature statistics of a sample (rows x features), over finite values only.

    Args:
        minimum, maximum, mean, std, p01, p99: One value per feature (0 for a feature with no
            finite value).
    """

    minimum: np.ndarray
    maximum: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    p01: np.ndarray
    p99: np.ndarray


def ranges_of(sample: np.ndarray, rows: np.ndarray | None = None) -> Ranges:
    """Measure `Ranges` of a 2-D sample (of its `rows` only, when given), ignoring NaN and
    infinite values.

    The sample is read a block of columns at a time (`per_block`), in
    float64: the same numbers as the whole at once (each column's statistics are its own), in
    a few megabytes instead of several copies of the whole; on the 20 million values of a photo
    sample each copy is 160 MB, and fresh memory costs time of its own. A block with only
    finite values (the usual case) is read without the NaN-aware reductions, which copy it
    first.
    """
    sample = np.asarray(sample)
    picked = slice(None) if rows is None else rows
    width = per_block(len(sample) if rows is None else len(rows))
    blocks = [_block_ranges(np.asarray(sample[picked, start:start + width], dtype="float64"))
              for start in range(0, sample.shape[1], width)]
    if len(blocks) == 1:
        return blocks[0]
    return Ranges(*(np.concatenate([getattr(block, field.name) for block in blocks], axis=-1)
                    for field in dataclasses.fields(Ranges)))


def _block_ranges(values: np.ndarray) -> Ranges:
    """`Ranges` of a float64 block of columns (`ranges_of`)."""
    finite = np.isfinite(values)
    if finite.all():
        p01, p99 = column_percentiles(values, [1, 99])
        return Ranges(minimum=values.min(axis=0), maximum=values.max(axis=0),
                      mean=values.mean(axis=0), std=values.std(axis=0), p01=p01, p99=p99)
    values = np.where(finite, values, np.nan)
    values[:, ~finite.any(axis=0)] = 0.0
    p01, p99 = column_percentiles(values, [1, 99])
    return Ranges(minimum=np.nanmin(values, axis=0), maximum=np.nanmax(values, axis=0),
                  mean=np.nanmean(values, axis=0), std=np.nanstd(values, axis=0),
                  p01=p01, p99=p99)


@dataclasses.dataclass(frozen=True)
class Sentinel:
    """A value in one column that may be a missing value written as a number.

    Two kinds are measured (the `missing_values` check judges them):

    - `"code"`: an all-nines code (`MISSING_CODES`: -999, 9999, ...) that lies beyond every
      other value of its column. `gap_to_range` is its distance to the nearest other value over
      the range (max - min) of the other values.
    - `"zero"`: exact zeros in a column whose other values are all positive and continuous
      (at least `MIN_CONTINUOUS_VALUES`, 20, distinct values). `expected_in_gap` is how many
      values the empty interval between 0 and the smallest positive value m would hold if the
      column ran on down to zero at the density of its lowest tenth of positive values: that
      tenth's count per possible value in [m, 10th percentile], times the possible values in
      (0, m). Possible values follow the column's own resolution (the smallest step between its
      lowest distinct values), so integer
      counts such as pregnancies (m = 1 step) give 0: nothing could lie in between.
      `depth` is how far below the positive values' median zero lies, in robust standard
      deviations of those values (interquartile range / 1.349).

    Args:
        feature: Column name; `index`: its position among the flattened features.
        value: The value, e.g. -999.0 or 0.0.
        kind: `"code"` or `"zero"`.
        count_train, count_val: Rows holding the value in this column (all rows).
        share: Of the training sample's rows, the fraction holding it.
        gap_to_range: See above (codes; NaN for zeros).
        expected_in_gap, depth: See above (zeros; NaN for codes).
    """

    feature: str
    index: int
    value: float
    kind: str
    count_train: int
    count_val: int
    share: float
    gap_to_range: float = float("nan")
    expected_in_gap: float = float("nan")
    depth: float = float("nan")

    def as_evidence(self) -> dict[str, Any]:
        out = {"column": self.index, "value": self.value, "kind": self.kind,
               "train": self.count_train,
               "val": self.count_val, "share": round(self.share, 4)}
        if self.kind == "code":
            out["gap_to_range"] = round(self.gap_to_range, 2)
        else:
            out.update(expected_in_gap=round(self.expected_in_gap, 1),
                       depth=round(self.depth, 2))
        return out


#: Distinct positive values a column needs before its zeros may be judged implausible.
MIN_CONTINUOUS_VALUES = 20


def _zero_candidate(column: np.ndarray) -> tuple[float, float] | None:
    """(expected_in_gap, depth) for a column with zeros and otherwise positive, continuous
    values (at least `MIN_CONTINUOUS_VALUES` distinct ones: on a scale of a few levels, such as
    pixel intensities in sixteenths or ratings, zero is one of the levels)."""
    positive = column[column > 0]
    distinct = np.unique(positive)
    if len(distinct) < MIN_CONTINUOUS_VALUES or (column < 0).any():
        return None
    tenth = float(np.percentile(positive, 10))
    # the column's resolution where the gap is: the smallest step among its lowest values (a few
    # stray values elsewhere, say entry errors, must not make the grid look finer than it is)
    lowest = distinct[distinct <= max(tenth, float(distinct[1]))]
    low, step = float(distinct[0]), float(np.diff(lowest).min())
    in_tenth = int((positive <= tenth).sum())
    tenth_slots = round((tenth - low) / step) + 1  # possible values in [m, tenth]
    gap_slots = max(0, round(low / step) - 1)  # possible values in (0, m)
    expected = in_tenth * gap_slots / tenth_slots
    q1, median, q3 = np.percentile(positive, [25, 50, 75])
    spread = (q3 - q1) / 1.349
    depth = float(median / spread) if spread > 0 else float("inf")
    return expected, depth


def _code_candidate(column: np.ndarray, code: float) -> float | None:
    """gap_to_range of `code` when it lies beyond every other value of the column."""
    others = column[column != code]
    if others.size < 2:
        return None
    low, high = float(others.min()), float(others.max())
    if low < code < high or high == low:
        return None
    return (low - code if code < low else code - high) / (high - low)


def _sentinels(setup: Setup, table: np.ndarray, rows: np.ndarray,
               names: tuple[str, ...]) -> tuple[Sentinel, ...]:
    """Candidate missing-value codes and implausible zeros, per column of the sample `rows` of
    the flattened training data `table` (tables only)."""
    if is_image(setup.x_train) or table.size == 0 or not len(rows):
        return ()
    sample = np.asarray(table[rows], dtype="float64")  # all-nines codes: not all float32 values
    found: list[tuple[int, float, str, float, float, float]] = []
    has_zero = (sample == 0).any(axis=0)
    for j in np.flatnonzero(has_zero):
        column = sample[:, j][np.isfinite(sample[:, j])]
        candidate = _zero_candidate(column)
        if candidate is not None:
            found.append((int(j), 0.0, "zero", float("nan"), *candidate))
    codes = np.asarray(MISSING_CODES, dtype="float64")
    for j in np.flatnonzero(np.isin(sample, codes).sum(axis=0) >= 2):
        column = sample[:, j][np.isfinite(sample[:, j])]
        for code in codes[np.isin(codes, column)]:
            if (column == code).sum() < 2:
                continue
            gap = _code_candidate(column, float(code))
            if gap is not None:
                found.append((int(j), float(code), "code", gap, float("nan"), float("nan")))
    train = setup.x_train.reshape(setup.n_train, -1)
    val = setup.x_val.reshape(len(setup.x_val), -1)
    return tuple(
        Sentinel(feature=names[j], index=j, value=value, kind=kind,
                 count_train=int(np.count_nonzero(train[:, j] == value)),
                 count_val=int(np.count_nonzero(val[:, j] == value)),
                 share=float((sample[:, j] == value).mean()),
                 gap_to_range=gap, expected_in_gap=expected, depth=depth)
        for j, value, kind, gap, expected, depth in found
    )


@dataclasses.dataclass(frozen=True)
class DataStats:
    """What the data looks like.

    Args:
        n_train, n_val: Rows in the training and validation data.
        sample_train, sample_val: Row indices of the sample per-feature statistics use.
        image: Whether the inputs are images (their "features" are pixels).
        feature_names: One name per flattened feature.
        minimum, maximum, mean, std, p01, p99: Per-feature statistics of the training sample,
            over finite values only.
        missing_train, missing_val: Per-feature count of NaN or infinite values (full data).
        sentinels: Values that may be missing values written as numbers (`Sentinel`), found
            on the training sample and counted on all rows; empty for images.
        label_missing: NaN or infinite labels in training + validation data (full data).
        class_counts_train, class_counts_val: Rows per class id (classification only).
        exact_duplicates: Training rows that repeat an earlier training row (full data).
        conflicting_duplicates: Of those, rows whose label differs from the earlier copy.
        duplicate_groups: Up to 10 groups of training row indices with identical features.
        val_in_train: Validation rows identical to some training row (full data).
        val_in_train_rows: Up to 20 such validation row indices.
        train_has_twin: Per training row, whether another training row is identical to it.
        val_in_train_mask: Per validation row, whether some training row is identical to it.
    """

    n_train: int
    n_val: int
    sample_train: np.ndarray
    sample_val: np.ndarray
    image: bool
    input_shape: tuple[int, ...]
    feature_names: tuple[str, ...]
    minimum: np.ndarray
    maximum: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    p01: np.ndarray
    p99: np.ndarray
    missing_train: np.ndarray
    missing_val: np.ndarray
    sentinels: tuple[Sentinel, ...]
    label_missing: int
    class_counts_train: dict[int, int]
    class_counts_val: dict[int, int]
    exact_duplicates: int
    conflicting_duplicates: int
    duplicate_groups: tuple[tuple[int, ...], ...]
    val_in_train: int
    val_in_train_rows: tuple[int, ...]
    train_has_twin: np.ndarray
    val_in_train_mask: np.ndarray

    @property
    def sampled(self) -> bool:
        """Whether per-feature statistics were computed on a sample of the training rows."""
        return len(self.sample_train) < self.n_train

    def sample_note(self) -> dict[str, Any]:
        """Evidence entries saying how many rows the statistics are based on."""
        if not self.sampled:
            return {"rows_measured": self.n_train}
        return {"rows_measured": len(self.sample_train), "sampled_from": self.n_train}

    def to_measurements(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_train": self.n_train,
            "n_val": self.n_val,
            **self.sample_note(),
            "image": self.image,
            "missing_train_total": int(self.missing_train.sum()),
            "missing_val_total": int(self.missing_val.sum()),
            "label_missing": self.label_missing,
            "class_counts_train": {str(k): v for k, v in self.class_counts_train.items()},
            "class_counts_val": {str(k): v for k, v in self.class_counts_val.items()},
            "exact_duplicates": self.exact_duplicates,
            "val_in_train": self.val_in_train,
        }
        if self.image:
            out["pixel_range"] = [float(np.nanmin(self.minimum)), float(np.nanmax(self.maximum))]
        else:
            out["features"] = {
                name: {"min": float(self.minimum[i]), "max": float(self.maximum[i]),
                       "mean": float(self.mean[i]), "std": float(self.std[i])}
                for i, name in enumerate(self.feature_names[:200])
            }
        return out


def _missing_counts(x: np.ndarray) -> np.ndarray:
    d = int(np.prod(x.shape[1:])) or 1
    counts = np.zeros(d, dtype=np.int64)
    if not np.issubdtype(x.dtype, np.floating):
        return counts
    for start in range(0, len(x), _CHUNK):
        chunk = x[start:start + _CHUNK].reshape(-1, d)
        counts += (~np.isfinite(chunk)).sum(axis=0)
    return counts


def _class_counts(y: np.ndarray, setup: Setup) -> dict[int, int]:
    if setup.task.kind not in ("binary", "multiclass"):
        return {}
    ids = class_ids(y)
    ids = ids[np.isfinite(ids)] if np.issubdtype(ids.dtype, np.floating) else ids
    values, counts = np.unique(ids.astype(np.int64), return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts, strict=True)}


def _label_key(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    flat = y.reshape(len(y), -1).astype("float64")
    return np.round(flat @ np.arange(1, flat.shape[1] + 1, dtype="float64"), 6)


def _duplicates(setup: Setup) -> tuple:
    train_fp = row_fingerprints(setup.x_train)
    _, first, inverse, counts = np.unique(
        train_fp, axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    inverse = inverse.reshape(-1)
    is_repeat = first[inverse] != np.arange(len(train_fp))
    exact = int(is_repeat.sum())
    labels = _label_key(setup.y_train)
    conflicting = int((labels[is_repeat] != labels[first[inverse[is_repeat]]]).sum())
    groups = []
    for g in np.flatnonzero(counts > 1)[:10]:
        groups.append(tuple(int(i) for i in np.flatnonzero(inverse == g)[:5]))
    val_fp = row_fingerprints(setup.x_val)
    _, both = np.unique(np.concatenate([train_fp[first], val_fp]), axis=0, return_inverse=True)
    both = both.reshape(-1)
    in_train = np.isin(both[len(first):], both[:len(first)])
    rows = tuple(int(i) for i in np.flatnonzero(in_train)[:20])
    has_twin = counts[inverse] > 1
    return exact, conflicting, tuple(groups), int(in_train.sum()), rows, has_twin, in_train


@probe("data_stats")
def data_stats(evidence: Evidence) -> DataStats:
    """Measure ranges, missing values, class counts and exact duplicates of the setup's data."""
    setup = evidence.setup
    limit = audit_limit(setup, evidence.budget.max_audit_rows)
    tr = sample_rows(setup.n_train, limit, evidence.seed)
    va = sample_rows(len(setup.x_val), limit, evidence.seed + 1)
    d = int(np.prod(setup.x_train.shape[1:])) or 1
    table = np.asarray(setup.x_train).reshape(setup.n_train, d)
    names = setup.feature_names if setup.feature_names and len(setup.feature_names) == d else None
    if names is None:
        names = tuple(f"x[{i}]" for i in range(d))
    ranges = ranges_of(table, tr)  # (a photo sample's copy alone is 80 MB)
    y_all = np.concatenate([np.asarray(setup.y_train).reshape(setup.n_train, -1),
                            np.asarray(setup.y_val).reshape(len(setup.y_val), -1)])
    label_missing = int((~np.isfinite(y_all.astype("float64"))).any(axis=1).sum())
    exact, conflicting, groups, val_in_train, val_rows, has_twin, in_train = _duplicates(setup)
    return DataStats(
        n_train=setup.n_train,
        n_val=int(len(setup.x_val)),
        sample_train=tr,
        sample_val=va,
        image=is_image(setup.x_train),
        input_shape=tuple(int(s) for s in setup.x_train.shape[1:]),
        feature_names=names,
        minimum=ranges.minimum,
        maximum=ranges.maximum,
        mean=ranges.mean,
        std=ranges.std,
        p01=ranges.p01,
        p99=ranges.p99,
        missing_train=_missing_counts(setup.x_train),
        missing_val=_missing_counts(setup.x_val),
        sentinels=_sentinels(setup, table, tr, names),
        label_missing=label_missing,
        class_counts_train=_class_counts(setup.y_train, setup),
        class_counts_val=_class_counts(setup.y_val, setup),
        exact_duplicates=exact,
        conflicting_duplicates=conflicting,
        duplicate_groups=groups,
        val_in_train=val_in_train,
        val_in_train_rows=val_rows,
        train_has_twin=has_twin,
        val_in_train_mask=in_train,
    )
