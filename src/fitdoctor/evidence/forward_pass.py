"""The forward pass: a sample of the data through a fresh, untrained model. No training.

Two things are read off it:

- what the first trainable layer receives: the inputs after the model's own leading layers
  that have no trainable weights (Normalization, Rescaling, Resizing, Flatten, input Dropout,
  ...) and the standardizing layers BatchNormalization and LayerNormalization. Scale and
  missing-value checks judge this, not the raw arrays: a layer's presence proves nothing (a
  `Normalization()` that was never adapted is an identity), what it outputs does. The leading
  layers run in training mode, as `fit` runs them (BatchNormalization then uses the batch's
  own statistics).
- where a regression output starts: the untrained model's predictions on the sample.

The model is built with the diagnosis seed, so it is the model the probe run starts from.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras
import numpy as np

from fitdoctor.evidence.base import Evidence, probe
from fitdoctor.evidence.data_stats import Ranges, audit_limit, is_image, ranges_of, sample_rows
from fitdoctor.evidence.impute import per_block
from fitdoctor.evidence.model_info import _inbound_names
from fitdoctor.tf_data import keras_pipelines_without_autotune

#: Layers with trainable weights that still only standardize their input: the first trainable
#: layer after them sees standardized values.
_STANDARDIZERS = frozenset({"BatchNormalization", "LayerNormalization", "GroupNormalization"})
#: Rows pushed through the model at a time, at most (fewer for wide rows: `_batch_rows`).
_BATCH = 1024
#: Training rows with NaN/Inf values that are also pushed through the preprocessing, at most.
_MAX_MISSING_ROWS = 1000
#: Rows whose untrained predictions are measured.
_PREDICTION_ROWS = 2048


@dataclasses.dataclass(frozen=True)
class ForwardPass:
    """What a fresh model does with a sample of the training data.

    Args:
        preprocessing: Class names of the leading layers the sample went through before the
            first trainable layer, in order; empty when there are none, when the model is
            subclassed or branches there (the inputs are then measured as given), and for
            several inputs or text (the checks' table is already what they become).
        feature_names: One name per flattened value the first trainable layer receives (the
            data's names when the preprocessing keeps the number of values).
        image: Whether the data are images.
        ranges: Per-feature statistics of what the first trainable layer receives (finite
            values only).
        rows_measured: Rows in the sample; `sampled_from`: training rows in all.
        unchanged: Whether the preprocessing returned its input unchanged (True when there is
            none).
        missing_rows_checked: Training rows holding NaN/Inf that went through the preprocessing
            (0 when there is none: then every missing value reaches the network as it is).
        missing_rows_reaching: Of those, rows that still hold NaN/Inf after it.
        nonfinite_created: Sample rows that were finite in the data but hold NaN/Inf after the
            preprocessing (a Normalization adapted on data with NaN outputs NaN everywhere).
        prediction_mean, prediction_std: Mean and standard deviation of the untrained model's
            outputs on the sample (regression only; NaN otherwise).
    """

    preprocessing: tuple[str, ...]
    feature_names: tuple[str, ...]
    image: bool
    ranges: Ranges
    rows_measured: int
    sampled_from: int
    unchanged: bool
    missing_rows_checked: int
    missing_rows_reaching: int
    nonfinite_created: int
    prediction_mean: float
    prediction_std: float

    def sample_note(self) -> dict[str, Any]:
        """Evidence entries saying how many rows were measured, and after which layers."""
        note: dict[str, Any] = {"rows_measured": self.rows_measured}
        if self.rows_measured < self.sampled_from:
            note["sampled_from"] = self.sampled_from
        if self.preprocessing:
            note["measured_after"] = list(self.preprocessing)
        return note

    def to_measurements(self) -> dict[str, Any]:
        return {
            "preprocessing": list(self.preprocessing),
            "unchanged": self.unchanged,
            "rows_measured": self.rows_measured,
            "missing_rows_checked": self.missing_rows_checked,
            "missing_rows_reaching": self.missing_rows_reaching,
            "nonfinite_created": self.nonfinite_created,
            "prediction_mean": self.prediction_mean,
            "prediction_std": self.prediction_std,
        }


def leading_preprocessing(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers before the model's first trainable one, when they form a single chain.

    Empty for subclassed models (their call order is unknown), for several inputs, and when
    the leading layers branch.
    """
    functional = isinstance(model, keras.Sequential) or type(model).__name__ == "Functional"
    if not functional or len(getattr(model, "inputs", None) or []) != 1:
        return []
    sequential = isinstance(model, keras.Sequential)
    inputs = {layer.name for layer in model.layers if type(layer).__name__ == "InputLayer"}
    chain: list[keras.layers.Layer] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if layer.trainable_weights and kind not in _STANDARDIZERS:
            break
        if not sequential and set(_inbound_names(layer)) != ({chain[-1].name} if chain
                                                             else inputs):
            break
        chain.append(layer)
    return chain


def _batch_rows(x: np.ndarray) -> int:
    """Rows of `x` pushed through the leading layers at a time: a block (`per_block`), at most
    `_BATCH`.

    A batch of 1,024 photos of 64x64x3 is 50 MB, and TensorFlow's fresh copy of each made the
    forward pass on the cats/dogs photos take a median 2.3 s; in batches of 85 photos 0.6 s
    (five processes each). Only a leading BatchNormalization, which standardises with each
    batch's own statistics, measures anything else for it, and it now sees batches nearer the
    sizes `fit` gives it.
    """
    return per_block(int(np.prod(np.shape(x)[1:])), most=_BATCH)


def _through(layers: list[keras.layers.Layer], x: np.ndarray) -> np.ndarray:
    """`x` after `layers` in training mode, as rows of flattened values (Keras' dtype)."""
    out = []
    step = _batch_rows(x)
    for start in range(0, len(x), step):
        batch = keras.ops.convert_to_tensor(np.asarray(x[start:start + step]))
        for layer in layers:
            batch = layer(batch, training=True)
        values = np.asarray(keras.ops.convert_to_numpy(batch))
        out.append(values.reshape(len(values), -1))
    return np.concatenate(out) if out else np.zeros((0, 1))


def _seen(layers: list[keras.layers.Layer], x: np.ndarray, rows: np.ndarray
          ) -> tuple[np.ndarray, bool, int]:
    """Rows `rows` of `x` after `layers` (`_through`, the same batches), with what they did:
    whether they returned every value as it was, and how many rows they made hold NaN/Inf
    that held none before.

    Read one batch of rows at a time into one array: a copy of the whole sample, its batches'
    outputs and their concatenation cost 240 MB of fresh memory on a photo sample.
    """
    seen = None
    unchanged, created = True, 0
    step = _batch_rows(x)
    for start in range(0, len(rows), step):
        raw = np.asarray(x[rows[start:start + step]])
        values = _through(layers, raw)
        if seen is None:
            seen = np.empty((len(rows), values.shape[1]), dtype=values.dtype)
        seen[start:start + len(values)] = values
        flat = raw.reshape(len(raw), -1)
        unchanged = unchanged and values.shape == flat.shape and _all_close(values, flat)
        created += int((np.isfinite(flat).all(axis=1) & ~np.isfinite(values).all(axis=1)).sum())
    return (np.zeros((0, 1)) if seen is None else seen), unchanged, created


def _all_close(a: np.ndarray, b: np.ndarray) -> bool:
    """`np.allclose(a, b, equal_nan=True)` in float64, a block of rows at a time (`per_block`):
    the same answer, usually from the first rows (a layer that changes its input changes
    them), without float64 copies of a whole photo sample (160 MB each)."""
    rows = per_block(a.shape[1] if a.ndim > 1 else 1)
    for start in range(0, len(a), rows):
        if not np.allclose(np.asarray(a[start:start + rows], dtype="float64"),
                           np.asarray(b[start:start + rows], dtype="float64"), equal_nan=True):
            return False
    return True


def _missing_rows(x: np.ndarray, limit: int) -> np.ndarray:
    """Indices of up to `limit` rows holding NaN or Inf (none for non-float data)."""
    if not np.issubdtype(x.dtype, np.floating):
        return np.zeros(0, dtype=np.int64)
    found = []
    for start in range(0, len(x), 65_536):
        chunk = x[start:start + 65_536].reshape(len(x[start:start + 65_536]), -1)
        found.extend(start + np.flatnonzero(~np.isfinite(chunk).all(axis=1)))
        if len(found) >= limit:
            break
    return np.asarray(found[:limit], dtype=np.int64)


@probe("forward_pass")
def forward_pass(evidence: Evidence) -> ForwardPass:
    """Push a seeded sample of training rows through a fresh model built with the run's seed."""
    setup = evidence.setup
    keras.utils.set_random_seed(evidence.seed)
    model = setup.build_model()
    if not model.built or not getattr(model, "outputs", None):
        model(setup.model_rows(np.arange(min(2, setup.n_train)))[0], training=False)
    rows = sample_rows(setup.n_train, audit_limit(setup, evidence.budget.max_audit_rows),
                       evidence.seed)
    # dicts, lists and strings: the checks' table is already what the model's inputs become
    as_fed = setup.feed is None or setup.feed.kind != "inputs"
    layers = leading_preprocessing(model) if as_fed else []
    if layers:
        seen, unchanged, created = _seen(layers, setup.x_train, rows)
        sample = None  # all of `seen`
        missing = _missing_rows(setup.x_train, _MAX_MISSING_ROWS)
        reaching = 0
        if len(missing):
            reaching = int((~np.isfinite(_through(layers, setup.x_train[missing]))).any(axis=1)
                           .sum())
    else:  # the sample's rows of the data as they are, read in place
        seen = np.asarray(setup.x_train).reshape(setup.n_train, -1)
        sample, unchanged, created, missing, reaching = rows, True, 0, (), 0
    names = setup.feature_names
    if not names or len(names) != seen.shape[1]:
        names = tuple(f"x[{i}]" for i in range(seen.shape[1]))
    mean = std = math.nan
    if setup.task.kind == "regression":
        inputs = setup.model_rows(rows[:_PREDICTION_ROWS])[0]
        with keras_pipelines_without_autotune():  # fitdoctor.tf_data: no stall
            predictions = np.asarray(model.predict(inputs, batch_size=256, verbose=0),
                                     dtype="float64")
        finite = predictions[np.isfinite(predictions)]
        if finite.size:
            mean, std = float(finite.mean()), float(finite.std())
    return ForwardPass(
        preprocessing=tuple(type(layer).__name__ for layer in layers),
        feature_names=tuple(names),
        image=is_image(setup.x_train),
        ranges=ranges_of(seen, sample),  # in float64
        rows_measured=len(rows),
        sampled_from=setup.n_train,
        unchanged=unchanged,
        missing_rows_checked=len(missing),
        missing_rows_reaching=reaching,
        nonfinite_created=created,
        prediction_mean=mean,
        prediction_std=std,
    )
