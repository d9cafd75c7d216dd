"""Setups from data files: a CSV/Parquet table with a target column, or a folder of images.

`setup_from_table` and `setup_from_images` read the data, encode it the way a first model
would take it, and pair it with a model: the user's saved compiled model (`model_path`) or one
fitdoctor builds (`fitdoctor.default_models`).

Tables: cells holding a missing-value marker (`?`, `NA`, `null`, ... see `MISSING_MARKERS`) are
read as missing, and a warning names the columns that had them. Features keep their missing
values, so the data audit sees them (fitdoctor's own model fills them itself). Columns unique
per row (IDs, names) and free text are left out, with a warning. Categorical columns are one-hot
encoded (ordinal codes above `MAX_ONE_HOT` categories), with the categories read from the
training file only. Labels are encoded the way the model's loss takes them: class ids for a
sparse loss, one-hot rows for `categorical_crossentropy`, 0/1 for a binary loss.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from fitdoctor.errors import DataError
from fitdoctor.keras_vocab import full_loss_name
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
#: Cell values read as missing, compared after stripping spaces and ignoring case (UCI Adult
#: writes `" ?"`). Empty cells are missing too.
MISSING_MARKERS = frozenset({"", "?", "na", "n/a", "nan", "-nan", "null", "none", "<na>", "#n/a"})
#: Columns are screened for IDs and free text only in tables with at least this many rows.
MIN_ROWS_TO_SCREEN = 20
#: A text column with more distinct values than this share of its rows is free text.
FREE_TEXT_SHARE = 0.5
#: A whole-number column unique per row whose values span at most this many times the number
#: of rows is a row ID (1..n, shuffled or not); wider spans are measurements.
ID_SPAN_FACTOR = 2.0
#: A classification target needs at least this many rows per class on average.
MIN_ROWS_PER_CLASS = 2
#: Losses that take one-hot label rows; sparse losses take class ids.
ONE_HOT_LOSSES = frozenset({"categorical_crossentropy", "categorical_focal_crossentropy",
                            "categorical_hinge", "kl_divergence", "kld",
                            "kullback_leibler_divergence"})
#: Losses that take 0/1 labels, one column per output unit.
BINARY_LOSSES = frozenset({"binary_crossentropy", "binary_focal_crossentropy", "hinge",
                           "squared_hinge"})


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def read_table(path: str | Path) -> Any:
    """Read a CSV or Parquet file into a DataFrame, with a one-line error naming the file.

    A CSV is read as UTF-8, else as Latin-1 (with a warning). Missing-value markers
    (`MISSING_MARKERS`) become NaN, and a warning names the columns that had them. A CSV whose
    last line stops mid-row (a cut-off download or copy) is an error.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = _read_csv(path)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty") from None
    except Exception as exc:
        raise DataError(f"{path} could not be read: {type(exc).__name__}: {_one_line(exc)}"
                        ) from None
    if frame.empty or len(frame.columns) == 0:
        raise DataError(f"{path} has no rows")
    return _markers_to_missing(frame, path)


def _read_csv(path: Path) -> Any:
    import pandas as pd

    options = {"skipinitialspace": True, "keep_default_na": False, "na_values": [""],
               "low_memory": False}  # one pass: no DtypeWarning for columns typed per chunk
    try:
        frame, encoding = pd.read_csv(path, encoding="utf-8", **options), "utf-8"
    except UnicodeDecodeError:
        frame, encoding = pd.read_csv(path, encoding="latin-1", **options), "latin-1"
        logger.warning("%s is not UTF-8; read it as Latin-1", path)
    _check_complete(path, len(frame), len(frame.columns), encoding)
    return frame


