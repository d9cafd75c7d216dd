"""The training setup: what the user gave, loaded and validated once.

A setup is a model builder, training and validation data, and the keyword arguments the user
passes to `model.fit`. It comes from a setup file (`load_setup`) or from a Python call
(`Setup.from_arrays`). Validation happens here and nowhere else; every later stage may trust it.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import runpy
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fitdoctor.data import Feed, draw_sample, input_kind, n_rows, steps_of, take_rows
from fitdoctor.errors import DataError, SetupError
from fitdoctor.keras_vocab import (
    PREPROCESSING_LAYERS,
    build_training_state,
    is_regression_loss,
    loss_name,
)
from fitdoctor.tf_data import keras_pipelines_without_autotune

logger = logging.getLogger(__name__)

#: `model.fit` arguments fitdoctor sets itself; the setup's values for them are ignored.
_OWNED_FIT_KEYS = ("x", "y", "validation_data", "validation_split", "verbose")

TASKS = ("binary", "multiclass", "multilabel", "regression")

#: Rows of a streamed data set drawn once for the data checks (and of each validation stream).
SAMPLE_ROWS = 20_000


class NotEditable(Exception):
    """A change fitdoctor cannot make to this setup (it is given as advice instead)."""


class Untrainable(DataError):
    """The setup cannot train at all: its loss cannot compare the labels with the output."""


@dataclasses.dataclass(frozen=True)
class Task:
    """What kind of problem the labels describe.

    Args:
        kind: `"binary"`, `"multiclass"`, `"multilabel"` or `"regression"`.
        n_classes: Number of classes (labels for multi-label); 0 for regression.
        label_encoding: `"integer"` (class ids), `"onehot"`, `"multihot"` or `"continuous"`.
    """

    kind: str
    n_classes: int
    label_encoding: str

    @property
    def is_classification(self) -> bool:
        return self.kind != "regression"

    @property
    def metric(self) -> str:
        """The score fitdoctor compares runs on: accuracy, or the loss for regression."""
        return "loss" if self.kind == "regression" else "accuracy"


def infer_task(y: np.ndarray, loss: Any = None) -> Task:
    """Infer the task from the training labels and, where labels are ambiguous, the loss."""
    y = np.asarray(y)
    name = loss_name(loss)
    if y.ndim == 2 and y.shape[1] > 1:
        finite = y[np.isfinite(y)] if np.issubdtype(y.dtype, np.number) else y
        binary_valued = finite.size and np.isin(finite, (0, 1)).all()
        if binary_valued:
            row_sums = y.sum(axis=1)
            if np.allclose(row_sums, 1):
                return Task("multiclass", int(y.shape[1]), "onehot")
            return Task("multilabel", int(y.shape[1]), "multihot")
        return Task("regression", 0, "continuous")
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    if not np.issubdtype(flat.dtype, np.number):
        raise DataError(f"labels must be numeric; received dtype {flat.dtype}")
    finite = flat[np.isfinite(flat)]
    integral = finite.size > 0 and np.allclose(finite, np.round(finite))
    if is_regression_loss(name) or not integral:
        return Task("regression", 0, "continuous")
    classes = np.unique(finite)
    n_classes = int(max(classes.max() + 1, len(classes))) if classes.min() >= 0 else len(classes)
    if n_classes <= 2:
        return Task("binary", 2, "integer")
    return Task("multiclass", n_classes, "integer")


def is_token_ids(x: np.ndarray) -> bool:
    """Whether `x` could be token ids: 2-D, numeric, every value a non-negative whole number."""
    x = np.asarray(x)
    if x.ndim != 2 or x.dtype == bool or not np.issubdtype(x.dtype, np.number):
        return False
    if np.issubdtype(x.dtype, np.integer):
        return not x.size or int(x.min()) >= 0
    return bool(np.isfinite(x).all() and (x >= 0).all() and (x == np.round(x)).all())


def embeds_first(model: Any) -> bool:
    """Whether the first layer of `model` past its inputs and preprocessing is an `Embedding`."""
    import keras

    skipped = PREPROCESSING_LAYERS | {"InputLayer"}
    layers = [la for la in getattr(model, "layers", []) if type(la).__name__ not in skipped]
    return bool(layers) and isinstance(layers[0], keras.layers.Embedding)


def vectorizes_text(model: Any) -> Any:
    """The model's leading `TextVectorization` layer, which takes raw strings; else None."""
    layers = [la for la in getattr(model, "layers", []) if type(la).__name__ != "InputLayer"]
    if layers and type(layers[0]).__name__ == "TextVectorization":
        return layers[0]
    return None


def is_strings(x: Any) -> bool:
    """Whether `x` is an array of text (str, bytes or object strings)."""
    arr = np.asarray(x) if not hasattr(x, "dtype") else x
    if arr.dtype.kind in "SU":
        return True
    return arr.dtype == object and arr.size > 0 and isinstance(arr.flat[0], (str, bytes))


