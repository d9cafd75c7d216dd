"""The data audit: each check fires on real data with its fault injected and stays silent on a
healthy twin. Data: scikit-learn's digits, breast cancer and wine; cats/dogs in tests/data."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.model_selection import train_test_split

import fitdoctor
from fitdoctor.budget import get_budget
from fitdoctor.checks.insufficient_data import InsufficientData
from fitdoctor.evidence import Evidence

from .conftest import dense_classifier, flip_labels

CATSDOGS = Path(__file__).parent / "data" / "catsdogs"


def split(x, y, seed=0):
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=0.25, random_state=seed,
                                                stratify=y)
    return (x_tr, y_tr), (x_val, y_val)


def setup_of(train, val, n_classes=None, build=None):
    x = train[0]
    n_classes = n_classes or int(np.max(train[1])) + 1
    build = build or dense_classifier(x.shape[1], n_classes)
    return fitdoctor.Setup.from_arrays(build, train, val, {"epochs": 2, "batch_size": 32})


def problems(setup, check_id, budget="quick"):
    report = fitdoctor.diagnose(setup=setup, checks=[check_id], budget=budget)
    failed = [f for f in report.findings if f.id == "check_failed"]
    assert not failed, failed[0].title
    return [f for f in report.problems if f.id == check_id]


def findings(setup, check_id, budget="quick"):
    """All of one check's findings, info included."""
    report = fitdoctor.diagnose(setup=setup, checks=[check_id], budget=budget)
    return [f for f in report.findings if f.id == check_id]


@pytest.fixture(scope="module")
def digits01():
    data = load_digits()
    return split((data.data / 16.0).astype("float32"), data.target)


@pytest.fixture(scope="module")
def cancer():
    data = load_breast_cancer()
    return split(data.data.astype("float32"), data.target)


def standardized(train, val):
    mean, std = train[0].mean(axis=0), train[0].std(axis=0)
    return ((train[0] - mean) / std, train[1]), ((val[0] - mean) / std, val[1])


# missing_values -------------------------------------------------------------------------------

def test_missing_values_fires_naming_columns_and_explains_nan_loss(digits01):
    (x, y), val = digits01
    x = x.copy()
    x[::7, 20] = np.nan
    x[::50, 33] = np.inf
    frame = pd.DataFrame(x, columns=[f"pixel_{i}" for i in range(64)])
    found = problems(setup_of((frame, y), val), "missing_values")
    assert len(found) == 1
    f = found[0]
    assert f.severity.value == "critical" and "nan_loss" in f.explains
    assert f.evidence["missing_in_train_features"] == len(x[::7]) + len(x[::50])
    assert list(f.evidence["by_column"])[:2] == ["pixel_20", "pixel_33"]
    assert "pixel_20" in f.title


def test_missing_values_silent_on_complete_data(digits01):
    assert problems(setup_of(*digits01), "missing_values") == []


# unscaled_inputs ------------------------------------------------------------------------------

def test_unscaled_inputs_fires_on_raw_breast_cancer_with_ranges(cancer):
    found = problems(setup_of(*cancer), "unscaled_inputs")
    assert len(found) == 1 and found[0].severity.value == "critical"
    assert found[0].evidence["largest_magnitude"] > 1000
    assert "Normalization" in found[0].fix.code


def test_unscaled_inputs_fires_on_digits_in_0_16(digits01):
    (x, y), (xv, yv) = digits01
    found = problems(setup_of((x * 16, y), (xv * 16, yv)), "unscaled_inputs")
    assert [f.severity.value for f in found] == ["warning"]


def test_unscaled_inputs_silent_on_scaled_data(digits01, cancer):
    assert problems(setup_of(*digits01), "unscaled_inputs") == []
    assert problems(setup_of(*standardized(*cancer)), "unscaled_inputs") == []


