"""Setups from data files: a CSV/Parquet table with a target column, or a folder of images.

`setup_from_table` and `setup_from_images` read the data, encode it the way a first model
would take it, and pair it with a model: the user's saved compiled model (`model_path`) or one
fitdoctor builds (`fitdoctor.default_models`). Table features keep their missing values, so the
data audit sees them; categorical columns are one-hot encoded (ordinal codes above
`MAX_ONE_HOT` categories), with the categories read from the training file only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fitdoctor.errors import DataError
from fitdoctor.setup import Setup

logger = logging.getLogger(__name__)

#: Categorical columns with more categories than this are ordinal-encoded instead of one-hot.
MAX_ONE_HOT = 20
#: A text column whose values are at least this share numbers is a mixed-type error.
MIXED_SHARE = 0.9
#: File suffixes read as images.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
#: `fit` arguments for setups built from data files.
DEFAULT_FIT = {"epochs": 20, "batch_size": 32}


def read_table(path: str | Path) -> Any:
    """Read a CSV or Parquet file into a DataFrame, with a one-line error naming the file."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty") from None
    except Exception as exc:
        raise DataError(f"{path} could not be read: {type(exc).__name__}: {exc}") from None
    if frame.empty or len(frame.columns) == 0:
        raise DataError(f"{path} has no rows")
    return frame


def _check_mixed(frame: Any, path: Path) -> None:
    """Reject text columns whose values are numbers but for a few: a typo or a missing marker.

    Columns that are at least `MIXED_SHARE` numbers are errors; columns with fewer numbers
    (codes such as Titanic's tickets, `"A/5 21171"` beside `"113803"`) are categories.
    """
    import pandas as pd

    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        present = series.dropna()
        if present.empty:
            continue
        as_number = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
        numeric = as_number.notna()
        if MIXED_SHARE <= numeric.mean() < 1:
            row = present.index[~numeric.to_numpy()][0]
            raise DataError(
                f"{path}: column {column!r} mixes numbers and text (row {row} holds "
                f"{present[row]!r}); fix the value or leave missing values empty"
            )


def encode_features(train: Any, others: list[Any]) -> tuple[Any, list[Any]]:
    """One-hot (or ordinal) encode categorical columns, with categories from `train` only.

    Missing categorical values stay missing (NaN in every column of that feature) so the audit
    reports them. Returns float32 DataFrames with readable column names.
    """
    import pandas as pd

    def encode(frame: Any, column: str, categories: list[Any]) -> Any:
        values = frame[column]
        missing = values.isna().to_numpy()
        if len(categories) > MAX_ONE_HOT:
            codes = pd.Categorical(values, categories=categories).codes.astype("float32")
            codes[missing] = np.nan
            return pd.DataFrame({column: codes}, index=frame.index)
        out = {}
        for c in categories:
            col = (values == c).to_numpy(dtype="float32")
            col[missing] = np.nan
            out[f"{column}={c}"] = col
        return pd.DataFrame(out, index=frame.index)

    def transform(frame: Any) -> Any:
        parts = []
        for column in train.columns:
            if column in categorical:
                parts.append(encode(frame, column, categorical[column]))
            else:
                parts.append(frame[[column]].astype("float32"))
        result = pd.concat(parts, axis=1)
        result.columns = [str(c) for c in result.columns]
        return result

    categorical = {}
    for column in train.columns:
        series = train[column]
        if pd.api.types.is_bool_dtype(series):
            continue
        if not pd.api.types.is_numeric_dtype(series):
            categorical[column] = sorted(series.dropna().astype(str).unique().tolist())
            train = train.assign(**{column: series.where(series.isna(), series.astype(str))})
    others = [o.assign(**{c: o[c].where(o[c].isna(), o[c].astype(str)) for c in categorical})
              for o in others]
    return transform(train), [transform(o) for o in others]


def _split_target(frame: Any, target: str, path: Path) -> tuple[Any, Any]:
    if target not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:10]))
        raise DataError(f"{path} has no column {target!r}; its columns are: {shown}")
    y = frame[target]
    missing = y.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"{path}: target column {target!r} is empty in {int(missing.sum())} row(s) "
            f"(first: row {int(np.flatnonzero(missing)[0])}); drop or label them"
        )
    return frame.drop(columns=[target]), y


def _encode_target(y_train: Any, others: list[Any], target: str, path: Path
                   ) -> tuple[np.ndarray, list[np.ndarray], tuple[str, ...] | None]:
    """Class ids for text or integer labels (sorted classes), floats for continuous targets."""
    import pandas as pd

    values = y_train.unique()
    if len(values) < 2:
        raise DataError(
            f"{path}: target column {target!r} has a single value ({values[0]!r}); a model needs "
            "at least two classes or a varying target"
        )
    numeric = pd.api.types.is_numeric_dtype(y_train) or pd.api.types.is_bool_dtype(y_train)
    if numeric:
        as_float = y_train.to_numpy(dtype="float64")
        integral = np.allclose(as_float, np.round(as_float))
        if not integral or len(values) > 50:
            return as_float.astype("float32"), [o.to_numpy(dtype="float32") for o in others], None
    classes = sorted(map(str, values))
    lookup = {c: i for i, c in enumerate(classes)}

    def ids(series: Any, where: str) -> np.ndarray:
        text = series.astype(str)
        unknown = sorted(set(text) - set(lookup))
        if unknown:
            raise DataError(
                f"{where}: target column {target!r} has classes not in the training data: "
                f"{', '.join(unknown[:5])}"
            )
        return text.map(lookup).to_numpy(dtype="int64")

    if numeric and all(c.lstrip("-").isdigit() for c in classes):
        as_int = y_train.to_numpy(dtype="int64")
        if as_int.min() >= 0:  # already class ids: keep them as they are
            return as_int, [o.to_numpy(dtype="int64") for o in others], None
    return ids(y_train, str(path)), [ids(o, "validation data") for o in others], tuple(classes)