def _to_array(obj: Any, what: str) -> np.ndarray:
    """Convert NumPy/pandas data to a NumPy array, naming non-numeric columns."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(obj, pd.DataFrame):
        bad = [str(c) for c in obj.columns if not pd.api.types.is_numeric_dtype(obj[c])
               and not pd.api.types.is_bool_dtype(obj[c])]
        if bad:
            raise DataError(
                f"{what} has non-numeric column(s) {', '.join(bad[:5])}; encode them as numbers "
                "(e.g. one-hot) before the model sees them"
            )
        return obj.to_numpy(dtype="float32")
    if pd is not None and isinstance(obj, pd.Series):
        if not (pd.api.types.is_numeric_dtype(obj) or pd.api.types.is_bool_dtype(obj)):
            raise DataError(f"{what} ({obj.name!s}) is not numeric; received dtype {obj.dtype}")
        return obj.to_numpy()
    arr = np.asarray(obj)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        try:
            arr = arr.astype("float32")
        except (TypeError, ValueError):
            raise DataError(
                f"{what} is not numeric; received an array of dtype {arr.dtype}"
            ) from None
    return arr


@dataclasses.dataclass(frozen=True)
class Trained:
    """One training run through `Setup.train`.

    Args:
        model: The trained model.
        history: Per-epoch logs (`History.history`), as floats.
        seconds: Wall time of `fit`.
    """

    model: Any
    history: dict[str, list[float]]
    seconds: float


@dataclasses.dataclass(frozen=True)
class Setup:
    """A training setup: model builder, data and `fit` arguments.

    Build one with `Setup.from_arrays` or `load_setup`; both validate. The data is never
    written to: fitdoctor reads it and trains fresh models built by `build_model`.

    `x_train`, `y_train`, `x_val` and `y_val` are what the data checks read: the arrays
    themselves, or for a stream (a `tf.data.Dataset`, `PyDataset` or generator) a bounded,
    seeded sample of what it yields; for several inputs, one table with a column per input
    feature. `feed`, when set, is what `fit` receives instead. `Setup.train` is the one place
    that trains.

    Args:
        build_model: Zero-argument callable returning a compiled `keras.Model`.
        x_train: Training features (or the sample the checks read), first axis = samples.
        y_train: Training labels.
        x_val: Validation features.
        y_val: Validation labels.
        fit: Keyword arguments for `model.fit` (epochs, batch_size, callbacks, ...).
        task: What the labels describe (inferred when not given).
        source: Where the setup came from (a file path or `"python"`).
        val_source: `"given"`, `"validation_split"` (the user's own `fit` argument, applied as
            Keras does) or `"held_out"` (fitdoctor split it off the training data).
        search_space: Optional search space for `tune`. Defaults to None.
        feature_names: Column names when the features came as a DataFrame or several inputs,
            so findings can name them. Defaults to None (features are then called `x[i]`).
        vocabulary: For text given as token ids, the word behind each id (index = token id,
            as `TextVectorization.get_vocabulary()` lists them). Defaults to None.
        feed: What `fit` receives when it is not `x_train`/`y_train` themselves. Defaults to
            None.
        loss_error: Why the compiled loss cannot compare these labels with the model's
            output, when one batch showed it cannot (`smoke_test`); None when it can. Training
            probes are then skipped, and `diagnose` reports the mismatch or stops.
        notes: What fitdoctor did to the data before any check read it (`--data`: columns
            left out as IDs or free text, a header that looks like data), shown in every
            report. Defaults to ().
    """

    build_model: Callable[..., Any]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    fit: Mapping[str, Any]
    task: Task
    source: str = "python"
    val_source: str = "given"
    search_space: Mapping[str, Any] | None = None
    feature_names: tuple[str, ...] | None = None
    vocabulary: tuple[str, ...] | None = None
    feed: Feed | None = None
    loss_error: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def epochs(self) -> int:
        return int(self.fit.get("epochs", 1))

    @property
    def batch_size(self) -> int:
        return int(self.fit.get("batch_size") or self._stream_batch or 32)

    @property
    def _stream_batch(self) -> int | None:
        if self.feed is None or not self.feed.is_stream:
            return None
        return int(self.feed.batch_size or 0) or None

    @property
    def n_train(self) -> int:
        """Training rows: all of them for arrays, the rows drawn for a stream."""
        return int(len(self.x_train))

    @property
    def steps_per_epoch(self) -> int:
        given = self.fit.get("steps_per_epoch")
        if given:
            return int(given)
        if self.feed is not None and self.feed.steps:
            return int(self.feed.steps)
        return max(1, int(np.ceil(self.n_train / self.batch_size)))

    @property
    def sampled(self) -> bool:
        """Whether the data checks see a sample of a stream rather than every row."""
        return self.feed is not None and self.feed.is_stream and not self.feed.complete

    @functools.cached_property
    def reference_model(self) -> Any:
        """The model `build_model()` returns, built once (seed 0) to read its structure.

        A subclassed model is called on two training rows first, so its layers and output
        exist. Never trained; structure-reading code shares this one instance.
        """
        import keras

        keras.utils.set_random_seed(0)
        model = self.build_model()
        if not model.built or not getattr(model, "outputs", None):
            try:
                model(self.model_rows(np.arange(min(2, self.n_train)))[0], training=False)
            except Exception as exc:  # reported by the checks that need the structure
                logger.debug("could not build the reference model on a batch: %s", exc)
        return model

    @functools.cached_property
    def token_inputs(self) -> bool:
        """Whether the inputs are text given as token ids to an `Embedding` first layer.

        That is 2-D non-negative whole numbers, and a model whose first layer past its inputs
        (and a `TextVectorization`) is an Embedding. Checks that read inputs as numeric features
        (scale, outliers, relevance, shift) stay silent on token ids: id 812 is not "larger"
        than id 3.
        """
        head = self.x_train[:1000]  # cheap rejection of most tables before a model is built
        return (is_token_ids(head) and embeds_first(self.reference_model)
                and is_token_ids(self.x_train))

    def model_rows(self, rows: Any, *, split: str = "train") -> tuple[Any, np.ndarray]:
        """Rows `(x, y)` in the form the model takes them (dicts, strings, ...), for calls.

        Args:
            rows: Row indices or a slice into the training (or validation) rows.
            split: `"train"` or `"val"`. Defaults to `"train"`.
        """
        x, y = (self.x_train, self.y_train) if split == "train" else (self.x_val, self.y_val)
        if self.feed is not None and self.feed.kind == "inputs":
            x = self.feed.train if split == "train" else self.feed.val[0]
        return take_rows(x, rows), y[rows]

    def val_inputs(self) -> Any:
        """The validation inputs in the form the model takes them."""
        if self.feed is not None and self.feed.kind == "inputs":
            return self.feed.val[0]
        return self.x_val

    def fit_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """The user's `fit` arguments, minus those fitdoctor owns, with overrides applied."""
        kwargs = {k: v for k, v in self.fit.items() if k not in _OWNED_FIT_KEYS}
        kwargs.update(overrides)
        return kwargs

    def train(
        self,
        seed: int,
        *,
        callbacks: Sequence[Any] = (),
        build: Callable[[], Any] | None = None,
        keep_callback: Callable[[Any], bool] | None = None,
        validate: bool = True,
        batched: bool = False,
        **overrides: Any,
    ) -> Trained:
        """Build a fresh model with `seed` and run the user's `fit` on it: the one training seam.

        Every probe, learning curve, remedy and tuning trial trains through here, so each kind
        of input (arrays, several inputs, strings, `tf.data`, `PyDataset`, generators) is
        handled once. One-shot generators are made afresh for each run. The model's optimizer,
        loss and metric variables are created before `fit` (`build_training_state`), so its
        training step is traced once where Keras alone traces it twice; the weights are the
        same.

        Args:
            seed: Seeds weights, shuffling and dropout.
            callbacks: Callbacks added after the user's own. Defaults to none.
            build: Builds the model instead of `build_model` (a tuning trial's values).
                Defaults to None.
            keep_callback: Which of the user's callbacks to keep (all when None).
            validate: Whether to pass the validation data. Defaults to True.
            batched: Run each epoch's steps in one compiled call (Keras' `steps_per_execution`)
                when the data are arrays and no callback is attached, so none misses a batch:
                the weights come out the same, with less Python between the steps (a third
                sooner for a small MLP). The model keeps its own setting afterwards. Defaults
                to False (as your `fit` runs).
            **overrides: `fit` arguments that replace the user's (`epochs`, `batch_size`, ...).

        Raises:
            Untrainable: one batch showed the loss cannot be computed (`loss_error`).
        """
        import keras

        if self.loss_error is not None:
            raise Untrainable(self.loss_error)
        keras.utils.set_random_seed(seed)
        model = (build or self.build_model)()
        rows = self.model_rows(slice(0, 2))
        if not model.built:  # a subclassed model: build it so callbacks see its weights
            model(rows[0], training=False)
        build_training_state(model, *rows)  # its step is then traced once, not twice
        kwargs = self.fit_kwargs(**overrides)
        user_callbacks = [c for c in (kwargs.pop("callbacks", None) or [])
                          if keep_callback is None or keep_callback(c)]
        if self.feed is None:
            x, y, val = self.x_train, self.y_train, (self.x_val, self.y_val)
        else:
            x, y, val = self.feed.fit_data()
        if self.feed is not None and self.feed.is_stream:
            kwargs.pop("batch_size", None)  # a stream yields batches; Keras refuses batch_size
            kwargs.setdefault("shuffle", False)  # a stream shuffles itself; Keras ignores it
        if not validate:
            val = None
            kwargs.pop("validation_freq", None)
            kwargs.pop("validation_steps", None)
        attached = [*user_callbacks, *callbacks]
        batched = (batched and not attached and self.steps_per_epoch > 1
                   and getattr(model, "steps_per_execution", 1) == 1
                   and (self.feed is None or not self.feed.is_stream))
        if batched:
            model.steps_per_execution = self.steps_per_epoch
        start = time.perf_counter()
        try:
            with keras_pipelines_without_autotune():  # fitdoctor.tf_data: no stall
                history = model.fit(x, y, validation_data=val, callbacks=attached, verbose=0,
                                    **kwargs)
        finally:
            if batched:
                model.steps_per_execution = 1  # as it was compiled
        seconds = time.perf_counter() - start
        logs = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        return Trained(model, logs, seconds)

    def subset(self, rows: np.ndarray) -> Setup:
        """The same setup trained on some of its training rows (learning curves).

        Raises:
            NotEditable: the rows are a stream fitdoctor only sampled.
        """
        feed = self.feed
        if feed is not None and feed.is_stream:
            if not feed.complete:
                raise NotEditable(
                    f"the training data is a {feed.kind} stream that fitdoctor sampled "
                    f"({self.n_train} rows); it cannot train on part of it"
                )
            feed = None
        elif feed is not None:
            feed = dataclasses.replace(feed, train=take_rows(feed.train, rows),
                                       train_y=feed.train_y[rows])
        return dataclasses.replace(self, x_train=self.x_train[rows], y_train=self.y_train[rows],
                                   feed=feed)

    def replace(self, **changes: Any) -> Setup:
        """A copy with some fields changed (used by remedies; the original stays as it was).

        A remedy that changes rows trains on the changed arrays. That needs every row in the
        form the model takes: arrays, or a stream whose sample is all of it.

        When one batch showed the loss cannot read the labels (`loss_error`), the changed
        setup is tried on a batch again, so a remedy that mends the output/loss pair can train.

        Raises:
            NotEditable: rows were changed but the data is a stream fitdoctor only sampled,
                or several inputs / text the checks read in another form.
        """
        rows_changed = any(k in changes for k in ("x_train", "y_train", "x_val", "y_val"))
        if rows_changed and self.feed is not None and "feed" not in changes:
            if not (self.feed.is_stream and self.feed.complete):
                raise NotEditable(
                    "this remedy changes training rows, and fitdoctor reads this data as "
                    + (f"a sample of a {self.feed.kind} stream" if self.feed.is_stream
                       else "several inputs or text it cannot rewrite")
                    + "; apply it in your own data pipeline"
                )
            changes["feed"] = None
        if self.loss_error is not None and "loss_error" not in changes:
            # a remedy may mend what one batch showed (the output/loss pair): look again
            changed = dataclasses.replace(self, **changes, loss_error=None)
            return dataclasses.replace(changed, loss_error=smoke_test(changed))
        return dataclasses.replace(self, **changes)

    def summary(self) -> dict[str, Any]:
        out = {
            "source": self.source,
            "task": self.task.kind,
            "n_classes": self.task.n_classes,
            "label_encoding": self.task.label_encoding,
            "n_train": self.n_train,
            "n_val": int(len(self.x_val)),
            "input_shape": list(self.x_train.shape[1:]),
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "validation": self.val_source,
        }
        if self.feed is not None:
            out["input"] = self.feed.kind
            if self.feed.is_stream:
                out["sampled"] = self.sampled
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_arrays(
        cls,
        build_model: Callable[..., Any],
        train_data: Any,
        validation_data: Any = None,
        fit: Mapping[str, Any] | None = None,
        *,
        source: str = "python",
        seed: int = 0,
        search_space: Mapping[str, Any] | None = None,
        vocabulary: Sequence[str] | None = None,
        reload: Callable[[], tuple[Any, Any]] | None = None,
    ) -> Setup:
        """Validate user data and wrap it in a `Setup`.

        `train_data` is anything `model.fit` takes: `(x, y)` (NumPy, pandas, a dict or list
        of arrays for several inputs, strings for a model that starts with `TextVectorization`),
        a `tf.data.Dataset` or `keras.utils.PyDataset` yielding `(x, y[, sample_weight])`, or a
        generator (then `reload` must make a fresh one for each run: a generator runs once).

        When `validation_data` is None and `fit` has `validation_split`, the last part of the
        rows is held out as Keras does; with neither, 20 % of the training rows are held out,
        stratified, and the report says so. For text given as token ids, `vocabulary` names
        the word behind each id (`get_vocabulary()` of your `TextVectorization` layer).
        """
        if not callable(build_model):
            raise SetupError(f"build_model must be callable; received {type(build_model).__name__}")
        fit = dict(fit or {})
        _validate_fit(fit)
        model = _peek_model(build_model)
        if callable(train_data) and reload is None:  # a function that makes a generator
            make_train, make_val = train_data, validation_data

            def reload() -> tuple[Any, Any]:
                return make_train(), make_val() if callable(make_val) else make_val

            train_data, validation_data = reload()
        kind = input_kind(train_data)
        if kind != "pair":
            return _from_stream(cls, build_model, model, train_data, validation_data, fit, kind,
                                source=source, seed=seed, search_space=search_space,
                                vocabulary=vocabulary, reload=reload)
        x, y = _pair(train_data, "train_data")
        if validation_data is not None:
            if input_kind(validation_data) != "pair":
                raise DataError("validation_data must be (x_val, y_val) when the training data "
                                f"is (x, y); received {type(validation_data).__name__}")
            validation_data = _pair(validation_data, "validation_data")
        split = float(fit.get("validation_split") or 0.0)
        return _assemble(cls, build_model, model, x, y, validation_data, fit, split=split,
                         seed=seed, source=source, search_space=search_space,
                         vocabulary=vocabulary, names=_column_names(train_data[0]))


