"""The data a user feeds to `fit`, in any form Keras accepts, and a bounded sample of it.

Users give arrays, pandas objects, dicts or lists of arrays for multi-input models, strings for
a model that starts with `TextVectorization`, a `tf.data.Dataset`, a `keras.utils.PyDataset`
(the legacy `ImageDataGenerator` iterators are PyDatasets in Keras 3), or a Python generator.
`Feed` keeps what `fit` is given, untouched; `draw_sample` reads a bounded, seeded sample of rows
from it once, as NumPy arrays after the pipeline's own preprocessing, for the data checks.
Peak memory is bounded by the sample, never by the data set.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from fitdoctor.errors import DataError

logger = logging.getLogger(__name__)

#: Kinds of input `fit` can take that fitdoctor reads as a stream of batches.
STREAM_KINDS = ("tf.data", "PyDataset", "generator")


def input_kind(obj: Any) -> str:
    """What a `load_data` element is: `"pair"`, `"tf.data"`, `"PyDataset"` or `"generator"`.

    Raises:
        DataError: `obj` is none of the inputs `model.fit` accepts.
    """
    if isinstance(obj, (tuple, list)):
        return "pair"
    try:
        import tensorflow as tf

        if isinstance(obj, tf.data.Dataset):
            return "tf.data"
    except ImportError:  # pragma: no cover - tensorflow is a dependency
        pass
    import keras

    if isinstance(obj, keras.utils.PyDataset):
        return "PyDataset"
    if inspect.isgenerator(obj) or (hasattr(obj, "__next__") and hasattr(obj, "__iter__")):
        return "generator"
    raise DataError(
        "training data must be (x, y), a tf.data.Dataset, a keras.utils.PyDataset or a "
        f"generator of (x, y) batches; received {type(obj).__name__}"
    )


@dataclasses.dataclass(frozen=True)
class Feed:
    """What `fit` receives when it is not the audit arrays themselves.

    Args:
        kind: `"inputs"` (arrays whose structure the audit flattens: dicts, lists, strings),
            `"tf.data"`, `"PyDataset"` or `"generator"`.
        train: `x` as `fit` takes it (for streams: the dataset, which yields the labels too).
        train_y: `y` as `fit` takes it; None for streams.
        val: `validation_data` as `fit` takes it, or None.
        reload: For one-shot iterators, a callable returning fresh `(train, val)` (the setup
            file's `load_data`); None when the objects can be iterated again.
        complete: Whether the audit arrays hold every training row, in the form the model
            takes them, so a remedy that edits rows can train on them instead.
        rows_seen: Training rows the sample drew.
        batch_size: Rows per batch the stream yields (0 when not a stream).
        steps: Batches per epoch where the stream knows it (a PyDataset's length, a finite
            dataset's cardinality), else None.
    """

    kind: str
    train: Any
    train_y: Any = None
    val: Any = None
    reload: Callable[[], tuple[Any, Any]] | None = None
    complete: bool = False
    rows_seen: int = 0
    batch_size: int = 0
    steps: int | None = None

    @property
    def is_stream(self) -> bool:
        return self.kind in STREAM_KINDS

    def fit_data(self) -> tuple[Any, Any, Any]:
        """`(x, y, validation_data)` for one `fit`, fresh where an iterator is one-shot."""
        if self.reload is None:
            if self.kind == "inputs":  # Keras' array adapter refuses NumPy string arrays
                return (_strings_as_tensors(self.train), self.train_y,
                        (_strings_as_tensors(self.val[0]), self.val[1]))
            return self.train, self.train_y, self.val
        train, val = self.reload()
        _same_as_before(self.train if self.train is not None else train, train, "training data")
        _same_as_before(self.val, val, "validation data")
        return train, None, val


@dataclasses.dataclass(frozen=True)
class Sample:
    """Rows drawn from a stream, as arrays.

    Args:
        x: Inputs (an array, or a dict / list of arrays for several inputs).
        y: Labels.
        complete: Whether the stream ended before the row limit (the sample is all of it).
        batch_size: Rows in the first batch the stream yielded.
    """

    x: Any
    y: np.ndarray
    complete: bool
    batch_size: int


def _describe(obj: Any) -> str:
    if isinstance(obj, (tuple, list)) and len(obj) == 2:
        return f"({n_rows(obj[0])} rows)"
    return type(obj).__name__


class ChangingData(DataError):
    """`load_data()` returned other data on a later call: no measurement can be trusted."""


def _same_as_before(before: Any, after: Any, what: str) -> None:
    """Raise when a second `load_data()` returned data of another kind or size than the first."""
    if before is None or after is None:
        if (before is None) != (after is None):
            raise ChangingData(f"load_data() returned {what} on one call and none on another")
        return
    if type(before) is not type(after) or _describe(before) != _describe(after):
        raise ChangingData(
            f"load_data() returned different {what} on its second call: {_describe(before)} "
            f"then {_describe(after)}; fitdoctor calls it once per training run, so it must "
            "return the same data each time (seed any shuffling or sampling)"
        )


def _strings_as_tensors(x: Any) -> Any:
    """NumPy string arrays (alone or in a dict or list of inputs) as `tf.string` tensors."""
    if isinstance(x, Mapping):
        return {k: _strings_as_tensors(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_strings_as_tensors(v) for v in x]
    if getattr(x, "dtype", None) is not None and (x.dtype.kind in "SU" or x.dtype == object):
        import tensorflow as tf

        return tf.constant(x)
    return x


def _to_numpy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_numpy(v) for v in value]
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _concat(parts: list[Any]) -> Any:
    first = parts[0]
    if isinstance(first, dict):
        return {k: _concat([p[k] for p in parts]) for k in first}
    if isinstance(first, list):
        return [_concat([p[i] for p in parts]) for i in range(len(first))]
    return np.concatenate(parts)


def n_rows(x: Any) -> int:
    """Rows in an array, or in the first array of a dict or list of inputs."""
    if isinstance(x, Mapping):
        x = next(iter(x.values()))
    elif isinstance(x, (list, tuple)):
        x = x[0]
    return int(len(x))


def take_rows(x: Any, rows: Any) -> Any:
    """Rows of an array, or of every array in a dict or list of inputs."""
    if isinstance(x, Mapping):
        return {k: take_rows(v, rows) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [take_rows(v, rows) for v in x]
    return x[rows]


def _split_batch(batch: Any, what: str) -> tuple[Any, Any]:
    if isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
        return batch[0], batch[1]
    raise DataError(
        f"{what} must yield (x, y) or (x, y, sample_weight) batches; it yielded "
        f"{type(batch).__name__}"
        + (f" of {len(batch)} elements" if isinstance(batch, (tuple, list)) else "")
    )


def _batches(obj: Any, kind: str, seed: int, max_batches: int | None):
    """Iterate batches of a stream; PyDataset batches are visited in a seeded random order."""
    if kind != "PyDataset":  # a dataset or generator: in its own order
        yield from obj
        return
    count = obj.num_batches
    if count is None:  # an endless PyDataset
        index = range(max_batches or 1_000_000)
    else:
        index = np.random.default_rng(seed).permutation(int(count)).tolist()
    for i in index:
        yield obj[i]


def draw_sample(obj: Any, kind: str, *, max_rows: int, seed: int = 0,
                max_batches: int | None = None, what: str = "training data") -> Sample:
    """Read at most `max_rows` rows (and `max_batches` batches) of a stream, as arrays.

    Args:
        obj: A `tf.data.Dataset`, `PyDataset` or generator of `(x, y[, sample_weight])`.
        kind: Its `input_kind`.
        max_rows: Row limit; an endless stream stops there. Defaults to none (required).
        seed: Seeds the order of PyDataset batches. Defaults to 0.
        max_batches: Batch limit (the user's `steps_per_epoch` for a generator). Defaults to None.
        what: How messages name the data. Defaults to `"training data"`.
    """
    xs, ys, rows, complete, first = [], [], 0, True, 0
    iterator = _batches(obj, kind, seed, max_batches)
    for count, batch in enumerate(iterator):
        x, y = _split_batch(batch, what)
        x, y = _to_numpy(x), _to_numpy(y)
        if y is None or getattr(y, "ndim", 0) == 0:
            raise DataError(f"{what} yields batches without labels; fitdoctor needs (x, y)")
        first = first or len(y)
        xs.append(x)
        ys.append(y)
        rows += len(y)
        if rows >= max_rows or (max_batches is not None and count + 1 >= max_batches):
            complete = False
            break
    if kind == "generator" and not complete:
        close = getattr(iterator, "close", None)
        if callable(close):
            close()
    if not ys:
        raise DataError(f"{what} yielded no batches")
    x, y = _concat(xs), np.concatenate(ys)
    if rows > max_rows:
        x, y = take_rows(x, slice(0, max_rows)), y[:max_rows]
    return Sample(x=x, y=y, complete=complete, batch_size=first)


def steps_of(obj: Any, kind: str) -> int | None:
    """Batches per epoch of a stream where it says so itself (None when unknown or endless)."""
    if kind == "PyDataset":
        count = obj.num_batches
        return int(count) if count is not None else None
    if kind == "tf.data":
        cardinality = int(obj.cardinality())
        return cardinality if cardinality > 0 else None
    return None