def setup_from_table(
    path: str | Path,
    target: str,
    *,
    val_path: str | Path | None = None,
    model_path: str | Path | None = None,
    fit: dict[str, Any] | None = None,
    seed: int = 0,
) -> Setup:
    """Build a setup from a CSV or Parquet table and the name of its target column.

    Args:
        path: Training table (`.csv` or `.parquet`).
        target: Column holding the label.
        val_path: Validation table with the same columns. Defaults to None (20 % held out).
        model_path: A saved compiled model (`.keras`) to diagnose. Defaults to None
            (fitdoctor builds a small MLP with a Normalization layer).
        fit: `model.fit` arguments. Defaults to `{"epochs": 20, "batch_size": 32}`.
        seed: Seed for the hold-out split and the default model. Defaults to 0.
    """
    path = Path(path)
    frame = read_table(path)
    x_frame, y_series = _split_target(frame, target, path)
    if x_frame.shape[1] == 0:
        raise DataError(f"{path} has no feature columns besides the target {target!r}")
    _check_mixed(x_frame, path)
    others_x, others_y = [], []
    if val_path is not None:
        val_path = Path(val_path)
        val_frame = read_table(val_path)
        vx, vy = _split_target(val_frame, target, val_path)
        missing = [c for c in x_frame.columns if c not in vx.columns]
        if missing:
            raise DataError(f"{val_path} lacks column(s) {', '.join(map(str, missing[:5]))}")
        _check_mixed(vx[x_frame.columns], val_path)
        others_x, others_y = [vx[x_frame.columns]], [vy]
    x_train, others_x = encode_features(x_frame, others_x)
    y_train, others_y, classes = _encode_target(y_series, others_y, target, path)
    if classes:
        logger.info("target %r classes: %s", target, ", ".join(classes))
    validation = (others_x[0], others_y[0]) if others_x else None
    build = _model_builder(model_path, "table", x_train.to_numpy(), y_train)
    return Setup.from_arrays(build, (x_train, y_train), validation, fit or dict(DEFAULT_FIT),
                             source=str(path), seed=seed)


def _class_folders(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"image folder not found: {folder}")
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{folder} has no class sub-folders (expected {folder}/CLASS/image.png)")
    return classes


def read_image_folder(folder: str | Path, image_size: tuple[int, int] = (64, 64),
                      classes: list[str] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read `folder/CLASS/*.png|jpg` into uint8-valued float32 arrays (N, H, W, 3) and class ids.

    Args:
        folder: Folder with one sub-folder per class.
        image_size: (height, width) every image is resized to. Defaults to (64, 64).
        classes: Class names to use (validation folders reuse the training classes).
            Defaults to None (the sub-folder names, sorted).
    """
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    found = {p.name: p for p in _class_folders(folder)}
    if classes is None:
        classes = sorted(found)
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise DataError(f"{folder} has class folders not in the training data: {unknown[:5]}")
    images, labels = [], []
    for label, name in enumerate(classes):
        if name not in found:
            continue
        for file in sorted(found[name].iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(file) as img:
                    img = img.convert("RGB").resize((image_size[1], image_size[0]))
                    images.append(np.asarray(img, dtype="float32"))
            except (UnidentifiedImageError, OSError) as exc:
                raise DataError(f"cannot read image {file}: {exc}") from None
            labels.append(label)
    if not images:
        raise DataError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return np.stack(images), np.asarray(labels, dtype="int64"), list(classes)


def setup_from_images(
    folder: str | Path,
    *,
    val_folder: str | Path | None = None,
    image_size: tuple[int, int] = (64, 64),
    model_path: str | Path | None = None,
    fit: dict[str, Any] | None = None,
    seed: int = 0,
) -> Setup:
    """Build a setup from an image folder with one sub-folder per class.

    When `folder` holds `train/` and `val/` (or `validation/`) sub-folders, they are the two
    splits. Pixels are kept as 0-255 values: the default model rescales them itself.

    Args:
        folder: Folder of class sub-folders (or of `train/` and `val/`).
        val_folder: Validation folder with the same classes. Defaults to None.
        image_size: (height, width) to resize to. Defaults to (64, 64).
        model_path: A saved compiled model (`.keras`). Defaults to None (a small CNN).
        fit: `model.fit` arguments. Defaults to `{"epochs": 20, "batch_size": 32}`.
        seed: Seed for the hold-out split. Defaults to 0.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"image folder not found: {folder}")
    if val_folder is None and (folder / "train").is_dir():
        for name in ("val", "validation", "test"):
            if (folder / name).is_dir():
                folder, val_folder = folder / "train", folder / name
                break
    x, y, classes = read_image_folder(folder, image_size)
    if len(classes) < 2:
        raise DataError(f"{folder} has a single class folder ({classes[0]}); need 2 or more")
    validation = None
    if val_folder is not None:
        xv, yv, _ = read_image_folder(val_folder, image_size, classes)
        validation = (xv, yv)
    build = _model_builder(model_path, "image", x, y)
    return Setup.from_arrays(build, (x, y), validation, fit or dict(DEFAULT_FIT),
                             source=str(folder), seed=seed)


def _model_builder(model_path: str | Path | None, kind: str, x: np.ndarray, y: np.ndarray
                   ) -> Callable[[], Any]:
    from fitdoctor import default_models

    if model_path is not None:
        return default_models.saved_model_builder(model_path)
    if kind == "image":
        return default_models.image_classifier(x.shape[1:], int(y.max()) + 1)
    return default_models.tabular_model(x, y)