def test_unscaled_inputs_silent_when_the_model_normalizes_first(cancer):
    (x, y), val = cancer

    def build():
        norm = keras.layers.Normalization()
        norm.adapt(x)
        model = keras.Sequential([keras.Input((30,)), norm,
                                  keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    assert problems(setup_of((x, y), val, build=build), "unscaled_inputs") == []


def _tiny_cnn(rescale: bool):
    def build():
        layers = [keras.Input((32, 32, 3))]
        if rescale:
            layers.append(keras.layers.Rescaling(1 / 255))
        layers += [keras.layers.Conv2D(4, 3, activation="relu"),
                   keras.layers.GlobalAveragePooling2D(),
                   keras.layers.Dense(1, activation="sigmoid")]
        model = keras.Sequential(layers)
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model
    return build


@pytest.fixture(scope="module")
def photos():
    if not (CATSDOGS / "train").is_dir():
        pytest.skip("tests/data/catsdogs is not present")
    from fitdoctor.loaders import read_image_folder

    x, y, _ = read_image_folder(CATSDOGS / "train", (32, 32))
    xv, yv, _ = read_image_folder(CATSDOGS / "val", (32, 32))
    return (x, y), (xv, yv)


def test_unscaled_inputs_fires_on_0_255_photos(photos):
    found = problems(fitdoctor.Setup.from_arrays(_tiny_cnn(False), *photos, {"epochs": 1}),
                     "unscaled_inputs")
    assert len(found) == 1 and found[0].severity.value == "critical"
    assert found[0].evidence["pixel_max"] > 200
    assert "Rescaling" in found[0].fix.code


def test_unscaled_inputs_silent_on_photos_with_rescaling_or_in_0_1(photos):
    (x, y), (xv, yv) = photos
    with_layer = fitdoctor.Setup.from_arrays(_tiny_cnn(True), *photos, {"epochs": 1})
    assert problems(with_layer, "unscaled_inputs") == []
    scaled = fitdoctor.Setup.from_arrays(_tiny_cnn(False), (x / 255, y), (xv / 255, yv),
                                         {"epochs": 1})
    assert problems(scaled, "unscaled_inputs") == []
    mean, std = x.mean(), x.std()
    standardized_photos = fitdoctor.Setup.from_arrays(
        _tiny_cnn(False), ((x - mean) / std, y), ((xv - mean) / std, yv), {"epochs": 1})
    assert problems(standardized_photos, "unscaled_inputs") == []


# class_imbalance ------------------------------------------------------------------------------

def test_class_imbalance_fires_with_counts_and_recall(cancer):
    (x, y), val = standardized(*cancer)
    keep = np.r_[np.flatnonzero(y == 1), np.flatnonzero(y == 0)[:16]]
    found = findings(setup_of((x[keep], y[keep]), val), "class_imbalance")  # info: recall fine
    assert len(found) == 1
    ev = found[0].evidence
    assert ev["imbalance_ratio"] > 10 and ev["rarest_class"] == 0
    assert set(ev["oof_recall_by_class"]) == {"0", "1"}
    assert "class_weight" in found[0].fix.code


def test_class_imbalance_silent_on_wine():
    data = load_wine()
    train, val = split(data.data.astype("float32"), data.target)
    assert problems(setup_of(*standardized(train, val)), "class_imbalance") == []


# label_noise ----------------------------------------------------------------------------------

def test_label_noise_fires_and_names_flipped_rows(digits01):
    (x, y), val = digits01
    noisy, flipped = flip_labels(y, 1 / 7)
    found = problems(setup_of((x, noisy), val), "label_noise")
    assert len(found) == 1
    rows = found[0].evidence["row_indices"]
    assert len(rows) == 20
    precision = np.isin(rows, flipped).mean()
    assert precision >= 0.9, precision
    assert found[0].evidence["flagged_fraction"] >= 0.08


def test_label_noise_silent_on_clean_labels(digits01, cancer):
    assert problems(setup_of(*digits01), "label_noise") == []
    assert problems(setup_of(*standardized(*cancer)), "label_noise") == []


# outliers -------------------------------------------------------------------------------------

def test_outliers_fires_on_injected_rows(digits01):
    (x, y), val = digits01
    x = x.copy()
    bad = np.array([3, 100, 500, 900])
    x[bad, 10] = 60.0  # a pixel in [0, 1] recorded as 60: an entry error
    found = findings(setup_of((x, y), val), "outliers")  # info: no measured effect
    assert len(found) == 1
    assert set(found[0].evidence["row_indices"]) == set(bad.tolist())
    assert set(found[0].evidence["most_extreme_feature"].values()) == {"x[10]"}


def test_outliers_silent_on_digits_and_heavy_tailed_breast_cancer(digits01, cancer):
    assert problems(setup_of(*digits01), "outliers") == []
    assert problems(setup_of(*cancer), "outliers") == []


# duplicate_samples ----------------------------------------------------------------------------

def test_duplicate_samples_fires_on_repeated_rows(digits01):
    (x, y), val = digits01
    again = np.arange(0, 300)
    found = findings(setup_of((np.r_[x, x[again]], np.r_[y, y[again]]), val),
                     "duplicate_samples")  # info: no measured effect
    assert len(found) == 1
    assert found[0].evidence["exact_duplicates"] == 300
    assert found[0].evidence["duplicates_with_other_label"] == 0


def test_duplicate_samples_fires_on_a_conflicting_copy(digits01):
    (x, y), val = digits01
    x2, y2 = np.r_[x, x[:3]], np.r_[y, (y[:3] + 1) % 10]
    found = findings(setup_of((x2, y2), val), "duplicate_samples")  # info: no measured effect
    assert len(found) == 1 and found[0].evidence["duplicates_with_other_label"] == 3


def test_duplicate_samples_silent_on_digits(digits01):
    assert problems(setup_of(*digits01), "duplicate_samples") == []


# train_val_leakage ----------------------------------------------------------------------------

def test_train_val_leakage_fires_on_copied_validation_rows(digits01):
    (x, y), (xv, yv) = digits01
    xv, yv = xv.copy(), yv.copy()
    xv[:100], yv[:100] = x[:100], y[:100]
    found = problems(setup_of((x, y), (xv, yv)), "train_val_leakage")
    assert len(found) == 1 and found[0].severity.value == "critical"
    assert found[0].evidence["val_rows_in_train"] == 100


def test_train_val_leakage_fires_on_near_copies(digits01):
    (x, y), (xv, yv) = digits01
    rng = np.random.default_rng(1)
    xv = xv.copy()
    xv[:60] = x[:60] + rng.normal(0, 1e-3, size=x[:60].shape).astype("float32")
    found = problems(setup_of((x, y), (xv, yv)), "train_val_leakage")
    assert len(found) == 1
    assert found[0].evidence["val_rows_near_train_estimated"] >= 55


def test_train_val_leakage_silent_on_a_clean_split(digits01):
    assert problems(setup_of(*digits01), "train_val_leakage") == []


# train_val_shift ------------------------------------------------------------------------------

def test_train_val_shift_fires_and_names_moved_features(cancer):
    train, (xv, yv) = standardized(*cancer)
    xv = xv.copy()
    xv[:, [3, 7]] += 1.5
    found = problems(setup_of(train, (xv, yv)), "train_val_shift")
    assert len(found) == 1
    moved = [t["feature"] for t in found[0].evidence["moved_most"][:2]]
    assert set(moved) == {"x[3]", "x[7]"}


def test_train_val_shift_silent_on_a_random_split(cancer):
    assert problems(setup_of(*standardized(*cancer)), "train_val_shift") == []


# irrelevant_features --------------------------------------------------------------------------

def test_irrelevant_features_fires_on_noise_columns(cancer):
    (x, y), (xv, yv) = standardized(*cancer)
    rng = np.random.default_rng(0)
    x = np.c_[x, rng.normal(size=(len(x), 60))].astype("float32")
    xv = np.c_[xv, rng.normal(size=(len(xv), 60))].astype("float32")
    found = problems(setup_of((x, y), (xv, yv)), "irrelevant_features")
    assert len(found) == 1
    ev = found[0].evidence
    assert found[0].severity.value == "warning"  # 426 rows for 90 features
    assert ev["samples_per_feature"] < 10
    assert ev["no_signal_features"] >= 50
    assert ev["no_signal_features"] <= 60 + 5  # at most a few of the 30 real features
    named = [int(n[2:-1]) for n in ev["no_signal_names"]]
    assert sum(i < 30 for i in named) <= 5


def test_irrelevant_features_silent_on_breast_cancer(cancer):
    assert problems(setup_of(*standardized(*cancer)), "irrelevant_features") == []


# insufficient_data ----------------------------------------------------------------------------

def test_insufficient_data_fires_on_few_rows_per_class(digits01):
    (x, y), val = digits01
    keep = np.concatenate([np.flatnonzero(y == c)[:8] for c in range(10)])
    found = problems(setup_of((x[keep], y[keep]), val), "insufficient_data")
    assert len(found) == 1 and found[0].evidence["rows_in_rarest_class"] == 8


def test_insufficient_data_silent_on_full_digits(digits01):
    assert problems(setup_of(*digits01), "insufficient_data") == []


class _Curve:
    """A measured learning curve as lane B's probe reports it (sizes, scores, still_rising)."""

    def __init__(self, val_scores):
        self.sizes = (300, 600, 1200)
        self.val_scores = val_scores
        self.higher_is_better = True
        self.still_rising = val_scores[-1] - val_scores[-2] > 0.01


@pytest.mark.parametrize("scores, fires", [((0.5, 0.62, 0.74), True), ((0.9, 0.95, 0.96), False)])
def test_insufficient_data_reads_a_rising_learning_curve(digits01, scores, fires):
    evidence = Evidence(setup_of(*digits01), get_budget("quick"))
    evidence._results["learning_curve"] = _Curve(scores)
    found = InsufficientData().run(evidence)
    assert bool(found) is fires
    if fires:
        assert found[0].evidence["learning_curve"]["last_step_gain"] == pytest.approx(0.12)


# wide tables: the row-comparing probes read principal components -------------------------------

@pytest.fixture(scope="module")
def wide_digits():
    """Digits blown up to 16 x 16 and flattened: 256 columns, wider than `REDUCE_ABOVE`."""
    data = load_digits()
    x = np.kron(data.images / 16.0, np.ones((2, 2))).reshape(len(data.images), -1)
    return split(x.astype("float32"), data.target)


def test_wide_tables_are_compared_through_principal_components(wide_digits, digits01):
    from fitdoctor.evidence.data_stats import REDUCE_ABOVE

    assert wide_digits[0][0].shape[1] > REDUCE_ABOVE
    wide = Evidence(setup_of(*wide_digits), get_budget("quick"))
    oof = wide.get("oof_probs")
    assert "100 principal components" in oof.model
    assert oof.accuracy > 0.9  # the digits survive the reduction
    assert wide.get("neighbours").feature_names[-1] == "x[255]"  # outliers still name columns
    assert wide.get("row_effects").model.endswith("on 100 principal components")
    narrow = Evidence(setup_of(*digits01), get_budget("quick")).get("oof_probs")
    assert "principal components" not in narrow.model


def test_label_noise_fires_on_a_wide_table_and_is_silent_on_its_clean_twin(wide_digits):
    (x, y), val = wide_digits
    noisy, flipped = flip_labels(y, 1 / 7)
    found = problems(setup_of((x, noisy), val), "label_noise")
    assert len(found) == 1
    assert np.isin(found[0].evidence["row_indices"], flipped).mean() >= 0.9
    assert problems(setup_of(*wide_digits), "label_noise") == []


def test_leakage_and_outliers_on_a_wide_table(wide_digits):
    (x, y), (xv, yv) = wide_digits
    xv, yv = xv.copy(), yv.copy()
    xv[:100], yv[:100] = x[:100], y[:100]
    found = problems(setup_of((x, y), (xv, yv)), "train_val_leakage")
    assert len(found) == 1 and found[0].evidence["val_rows_in_train"] == 100
    assert problems(setup_of(*wide_digits), "train_val_leakage") == []
    x = x.copy()
    bad = np.array([3, 100, 500, 900])
    x[bad, 40] = 255.0  # a pixel in [0, 1] recorded on the 0-255 scale
    found = findings(setup_of((x, y), (xv, yv)), "outliers")
    assert len(found) == 1
    assert set(found[0].evidence["row_indices"]) == set(bad.tolist())
    assert set(found[0].evidence["most_extreme_feature"].values()) == {"x[40]"}


def test_train_val_shift_fires_on_a_wide_table_and_is_silent_on_a_random_split(wide_digits):
    train, (xv, yv) = wide_digits
    xv = xv.copy()
    xv[:, 100:104] += 0.5  # four pixels brighter in validation only
    found = problems(setup_of(train, (xv, yv)), "train_val_shift")
    assert len(found) == 1
    moved = {t["feature"] for t in found[0].evidence["moved_most"][:4]}
    assert moved == {"x[100]", "x[101]", "x[102]", "x[103]"}
    assert problems(setup_of(*wide_digits), "train_val_shift") == []


def test_irrelevant_features_on_a_wide_table_screens_with_the_f_statistic(cancer):
    (x, y), (xv, yv) = standardized(*cancer)
    rng = np.random.default_rng(0)
    x = np.c_[x, rng.normal(size=(len(x), 250))].astype("float32")  # 280 columns
    xv = np.c_[xv, rng.normal(size=(len(xv), 250))].astype("float32")
    found = problems(setup_of((x, y), (xv, yv)), "irrelevant_features")
    assert len(found) == 1
    ev = found[0].evidence
    assert ev["screening_statistic"] == "ANOVA F statistic"
    assert 200 <= ev["no_signal_features"] <= 250 + 5
    named = [int(n[2:-1]) for n in ev["no_signal_names"]]
    assert sum(i < 30 for i in named) <= 5


def test_irrelevant_features_silent_on_a_wide_table_where_every_column_carries_signal(cancer):
    (x, y), (xv, yv) = standardized(*cancer)
    rng = np.random.default_rng(0)

    def copies(a):  # each feature eight times, with a little noise: 240 columns, all signal
        return (np.repeat(a, 8, axis=1) + 0.3 * rng.normal(size=(len(a), 240))).astype("float32")

    setup = setup_of((copies(x), y), (copies(xv), yv))
    relevance = Evidence(setup, get_budget("quick")).get("feature_relevance")
    assert relevance.statistic == "ANOVA F statistic"
    assert problems(setup, "irrelevant_features") == []


def test_the_f_screen_ranks_a_perfect_separator_first_and_a_constant_column_last():
    from fitdoctor.evidence.feature_relevance import _f_statistic

    y = np.r_[np.zeros(50), np.ones(50)]
    noise = np.random.default_rng(0).normal(size=100)
    f = _f_statistic(np.c_[y * 3.0, np.ones(100), noise], y, classification=True)
    assert f[0] > f[2] > f[1] == 0.0


@pytest.mark.parametrize("block", [1 << 20, 450])
@pytest.mark.parametrize("holes", [0.0, 0.1, 1.0])
def test_column_percentiles_and_medians_are_numpys_nan_aware_numbers(monkeypatch, holes, block):
    """The fast per-column statistics the data audit reads give exactly NumPy's NaN-aware
    numbers, on columns with no NaN, some NaN and only NaN alike, whether the columns without
    NaN are read in one block or several; the table is left as it was."""
    import warnings

    from fitdoctor.evidence import impute
    from fitdoctor.evidence.impute import column_medians, column_percentiles

    monkeypatch.setattr(impute, "BLOCK_VALUES", block)  # 450: blocks of 2 columns
    x = np.round(np.random.default_rng(3).normal(size=(200, 7)), 1)  # ties
    x[np.random.default_rng(4).random(x.shape) < holes] = np.nan
    x[:, 0] = np.where(holes > 0, np.nan, x[:, 0])  # a column with no finite value when holed
    given = x.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "All-NaN slice encountered"
        np.testing.assert_array_equal(column_percentiles(x, [1, 25, 99]),
                                      np.nanpercentile(x, [1, 25, 99], axis=0))
        np.testing.assert_array_equal(column_medians(x), np.nanmedian(x, axis=0))
        np.testing.assert_array_equal(column_medians(x[:1]), np.nanmedian(x[:1], axis=0))
    np.testing.assert_array_equal(x, given)


def test_row_fingerprints_match_equal_rows_however_many_are_read_at_a_time(monkeypatch):
    """Equal rows get equal fingerprints, NaN in the same places included, and a row's
    fingerprint does not depend on how many rows are projected with it."""
    from fitdoctor.evidence import impute
    from fitdoctor.evidence.data_stats import row_fingerprints

    x = np.random.default_rng(11).normal(size=(300, 40)).astype("float32")
    x[10] = x[3]
    x[20, 5] = x[21, 5] = np.nan
    x[21] = x[20]
    x[22] = np.where(np.isnan(x[20]), 0.0, x[20])  # 0 where the other holds NaN: not equal
    whole = row_fingerprints(x)
    monkeypatch.setattr(impute, "BLOCK_VALUES", 7 * 40)  # 7 rows at a time
    np.testing.assert_array_equal(row_fingerprints(x), whole)
    assert (whole[10] == whole[3]).all() and (whole[21] == whole[20]).all()
    assert not (whole[22] == whole[20]).all()
    assert len(np.unique(whole, axis=0)) == 300 - 2


def test_a_wide_reduction_fitted_on_the_same_table_is_fitted_once():
    """The probes that read the same training sample share one fitted reduction; a different
    table, seed or standardisation gets its own."""
    from fitdoctor.evidence.data_stats import wide_reduction

    x = np.random.default_rng(5).normal(size=(60, 250)).astype("float32")
    first = wide_reduction(x, 0)
    assert wide_reduction(x.copy(), 0) is first
    assert wide_reduction(x, 1) is not first
    assert wide_reduction(x, 0, standardise=False) is not first
    changed = x.copy()
    changed[0, 0] += 1.0
    assert wide_reduction(changed, 0) is not first
    np.testing.assert_array_equal(first.transform(x), wide_reduction(x.copy(), 0).transform(x))
    assert wide_reduction(x[:, :100], 0) is None  # narrow: nothing to reduce


@pytest.mark.parametrize("block", [1 << 20, 1500])
@pytest.mark.parametrize("holes", [0.0, 0.05])
def test_ranges_are_numpys_nan_aware_statistics_of_the_finite_values(monkeypatch, holes, block):
    """`ranges_of` gives, bit for bit, NumPy's NaN-aware statistics over the finite values,
    whether or not the sample holds NaN or Inf and whether its columns are read in one block
    or several, and leaves the sample as it was."""
    from fitdoctor.evidence import impute
    from fitdoctor.evidence.data_stats import ranges_of

    monkeypatch.setattr(impute, "BLOCK_VALUES", block)  # 1500: blocks of 3 columns

    x = (np.random.default_rng(6).normal(size=(500, 8)) * 50).astype("float32")
    x[np.random.default_rng(7).random(x.shape) < holes] = np.nan
    if holes:
        x[:, 1] = np.inf
    given = x.copy()
    ranges = ranges_of(x)
    np.testing.assert_array_equal(x, given)
    rows = np.arange(0, 500, 3)
    for got, want in zip(dataclasses.astuple(ranges_of(np.c_[x, x][:, :8], rows)),
                         dataclasses.astuple(ranges_of(x[rows])), strict=True):
        np.testing.assert_array_equal(got, want)  # a sample's rows read from the whole table
    values = np.where(np.isfinite(x), x, np.nan).astype("float64")
    values[:, np.isnan(values).all(axis=0)] = 0.0
    p01, p99 = np.nanpercentile(values, [1, 99], axis=0)
    for got, want in ((ranges.minimum, np.nanmin(values, axis=0)),
                      (ranges.maximum, np.nanmax(values, axis=0)),
                      (ranges.mean, np.nanmean(values, axis=0)),
                      (ranges.std, np.nanstd(values, axis=0)), (ranges.p01, p01),
                      (ranges.p99, p99)):
        np.testing.assert_array_equal(got, want)


def test_rows_of_an_image_table_made_once_are_the_rows_summarised_alone(monkeypatch):
    """`table_rows` reads each probe's sample from one summary of the whole image array: the
    same numbers as summarising the sample alone, made once per array, and as summarising a
    few images at a time; tables are untouched."""
    from fitdoctor.evidence import data_stats, impute
    from fitdoctor.evidence.data_stats import table_rows, table_view

    photos = (np.random.default_rng(8).random((120, 16, 16, 3)) * 255).astype("float32")
    rows = np.sort(np.random.default_rng(9).choice(120, 50, replace=False))
    alone, names = table_view(photos[rows])
    with monkeypatch.context() as patched:
        patched.setattr(impute, "BLOCK_VALUES", 7 * 16 * 16 * 3)  # 7 images at a time
        np.testing.assert_array_equal(table_view(photos[rows])[0], alone)
    table, labels = table_rows(photos, rows)
    np.testing.assert_array_equal(table, alone)
    assert labels == names
    summaries = len(data_stats._TABLES)
    again, _ = table_rows(photos, rows[:10])
    assert len(data_stats._TABLES) == summaries  # read from the same summary
    np.testing.assert_array_equal(again, alone[:10])
    other = photos.copy()
    other[rows[0]] = 0.0  # another array of the same shape gets its own summary
    np.testing.assert_array_equal(table_rows(other, rows)[0][0], table_view(other[rows])[0][0])
    x = np.random.default_rng(10).normal(size=(40, 5))
    np.testing.assert_array_equal(table_rows(x, rows[:5])[0], table_view(x[rows[:5]])[0])



def test_robust_scale_fills_gaps_with_medians_and_an_empty_column_with_zero():
    """The neighbours' scaling against NumPy's NaN-aware median and percentiles: gaps take the
    column's training median (0 once centred), a column with no value at all is 0."""
    from fitdoctor.evidence.neighbours import robust_scale

    rng = np.random.default_rng(11)
    train = rng.normal(size=(80, 5)) * [1, 2, 3, 4, 5]
    train[rng.random(train.shape) < 0.15] = np.nan
    train[:, 3] = np.nan
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scaled, = robust_scale(train)
        median = np.nanmedian(np.where(np.isnan(train).all(axis=0), 0.0, train), axis=0)
    filled = np.where(np.isnan(train), median, train)
    q25, q75 = np.nanpercentile(filled, [25, 75], axis=0)
    assert np.all(scaled[:, 3] == 0.0)
    assert np.all(scaled[np.isnan(train[:, 0]), 0] == 0.0)
    for column in (0, 1, 2, 4):
        np.testing.assert_allclose(
            scaled[:, column], (filled[:, column] - median[column])
            / ((q75[column] - q25[column]) / 1.349), rtol=1e-6, atol=1e-6)
