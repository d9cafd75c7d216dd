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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fitdoctor.errors import DataError, SetupError

logger = logging.getLogger(__name__)

#: `model.fit` arguments fitdoctor sets itself; the setup's values for them are ignored.
_OWNED_FIT_KEYS = ("x", "y", "validation_data", "validation_split", "verbose")

TASKS = ("binary", "multiclass", "multilabel", "regression")

_REGRESSION_LOSSES = {
    "mean_squared_error", "mse", "mean_absolute_error", "mae", "huber", "huber_loss", "log_cosh",
    "logcosh", "mean_absolute_percentage_error", "mape", "mean_squared_logarithmic_error", "msle",
    "poisson", "cosine_similarity",
}


def loss_name(loss: Any) -> str:
    """Canonical snake_case name of a compiled loss (string, function or `keras.losses.Loss`)."""
    if loss is None:
        return ""
    if isinstance(loss, str):
        return loss.lower()
    cls_name = getattr(loss, "name", None) or getattr(loss, "__name__", None)
    if cls_name is None:
        cls_name = type(loss).__name__
    name = str(cls_name)
    snake = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return snake.lower()


def loss_from_logits(loss: Any) -> bool:
    """Whether a compiled loss was built with `from_logits=True`."""
    config = getattr(loss, "get_config", None)
    if callable(config):
        try:
            return bool(config().get("from_logits", False))
        except Exception:  # a custom loss whose config we cannot read
            return False
    return False


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
    if name in _REGRESSION_LOSSES or not integral:
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
    """Whether the first layer of `model` past its inputs is a `keras.layers.Embedding`."""
    import keras

    layers = [la for la in getattr(model, "layers", []) if type(la).__name__ != "InputLayer"]
    return bool(layers) and isinstance(layers[0], keras.layers.Embedding)


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
class Setup:
    """A training setup: model builder, data and `fit` arguments.

    Build one with `Setup.from_arrays` or `load_setup`; both validate. The arrays are never
    written to: fitdoctor reads them and trains fresh models built by `build_model`.

    Args:
        build_model: Zero-argument callable returning a compiled `keras.Model`.
        x_train: Training features, first axis = samples.
        y_train: Training labels.
        x_val: Validation features.
        y_val: Validation labels.
        fit: Keyword arguments for `model.fit` (epochs, batch_size, callbacks, ...).
        task: What the labels describe (inferred when not given).
        source: Where the setup came from (a file path or `"python"`).
        val_source: `"given"` or `"held_out"` (fitdoctor split it off the training data).
        search_space: Optional search space for `tune`. Defaults to None.
        feature_names: Column names when the features came as a DataFrame, so findings can
            name them. Defaults to None (features are then called `x[i]`).
        vocabulary: For text given as token ids, the word behind each id (index = token id,
            as `TextVectorization.get_vocabulary()` lists them). Defaults to None.
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

    @property
    def epochs(self) -> int:
        return int(self.fit.get("epochs", 1))

    @property
    def batch_size(self) -> int:
        return int(self.fit.get("batch_size") or 32)

    @property
    def n_train(self) -> int:
        return int(len(self.x_train))

    @property
    def steps_per_epoch(self) -> int:
        return max(1, int(np.ceil(self.n_train / self.batch_size)))

    @functools.cached_property
    def token_inputs(self) -> bool:
        """Whether the inputs are text given as token ids to an `Embedding` first layer.

        That is 2-D non-negative whole numbers, and a model whose first layer past its inputs is
        an Embedding (built once to tell, only when the first rows look like token ids). Checks
        that read inputs as numeric features (scale, outliers, relevance, shift) stay silent on
        token ids: id 812 is not "larger" than id 3.
        """
        head = self.x_train[:1000]  # cheap rejection of most tables before a model is built
        return (is_token_ids(head) and embeds_first(self.build_model())
                and is_token_ids(self.x_train))

    def fit_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """The user's `fit` arguments, minus those fitdoctor owns, with overrides applied."""
        kwargs = {k: v for k, v in self.fit.items() if k not in _OWNED_FIT_KEYS}
        kwargs.update(overrides)
        return kwargs

    def replace(self, **changes: Any) -> Setup:
        """A copy with some fields changed (used by remedies; the original stays as it was)."""
        return dataclasses.replace(self, **changes)

    def summary(self) -> dict[str, Any]:
        return {
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

    @classmethod
    def from_arrays(
        cls,
        build_model: Callable[..., Any],
        train_data: tuple[Any, Any],
        validation_data: tuple[Any, Any] | None = None,
        fit: Mapping[str, Any] | None = None,
        *,
        source: str = "python",
        seed: int = 0,
        search_space: Mapping[str, Any] | None = None,
        vocabulary: Sequence[str] | None = None,
    ) -> Setup:
        """Validate user data and wrap it in a `Setup`.

        When `validation_data` is None, 20 % of the training rows (or `fit["validation_split"]`)
        are held out, stratified for classification, and the report says so. For text given as
        token ids, `vocabulary` names the word behind each id (`get_vocabulary()` of your
        `TextVectorization` layer); text augmentation needs it to find synonyms.
        """
        if not callable(build_model):
            raise SetupError(f"build_model must be callable; received {type(build_model).__name__}")
        fit = dict(fit or {})
        _validate_fit(fit)
        x, y = _pair(train_data, "train_data")
        val_source = "given"
        if validation_data is None:
            fraction = float(fit.get("validation_split") or 0.2)
            x, y, x_val, y_val = _hold_out(x, y, fraction, seed)
            val_source = "held_out"
        else:
            x_val, y_val = _pair(validation_data, "validation_data")
        if x.shape[1:] != x_val.shape[1:]:
            raise DataError(
                f"training and validation features differ in shape: x_train {x.shape[1:]} vs "
                f"x_val {x_val.shape[1:]}"
            )
        words = _validate_vocabulary(vocabulary, x, x_val)
        task = infer_task(y, _peek_loss(build_model))
        return cls(build_model, x, y, x_val, y_val, fit, task, source, val_source, search_space,
                   _column_names(train_data[0]), words)


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


def _peek_loss(build_model: Callable[..., Any]) -> Any:
    """Build the model once to validate it and read its loss. Raises `SetupError` if unusable."""
    try:
        model = build_model()
    except Exception as exc:
        raise SetupError(f"build_model() raised {type(exc).__name__}: {exc}") from exc
    import keras

    if not isinstance(model, keras.Model):
        raise SetupError(
            f"build_model() must return a keras.Model; received {type(model).__name__}"
        )
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise SetupError(
            "build_model() returned an uncompiled model; call model.compile(...) in it"
        )
    return getattr(model, "loss", None)


def _validate_fit(fit: Mapping[str, Any]) -> None:
    epochs = fit.get("epochs", 1)
    if not isinstance(epochs, int) or epochs < 1:
        raise SetupError(f"FIT['epochs'] must be a positive integer. Received: epochs={epochs!r}")
    batch_size = fit.get("batch_size", 32)
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise SetupError(
            f"FIT['batch_size'] must be a positive integer. Received: batch_size={batch_size!r}"
        )


def _pair(data: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise DataError(f"{what} must be a pair (x, y); received {type(data).__name__}")
    x = _to_array(data[0], f"{what} x")
    y = _to_array(data[1], f"{what} y")
    if x.ndim == 0 or y.ndim == 0:
        raise DataError(f"{what}: x and y must have a sample axis; shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise DataError(
            f"{what}: x and y have different lengths: x has {len(x)} rows, y has {len(y)}"
        )
    if len(x) < 2:
        raise DataError(f"{what} has {len(x)} row(s); fitdoctor needs at least 2")
    return x, y


def _hold_out(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    from fitdoctor.holdout import split_by_duplicates

    if not 0 < fraction < 1:
        raise SetupError(f"validation_split must be in (0, 1). Received: {fraction}")
    train, val = split_by_duplicates(x, y, fraction, seed)
    return x[train], y[train], x[val], y[val]


def load_setup(path: str | Path, *, seed: int = 0) -> Setup:
    """Load a setup file: it defines `load_data()`, `build_model()` and optionally `FIT`.

    It may also set `SEARCH_SPACE` (for `tune`) and, for text given as token ids, `VOCABULARY`
    (the word behind each id, as `TextVectorization.get_vocabulary()` lists them). The file
    runs with its own path as `__file__` and its folder on `sys.path`, so it can import modules
    beside it and read data relative to itself.
    """
    path = Path(path)
    if not path.exists():
        raise SetupError(f"setup file not found: {path}")
    if path.is_dir() or path.suffix != ".py":
        raise SetupError(f"setup must be a Python file (.py); received {path}")
    folder = str(path.resolve().parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        namespace = runpy.run_path(str(path), run_name="__fitdoctor_setup__")
    except SyntaxError as exc:
        raise SetupError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from exc
    except Exception as exc:
        raise SetupError(f"{path}: running the file raised {type(exc).__name__}: {exc}") from exc
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)
    missing = [n for n in ("load_data", "build_model") if not callable(namespace.get(n))]
    if missing:
        raise SetupError(f"{path} does not define {' and '.join(f'{m}()' for m in missing)}")
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
    return Setup.from_arrays(
        namespace["build_model"], data[0], data[1], fit,
        source=str(path), seed=seed, search_space=space, vocabulary=namespace.get("VOCABULARY"),
    )