def _validate_vocabulary(vocabulary: Sequence[str] | None, x: np.ndarray, x_val: np.ndarray
                         ) -> tuple[str, ...] | None:
    """The vocabulary as a tuple, checked against the token ids it names; None stays None."""
    if vocabulary is None:
        return None
    if isinstance(vocabulary, (str, bytes)) or not isinstance(vocabulary, (Sequence, np.ndarray)):
        raise DataError(
            "vocabulary must be a list of words, one per token id; received "
            f"{type(vocabulary).__name__}"
        )
    words = tuple(vocabulary)
    bad = next((w for w in words if not isinstance(w, str)), None)
    if bad is not None:
        raise DataError(f"vocabulary must hold strings; received a {type(bad).__name__}: {bad!r}")
    if not (is_token_ids(x) and is_token_ids(x_val)):
        raise DataError(
            "a vocabulary was given, but the features are not token ids (2-D non-negative whole "
            f"numbers); received x_train of shape {x.shape} and dtype {x.dtype}"
        )
    top = int(max(x.max(initial=0), x_val.max(initial=0)))
    if len(words) <= top:
        raise DataError(
            f"vocabulary has {len(words)} words, but the data holds token id {top}; it needs "
            "one word per id (TextVectorization.get_vocabulary())"
        )
    return words