def _check_complete(path: Path, n_rows: int, n_columns: int, encoding: str) -> None:
    """Reject a CSV whose last line has fewer fields than the header and no line end."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - 65536))
        tail = handle.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return
    last = tail.splitlines()[-1].decode(encoding, errors="replace")
    fields = next(csv.reader([last], skipinitialspace=True), [])
    if len(fields) < n_columns:
        raise DataError(
            f"{path} ends mid-row: its last line (line {n_rows + 1}) has {len(fields)} of "
            f"{n_columns} fields and no line end; was the file cut short?"
        )


def _markers_to_missing(frame: Any, path: Path) -> Any:
    """Strip text cells, turn missing-value markers into NaN, and re-read numeric columns.

    A column of numbers and markers (`"39"`, `"?"`) becomes a numeric column with NaN. Logs a
    warning naming, for each marker found, the columns that held it and how often.
    """
    import pandas as pd

    found: dict[str, dict[str, int]] = {}
    changed = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        values = [v.strip() if isinstance(v, str) else v for v in series.to_numpy(dtype=object)]
        marker = np.array([isinstance(v, str) and v.lower() in MISSING_MARKERS for v in values])
        for text in (values[i] for i in np.flatnonzero(marker)):
            shown = text if text else "empty text"
            per_column = found.setdefault(shown, {})
            per_column[str(column)] = per_column.get(str(column), 0) + 1
        cleaned = pd.Series(np.where(marker, np.nan, np.asarray(values, dtype=object)),
                            index=frame.index, dtype=object)
        present = cleaned.notna()
        as_number = pd.to_numeric(cleaned.where(present, None), errors="coerce")
        if present.any() and as_number.notna().sum() == present.sum():
            changed[column] = as_number
        else:
            changed[column] = cleaned
    for shown, per_column in found.items():
        listed = sorted(per_column.items(), key=lambda kv: -kv[1])
        names = ", ".join(f"{c} ({n})" for c, n in listed[:6])
        more = f" and {len(listed) - 6} more" if len(listed) > 6 else ""
        logger.warning("%s: read %r as missing in %d column(s): %s%s", path, shown,
                       len(listed), names, more)
    if not changed:
        return frame
    frame = frame.copy()
    for column, values in changed.items():
        frame[column] = values
    return frame


def header_looks_like_data(frame: Any) -> bool:
    """Whether a CSV's header row looks like a row of data (the file has no header).

    True when every header cell is a number or a value its own column holds below, and at
    least one is a number: Pima's `6,148,72,...` or Adult's `39,State-gov,77516,...`.
    """
    import pandas as pd

    names = [str(c).strip() for c in frame.columns]
    numeric = pd.to_numeric(pd.Series(names), errors="coerce").notna().to_numpy()
    if not numeric.any():
        return False
    for name, is_number, column in zip(names, numeric, frame.columns, strict=True):
        if is_number:
            continue
        values = frame[column].dropna()
        if values.empty or not (values.astype(str).str.strip() == name).any():
            return False
    return True


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


def one_hot_name(column: Any, category: Any) -> str:
    """The name of one one-hot column of a table's text column: `"occupation=Sales"`."""
    return f"{column}={category}"


def source_column(name: Any) -> str:
    """The table column a feature came from: `"occupation"` for `"occupation=Sales"`."""
    return str(name).split("=", 1)[0]


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
            out[one_hot_name(column, c)] = col
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


def _split_target(frame: Any, target: str, path: Path, hint: str = "") -> tuple[Any, Any]:
    if target not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:10]))
        raise DataError(f"{path} has no column {target!r}; its columns are: {shown}{hint}")
    y = frame[target]
    missing = y.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"{path}: target column {target!r} is empty in {int(missing.sum())} row(s) "
            f"(first: row {int(np.flatnonzero(missing)[0])}); drop or label them"
        )
    return frame.drop(columns=[target]), y


def unusable_columns(frame: Any) -> dict[str, str]:
    """Feature columns a first model cannot use, each with the reason, in column order.

    A column is left out when it is empty in every row, unique per row (an ID or a name: a
    text column with a distinct value in every row, or whole numbers, one per row, spanning at
    most `ID_SPAN_FACTOR` times the row count) or free text (a text column with distinct values
    in more than `FREE_TEXT_SHARE` of its rows). IDs and free text are looked for only in
    tables of at least `MIN_ROWS_TO_SCREEN` rows.
    """
    import pandas as pd

    reasons: dict[str, str] = {}
    for column in frame.columns:
        present = frame[column].dropna()
        if present.empty:
            reasons[str(column)] = "empty in every row"
            continue
        if len(present) < MIN_ROWS_TO_SCREEN or pd.api.types.is_bool_dtype(present):
            continue
        distinct = int(present.nunique())
        if pd.api.types.is_numeric_dtype(present):
            values = present.to_numpy(dtype="float64")
            whole = bool(np.all(values == np.round(values)))
            span = float(values.max() - values.min()) + 1
            if whole and distinct == len(present) and span <= ID_SPAN_FACTOR * len(present):
                reasons[str(column)] = "an ID: a different whole number in every row"
        elif distinct == len(present):
            reasons[str(column)] = "unique per row (an ID or a name)"
        elif distinct > FREE_TEXT_SHARE * len(present):
            reasons[str(column)] = f"free text ({distinct} distinct values in {len(present)} rows)"
    return reasons