def _column_names(x: Any) -> tuple[str, ...] | None:
    """Column names of a 2-D pandas DataFrame, so findings can name features; else None."""
    columns = getattr(x, "columns", None)
    if columns is None or getattr(x, "ndim", 0) != 2:
        return None
    return tuple(str(c) for c in columns)


def _peek_model(build_model: Callable[..., Any]) -> Any:
    """Build the model once (seed 0) to validate it. Raises `SetupError` if unusable."""
    import keras

    keras.utils.set_random_seed(0)
    try:
        model = build_model()
    except Exception as exc:
        raise SetupError(f"build_model() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(model, keras.Model):
        raise SetupError(
            f"build_model() must return a keras.Model; received {type(model).__name__}"
        )
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise SetupError(
            "build_model() returned an uncompiled model; call model.compile(...) in it"
        )
    return model


def _first_line(exc: BaseException, limit: int = 240) -> str:
    """The first informative line of an exception message (Keras' run to many lines)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = next((ln for ln in lines if not ln.startswith(("Traceback", "File "))), "")
    text = text or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shape_text(x: Any) -> str:
    if isinstance(x, Mapping):
        return "{" + ", ".join(f"{k!r}: {tuple(np.shape(v))}" for k, v in x.items()) + "}"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(str(tuple(np.shape(v))) for v in x) + "]"
    return f"{tuple(np.shape(x))} {getattr(x, 'dtype', '')}".strip()


def _model_inputs_text(model: Any) -> str:
    inputs = getattr(model, "inputs", None) or []
    try:
        shapes = [tuple(getattr(t, "shape", ())) for t in inputs]
    except Exception:  # a subclassed model before it is built
        shapes = []
    if not shapes:
        return "inputs the model infers on first call"
    return ", ".join(f"{shape} {getattr(t, 'dtype', '')}".strip()
                     for shape, t in zip(shapes, inputs, strict=True))


def smoke_test(setup: Setup, model: Any = None) -> str | None:
    """Run a few rows through the model and its loss before any long work.

    A model that cannot take the inputs (shape, dtype) stops here, within seconds, with one
    line naming both sides. A loss that cannot compare the labels with the output is returned
    as that line instead: `loss_output_mismatch` may know the fix.

    Returns:
        None, or why the loss cannot be computed.

    Raises:
        DataError: the model cannot take this data.
    """
    model = model if model is not None else setup.reference_model
    rows = np.arange(min(8, setup.n_train))
    x, y = setup.model_rows(rows)
    try:
        pred = model(x, training=False)
    except Exception as exc:
        raise DataError(
            f"the model cannot take the training data: it expects {_model_inputs_text(model)}, "
            f"and x has shape {_shape_text(x)} ({_first_line(exc)})"
        ) from exc
    try:
        model.compute_loss(x=x, y=y, y_pred=pred)
    except Exception as exc:
        return (f"the loss cannot compare the labels with the model's output: y has shape "
                f"{_shape_text(y)}, the output {_shape_text(pred)} ({_first_line(exc)})")
    return None


def _keras_split(total: int, fraction: float) -> tuple[slice, slice]:
    """The rows `validation_split` keeps and holds out: the last part, unshuffled, as Keras."""
    if not 0 < fraction < 1:
        raise SetupError(f"validation_split must be in (0, 1). Received: {fraction}")
    split_at = int(np.ceil(total * (1.0 - fraction)))
    if split_at < 2 or total - split_at < 1:
        raise DataError(f"validation_split={fraction} leaves no rows on one side of {total}")
    return slice(0, split_at), slice(split_at, None)


def _audit_view(model: Any, x: Any, what: str) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """What the data checks read for inputs that are not one numeric array.

    Strings go through the model's own `TextVectorization` (the checks see token ids); several
    inputs become one table with a column per feature, named after its input; an input with
    more than one feature axis (an image) is audited alone when it is the only numeric one.
    """
    if not isinstance(x, (Mapping, list)):
        vectorizer = vectorizes_text(model)
        if vectorizer is None:
            raise DataError(
                f"{what} is text (dtype {np.asarray(x).dtype}), but the model does not start "
                "with a keras.layers.TextVectorization layer to turn it into numbers"
            )
        return np.asarray(vectorizer(np.asarray(x)).numpy()), None
    items = list(x.items()) if isinstance(x, Mapping) else [
        (f"input{i}", v) for i, v in enumerate(x)]
    columns, names, images = [], [], []
    for name, value in items:
        if is_strings(value):
            continue
        arr = _to_array(value, f"{what}[{name!r}]")
        if arr.ndim > 2:
            images.append(arr)
            continue
        flat = arr.reshape(len(arr), -1).astype("float32")
        columns.append(flat)
        names += [str(name)] if flat.shape[1] == 1 else [
            f"{name}[{i}]" for i in range(flat.shape[1])]
    if columns:
        return np.concatenate(columns, axis=1), tuple(names)
    if images:
        return images[0], None
    raise DataError(f"{what} has no numeric input for fitdoctor to read")


def _sample_stream(obj: Any, kind: str, what: str, fit: Mapping[str, Any], seed: int,
                   steps_key: str):
    steps = fit.get(steps_key)
    try:
        return draw_sample(obj, kind, max_rows=SAMPLE_ROWS, seed=seed,
                           max_batches=int(steps) if steps else None, what=what)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"reading {what} ({kind}) raised {type(exc).__name__}: "
                        f"{_first_line(exc)}") from exc


def _from_stream(cls, build_model, model, train_data, validation_data, fit, kind, *, source,
                 seed, search_space, vocabulary, reload) -> Setup:
    """A `Setup` over a stream: `fit` gets the stream, the checks a bounded sample of it."""
    if kind == "generator" and reload is None:
        raise DataError(
            "a generator runs once, and fitdoctor trains several times: pass a function that "
            "makes it (train_data=make_batches), or a keras.utils.PyDataset"
        )
    if fit.get("validation_split"):
        raise DataError(f"validation_split does not apply to a {kind} (Keras refuses it too); "
                        "give validation data as a second stream or (x_val, y_val)")
    endless = kind == "tf.data" and int(train_data.cardinality()) == -1  # INFINITE_CARDINALITY
    if endless and not fit.get("steps_per_epoch"):
        raise DataError("the training dataset repeats forever and FIT has no steps_per_epoch: "
                        "Keras would train on it forever; set FIT['steps_per_epoch']")
    sample = _sample_stream(train_data, kind, "training data", fit, seed, "steps_per_epoch")
    if kind == "generator" and not sample.complete and not fit.get("steps_per_epoch"):
        raise DataError(f"the generator did not end within {SAMPLE_ROWS} rows and FIT has no "
                        "steps_per_epoch: Keras would train on it forever; set "
                        "FIT['steps_per_epoch']")
    if validation_data is None:
        if not sample.complete:
            raise DataError(
                f"no validation data, and the training {kind} holds more than the "
                f"{SAMPLE_ROWS} rows fitdoctor reads at once: return validation data from "
                "load_data() as a second stream or (x_val, y_val)"
            )
        # All of it is in the sample: hold out part of it and train on the rest as arrays.
        return _assemble(cls, build_model, model, sample.x, sample.y, None, fit, split=0.0,
                         seed=seed, source=source, search_space=search_space,
                         vocabulary=vocabulary, names=None)
    if input_kind(validation_data) == "pair":
        validation = _pair(validation_data, "validation_data")
        feed_val = validation
    else:
        val = _sample_stream(validation_data, input_kind(validation_data), "validation data",
                             fit, seed + 1, "validation_steps")
        validation, feed_val = (val.x, val.y), validation_data
    one_shot = kind == "generator"
    feed = Feed(kind, None if one_shot else train_data, None, feed_val,
                reload if one_shot else None, complete=sample.complete,
                rows_seen=int(len(sample.y)), batch_size=sample.batch_size,
                steps=steps_of(train_data, kind))
    return _assemble(cls, build_model, model, sample.x, sample.y, validation, fit, split=0.0,
                     seed=seed, source=source, search_space=search_space,
                     vocabulary=vocabulary, names=None, feed=feed)


def _validate_fit(fit: Mapping[str, Any]) -> None:
    epochs = fit.get("epochs", 1)
    if not isinstance(epochs, int) or epochs < 1:
        raise SetupError(f"FIT['epochs'] must be a positive integer. Received: epochs={epochs!r}")
    batch_size = fit.get("batch_size", 32)
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise SetupError(
            f"FIT['batch_size'] must be a positive integer. Received: batch_size={batch_size!r}"
        )


def _inputs(obj: Any, what: str) -> Any:
    """Inputs as arrays: one array, a dict or list of arrays (several inputs), or strings."""
    if isinstance(obj, Mapping):
        return {k: _inputs(v, f"{what}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, list) and obj and hasattr(obj[0], "shape"):
        return [_inputs(v, f"{what}[{i}]") for i, v in enumerate(obj)]
    if is_strings(obj if hasattr(obj, "dtype") else np.asarray(obj)):
        return np.asarray(obj)
    return _to_array(obj, what)


def _pair(data: Any, what: str) -> tuple[Any, np.ndarray]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise DataError(f"{what} must be a pair (x, y); received {type(data).__name__}")
    x = _inputs(data[0], f"{what} x")
    y = _to_array(data[1], f"{what} y")
    arrays = list(x.values()) if isinstance(x, dict) else x if isinstance(x, list) else [x]
    if not arrays or any(a.ndim == 0 for a in arrays) or y.ndim == 0:
        raise DataError(f"{what}: x and y must have a sample axis; shapes {_shape_text(x)} and "
                        f"{y.shape}")
    for a in arrays:
        if len(a) != len(y):
            raise DataError(
                f"{what}: x and y have different lengths: x has {len(a)} rows, y has {len(y)}"
            )
    if len(y) < 2:
        raise DataError(f"{what} has {len(y)} row(s); fitdoctor needs at least 2")
    return x, y


def _held_out_rows(audit_x: np.ndarray, y: np.ndarray, seed: int):
    """fitdoctor's own 20 % holdout, split by duplicate groups so it creates no leakage."""
    from fitdoctor.holdout import split_by_duplicates

    return split_by_duplicates(audit_x, y, 0.2, seed)


def _assemble(cls, build_model, model, x, y, validation, fit, *, split, seed, source,
              search_space, vocabulary, names, feed=None) -> Setup:
    """The `Setup` for in-memory rows: holdout, the checks' view of the inputs, validation.

    Args:
        x, y: Training inputs as the model takes them, and labels.
        validation: `(x_val, y_val)` as the model takes them, or None to split them off: the
            last `split` of the rows as Keras' `validation_split` does, or else 20 % by
            duplicate groups.
        feed: A stream's `Feed`, when the rows are its sample. Defaults to None.
    """
    structured = isinstance(x, (Mapping, list)) or is_strings(x)
    audit_x, audit_names = _audit_view(model, x, "training data x") if structured else (x, names)
    val_source = "given"
    if validation is None:
        if split:
            train_rows, val_rows = _keras_split(n_rows(x), split)
            val_source = "validation_split"
        else:
            train_rows, val_rows = _held_out_rows(audit_x, y, seed)
            val_source = "held_out"
        validation = (take_rows(x, val_rows), y[val_rows])
        audit_val = audit_x[val_rows]
        x, y, audit_x = take_rows(x, train_rows), y[train_rows], audit_x[train_rows]
    else:
        audit_val = (_audit_view(model, validation[0], "validation data x")[0] if structured
                     else validation[0])
    if audit_x.shape[1:] != audit_val.shape[1:]:
        raise DataError(
            f"training and validation features differ in shape: x_train {audit_x.shape[1:]} "
            f"vs x_val {audit_val.shape[1:]}"
        )
    if structured and feed is None:
        feed = Feed("inputs", x, y, validation, complete=True, rows_seen=n_rows(x))
    words = _validate_vocabulary(vocabulary, audit_x, audit_val)
    task = infer_task(y, getattr(model, "loss", None))
    setup = cls(build_model, audit_x, y, audit_val, validation[1], fit, task, source, val_source,
                search_space, audit_names, words, feed)
    setup.__dict__["reference_model"] = model  # built once, read by every check
    loss_error = smoke_test(setup, model)
    if loss_error is not None:
        setup = dataclasses.replace(setup, loss_error=loss_error)
        setup.__dict__["reference_model"] = model
    return setup


def load_setup(path: str | Path, *, seed: int = 0, script_args: Sequence[str] = (),
               fit_call: int = 1) -> Setup:
    """Load a setup file, or an unmodified training script.

    A setup file defines `load_data()`, `build_model()` and optionally `FIT`; it may also set
    `SEARCH_SPACE` (for `tune`) and, for text given as token ids, `VOCABULARY` (the word behind
    each id, as `TextVectorization.get_vocabulary()` lists them). It runs with its own path as
    `__file__` and its folder on `sys.path`, so it can import modules beside it and read data
    relative to itself.

    Instead of `build_model()`, a file may set `MODEL` to a compiled model instance: each run
    trains a clone of it with the same compile configuration, never the instance itself.

    A file that defines neither function is run as a script with `keras.Model.fit`
    intercepted (`fitdoctor.script`): its `fit_call`-th `fit` call becomes the setup, and
    neither that fit nor the rest of the script runs.

    Args:
        path: The setup file or script.
        seed: Seed of fitdoctor's own holdout and sampling. Defaults to 0.
        script_args: The script's command-line arguments. Defaults to none.
        fit_call: Which `fit` call of a script to diagnose, from 1. Defaults to 1.
    """
    from fitdoctor.script import capture_fit, intercepting_fit, script_argv

    path = Path(path)
    if not path.exists():
        raise SetupError(f"setup file not found: {path}")
    if path.is_dir() or path.suffix != ".py":
        raise SetupError(f"setup must be a Python file (.py); received {path}")
    folder = str(path.resolve().parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    namespace: dict[str, Any] = {}
    try:
        # a script may parse its arguments and train at import
        with script_argv(path, script_args), intercepting_fit(fit_call) as captured:
            namespace = runpy.run_path(str(path), run_name="__fitdoctor_setup__")
    except SystemExit:  # a script that parses its arguments at import: run it with them
        pass
    except SyntaxError as exc:
        raise SetupError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from exc
    except Exception as exc:
        raise SetupError(f"{path}: running the file raised {type(exc).__name__}: {exc}") from exc
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)
    if captured.call is None and callable(namespace.get("load_data")) and namespace.get(
            "MODEL") is not None and not callable(namespace.get("build_model")):
        from fitdoctor.script import builder_for

        namespace["build_model"] = builder_for(namespace["MODEL"])  # clones, never trained
    if captured.call is None and not all(
            callable(namespace.get(n)) for n in ("load_data", "build_model")):
        if any(callable(namespace.get(n)) for n in ("load_data", "build_model")):
            missing = [n for n in ("load_data", "build_model") if not callable(namespace.get(n))]
            raise SetupError(f"{path} does not define {' and '.join(f'{m}()' for m in missing)}")
        captured.call = capture_fit(path, script_args, call_number=fit_call)
    if captured.call is not None:
        return _from_fit_call(path, captured.call, script_args, fit_call, seed)
    try:
        data = namespace["load_data"]()
    except Exception as exc:
        raise SetupError(f"{path}: load_data() raised {type(exc).__name__}: {exc}") from exc
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise SetupError(
            f"{path}: load_data() must return ((x_train, y_train), (x_val, y_val)); "
            f"received {type(data).__name__}"
        )
    fit = namespace.get("FIT", {})
    if not isinstance(fit, Mapping):
        raise SetupError(f"{path}: FIT must be a dict; received {type(fit).__name__}")
    space = namespace.get("SEARCH_SPACE")
    load_data = namespace["load_data"]

    def reload() -> tuple[Any, Any]:
        fresh = load_data()
        return fresh[0], fresh[1]

    return Setup.from_arrays(
        namespace["build_model"], data[0], data[1], fit,
        source=str(path), seed=seed, search_space=space, vocabulary=namespace.get("VOCABULARY"),
        reload=reload,
    )


def _from_fit_call(path: Path, call: Any, script_args: Sequence[str], fit_call: int,
                   seed: int) -> Setup:
    """The setup a script's intercepted `fit` call describes (a one-shot generator is made
    afresh by running the script again up to that call)."""
    from fitdoctor.script import builder_for, capture_fit

    def reload() -> tuple[Any, Any]:
        again = capture_fit(path, script_args, call_number=fit_call)
        return again.train_data, again.validation_data

    return Setup.from_arrays(builder_for(call.model), call.train_data, call.validation_data,
                             call.fit, source=str(path), seed=seed, reload=reload)