def _labels_for_loss(ids: np.ndarray, n_classes: int, loss: str, output_units: int
                     ) -> np.ndarray:
    """Class ids in the encoding the model's loss takes: one-hot, 0/1 columns or the ids."""
    if loss in ONE_HOT_LOSSES or (loss in BINARY_LOSSES and output_units > 1):
        return np.eye(n_classes, dtype="float32")[ids]
    return ids


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
    if len(classes) > 50 and len(classes) * MIN_ROWS_PER_CLASS > len(y_train):
        raise DataError(
            f"{path}: target column {target!r} has {len(classes)} classes in {len(y_train)} "
            f"rows ({len(y_train) / len(classes):.1f} rows per class); a classifier needs at "
            f"least {MIN_ROWS_PER_CLASS} per class. Is {target!r} the label column?"
        )
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
    safe_mode: bool = True,
) -> Setup:
    """Build a setup from a CSV or Parquet table and the name of its target column.

    Missing-value markers are read as missing; ID-like and free-text columns are left out
    (each with a warning); labels are encoded for the model's loss. fitdoctor's own model fills
    missing values with the training medians; the setup's data keeps them for the audit.

    Args:
        path: Training table (`.csv` or `.parquet`).
        target: Column holding the label.
        val_path: Validation table with the same columns. Defaults to None (20 % held out).
        model_path: A saved compiled model (`.keras`) to diagnose. Defaults to None
            (fitdoctor builds a small MLP with a Normalization layer).
        fit: `model.fit` arguments. Defaults to `{"epochs": 20, "batch_size": 32}`.
        seed: Seed for the hold-out split and the default model. Defaults to 0.
        safe_mode: Load `model_path` in Keras' safe mode, which refuses `Lambda` layers
            (arbitrary Python code). Defaults to True.
    """
    path = Path(path)
    frame = read_table(path)
    hint = ""
    if path.suffix.lower() not in (".parquet", ".pq") and header_looks_like_data(frame):
        hint = f"; {path} has no header row? its first row looks like data"
    x_frame, y_series = _split_target(frame, target, path, hint)
    notes = []
    if hint:
        notes.append(hint[2:])
    left_out = unusable_columns(x_frame)
    for column, reason in left_out.items():
        notes.append(f"{path}: column {column!r} is {reason}; left out of the features")
    for note in notes:
        logger.warning("%s", note)
    x_frame = x_frame.drop(columns=[c for c in x_frame.columns if str(c) in left_out])
    if x_frame.shape[1] == 0:
        raise DataError(f"{path} has no usable feature columns besides the target {target!r}")
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
    x_all = [x_train.to_numpy(), *(o.to_numpy() for o in others_x)]
    build, (y_train, *others_y) = _model_and_labels(model_path, "table", x_all,
                                                    [y_train, *others_y], classes, safe_mode)
    validation = (others_x[0], others_y[0]) if others_x else None
    setup = Setup.from_arrays(build, (x_train, y_train), validation, fit or dict(DEFAULT_FIT),
                              source=str(path), seed=seed)
    return dataclasses.replace(setup, notes=tuple(notes))


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
    from PIL import UnidentifiedImageError

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
                images.append(_read_image(file, image_size))
            except (UnidentifiedImageError, OSError, ValueError) as exc:
                raise DataError(f"cannot read image {file}: {_one_line(exc)}") from None
            labels.append(label)
    if not images:
        raise DataError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return np.stack(images), np.asarray(labels, dtype="int64"), list(classes)


def _read_image(file: Path, image_size: tuple[int, int]) -> np.ndarray:
    """One image as (H, W, 3) float32 pixels: any mode converted to RGB, resized."""
    from PIL import Image

    with Image.open(file) as img:
        img.load()
        if img.mode == "P":  # palette images may carry transparency; go through RGBA
            img = img.convert("RGBA")
        rgb = img.convert("RGB").resize((image_size[1], image_size[0]))
        return np.asarray(rgb, dtype="float32")


def setup_from_images(
    folder: str | Path,
    *,
    val_folder: str | Path | None = None,
    image_size: tuple[int, int] = (64, 64),
    model_path: str | Path | None = None,
    fit: dict[str, Any] | None = None,
    seed: int = 0,
    safe_mode: bool = True,
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
        safe_mode: Load `model_path` in Keras' safe mode (no `Lambda` layers). Defaults to
            True.
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
    xs, ys = [x], [y]
    if val_folder is not None:
        xv, yv, _ = read_image_folder(val_folder, image_size, classes)
        xs, ys = [x, xv], [y, yv]
    build, ys = _model_and_labels(model_path, "image", xs, ys, tuple(classes), safe_mode)
    validation = (xs[1], ys[1]) if len(xs) > 1 else None
    return Setup.from_arrays(build, (x, ys[0]), validation, fit or dict(DEFAULT_FIT),
                             source=str(folder), seed=seed)


def _model_and_labels(model_path: str | Path | None, kind: str, xs: list[np.ndarray],
                      ys: list[np.ndarray], classes: tuple[str, ...] | None, safe_mode: bool
                      ) -> tuple[Any, list[np.ndarray]]:
    """The model builder, and the labels (training first) encoded the way its loss takes them.

    `xs` and `ys` are the training split first, then the validation split if any. A saved
    model gets one-hot labels for `categorical_crossentropy`, class ids for a sparse loss;
    fitdoctor's own model takes class ids (it compiles a sparse loss).
    """
    from fitdoctor import default_models

    if model_path is not None:
        saved = default_models.load_saved_model(model_path, safe_mode=safe_mode)
        y_train = ys[0]
        if np.issubdtype(y_train.dtype, np.integer):
            n_classes = max(len(classes or ()), int(max(y.max() for y in ys)) + 1)
            loss = full_loss_name(saved.loss)
            ys = [_labels_for_loss(y, n_classes, loss, saved.output_units) for y in ys]
            if ys[0].ndim == 2:
                logger.info("labels one-hot encoded (%d classes) for the model's %s", n_classes,
                            loss)
        return saved.build, ys
    if kind == "image":
        return default_models.image_classifier(xs[0].shape[1:], int(ys[0].max()) + 1), ys
    return default_models.tabular_model(xs[0], ys[0], impute=any(
        not np.isfinite(x).all() for x in xs)), ys
