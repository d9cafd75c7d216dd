"""Data findings backed by a measured effect, fitdoctor's group-aware holdout, label noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

import fitdoctor
from fitdoctor.evidence.data_stats import row_fingerprints
from fitdoctor.holdout import split_by_duplicates

from .conftest import dense_classifier, flip_labels


def _shared_fingerprints(a: np.ndarray, b: np.ndarray) -> int:
    fa = {tuple(r) for r in row_fingerprints(a)}
    return sum(tuple(r) in fa for r in row_fingerprints(b))


# fitdoctor's own holdout ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits_with_repeats():
    """Digits where 600 rows are repeated 1-4 extra times (2,000+ exact duplicates)."""
    data = load_digits()
    x, y = (data.data / 16.0).astype("float32"), data.target
    rng = np.random.default_rng(0)
    picked = rng.choice(len(x), size=600, replace=False)
    extra = np.repeat(picked, rng.integers(1, 5, size=600))
    return np.concatenate([x, x[extra]]), np.concatenate([y, y[extra]])


def test_holdout_keeps_every_duplicate_group_on_one_side(digits_with_repeats):
    x, y = digits_with_repeats
    train, val = split_by_duplicates(x, y, 0.2, seed=0)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == len(x)
    assert _shared_fingerprints(x[train], x[val]) == 0
    assert 0.15 < len(val) / len(x) < 0.25
    # still stratified: every class holds about its share of the validation rows
    share = np.bincount(y[val], minlength=10) / np.bincount(y, minlength=10)
    assert share.min() > 0.1 and share.max() < 0.3


def test_setup_without_validation_data_creates_no_leakage(digits_with_repeats):
    x, y = digits_with_repeats
    # a plain random split of these rows shares hundreds of rows between the sides
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    cut = int(0.8 * len(x))
    assert _shared_fingerprints(x[order[:cut]], x[order[cut:]]) > 100
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x, y), None, {"epochs": 1})
    assert setup.val_source == "held_out"
    assert _shared_fingerprints(setup.x_train, setup.x_val) == 0


def test_holdout_without_duplicates_is_the_stratified_random_split():
    from sklearn.model_selection import train_test_split

    data = load_digits()
    train, val = split_by_duplicates(data.data, data.target, 0.2, seed=3)
    _, expected = train_test_split(np.arange(len(data.data)), test_size=0.2, random_state=3,
                                   stratify=data.target)
    # digits holds one repeated image; apart from that group the split is the usual one
    assert len(np.setxor1d(val, expected)) <= 4, len(np.setxor1d(val, expected))


# train_val_leakage --------------------------------------------------------------------------------

TITANIC = Path(__file__).parent / "data" / "titanic" / "train300.csv"


def problems(setup, check_id, budget="quick"):
    report = fitdoctor.diagnose(setup=setup, checks=[check_id], budget=budget)
    failed = [f for f in report.findings if f.id == "check_failed"]
    assert not failed, failed[0].title
    return [f for f in report.findings if f.id == check_id]


def setup_of(train, val, n_classes=None):
    n_classes = n_classes or int(np.max(train[1])) + 1
    build = dense_classifier(train[0].shape[1], n_classes)
    return fitdoctor.Setup.from_arrays(build, train, val, {"epochs": 2, "batch_size": 32})


@pytest.fixture(scope="module")
def digits01():
    data = load_digits()
    return split((data.data / 16.0).astype("float32"), data.target)


def split(x, y, seed=0):
    from sklearn.model_selection import train_test_split

    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=0.25, random_state=seed,
                                                stratify=y)
    return (x_tr, y_tr), (x_val, y_val)


@pytest.fixture(scope="module")
def titanic():
    """Titanic preprocessed the usual way: distinct passengers tie on every feature left."""
    import pandas as pd

    df = pd.read_csv(TITANIC).drop(columns=["PassengerId", "Name", "Ticket", "Cabin"])
    df["Sex"] = (df["Sex"] == "male").astype(int)
    df["Age"] = df["Age"].fillna(df["Age"].median())
    df = pd.get_dummies(df, columns=["Embarked"], dtype=float)
    y = df.pop("Survived").to_numpy()
    x = df.to_numpy("float32")
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return split(x, y)


def test_leakage_fires_on_validation_rows_copied_from_training(digits01):
    (x, y), (xv, yv) = digits01
    xv, yv = xv.copy(), yv.copy()
    xv[:100], yv[:100] = x[:100], y[:100]
    found = problems(setup_of((x, y), (xv, yv)), "train_val_leakage")
    assert len(found) == 1 and found[0].severity.value == "critical"
    ev = found[0].evidence
    assert ev["val_rows_in_train"] == 100 and ev["label_agreement_of_copies"] == 1.0
    assert ev["chance_twin_rate_in_training"] < 0.01
    assert ev["score_inflation"] > 2 * ev["score_inflation_se"] > 0


def test_leakage_silent_on_titanic_passengers_who_share_every_feature(titanic):
    (x, y), (xv, yv) = titanic
    fingerprints = {tuple(r) for r in x}
    tied = np.mean([tuple(r) in fingerprints for r in xv])
    assert tied >= 0.05  # the old rule called this many ties critical leakage
    assert problems(setup_of((x, y), (xv, yv), n_classes=2), "train_val_leakage") == []


# outliers and duplicate_samples ---------------------------------------------------------------

def regression_builder(n_inputs):
    import keras

    def build():
        model = keras.Sequential([keras.Input((n_inputs,)),
                                  keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model

    return build


@pytest.fixture(scope="module")
def linear_regression_data():
    from sklearn.datasets import make_regression
    from sklearn.model_selection import train_test_split

    x, y = make_regression(600, 5, noise=5.0, random_state=0)
    x, y = x.astype("float32"), (y / y.std()).astype("float32")
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=0.25, random_state=0)
    return (x_tr, y_tr), (x_val, y_val)


def test_outliers_warn_when_leaving_them_out_improves_the_baseline(linear_regression_data):
    (x, y), val = linear_regression_data
    x = x.copy()
    x[:8, 0] *= 80  # entry errors with a large lever on a least-squares fit
    found = problems(fitdoctor.Setup.from_arrays(regression_builder(5), (x, y), val,
                                                 {"epochs": 1}), "outliers")
    assert len(found) == 1 and found[0].severity.value == "warning"
    ev = found[0].evidence
    assert set(ev["row_indices"]) <= set(range(8))
    assert ev["measured_gain"] > 2 * ev["measured_gain_se"] > 0


def test_outliers_silent_on_the_clean_regression_twin(linear_regression_data):
    setup = fitdoctor.Setup.from_arrays(regression_builder(5), *linear_regression_data,
                                        {"epochs": 1})
    assert problems(setup, "outliers") == []


def test_outliers_without_a_measured_effect_are_info(digits01):
    (x, y), val = digits01
    x = x.copy()
    x[[3, 100, 500, 900], 10] = 60.0  # entry errors a logistic regression shrugs off
    found = problems(setup_of((x, y), val), "outliers")
    assert len(found) == 1 and found[0].severity.value == "info"
    assert "does not measurably change" in found[0].evidence["why_not_a_warning"]


@pytest.fixture(scope="module")
def overlapping_classes():
    from sklearn.datasets import make_classification

    x, y = make_classification(1200, 10, n_informative=5, class_sep=0.6, random_state=0)
    return split(x.astype("float32"), y, seed=0)


def test_duplicates_warn_when_deduplicating_improves_the_baseline(overlapping_classes):
    (x, y), val = overlapping_classes
    repeated = np.repeat(np.flatnonzero(y == 1), 4)  # class 1 rows five times each
    found = problems(setup_of((np.r_[x, x[repeated]], np.r_[y, y[repeated]]), val),
                     "duplicate_samples")
    assert len(found) == 1 and found[0].severity.value == "warning"
    ev = found[0].evidence
    assert ev["exact_duplicates"] == len(repeated)
    assert ev["measured_gain"] > 2 * ev["measured_gain_se"] > 0


def test_duplicates_without_a_measured_effect_are_info(digits01):
    (x, y), val = digits01
    again = np.arange(300)
    found = problems(setup_of((np.r_[x, x[again]], np.r_[y, y[again]]), val),
                     "duplicate_samples")
    assert len(found) == 1 and found[0].severity.value == "info"
    assert found[0].evidence["exact_duplicates"] == 300


def test_duplicates_silent_without_repeats(overlapping_classes):
    assert problems(setup_of(*overlapping_classes), "duplicate_samples") == []


# label_noise and class_imbalance ----------------------------------------------------------------

@pytest.fixture(scope="module")
def ten_classes():
    """A 10-class, 40-feature table a nearest-neighbour screening model gets about 90 % right."""
    from sklearn.datasets import make_classification

    x, y = make_classification(2000, 40, n_informative=20, n_redundant=10, n_classes=10,
                               n_clusters_per_class=1, class_sep=1.5, random_state=0)
    return split(x.astype("float32"), y)


def test_label_noise_finds_25_percent_symmetric_noise_on_ten_classes(ten_classes):
    (x, y), val = ten_classes
    noisy, flipped = flip_labels(y, 1 / 4)
    found = problems(setup_of((x, noisy), val), "label_noise")
    assert len(found) == 1 and found[0].is_problem
    assert np.isin(found[0].evidence["row_indices"], flipped).mean() >= 0.8


def test_label_noise_silent_on_the_clean_ten_class_twin(ten_classes):
    assert [f for f in problems(setup_of(*ten_classes), "label_noise") if f.is_problem] == []


@pytest.fixture(scope="module")
def imbalanced_cancer():
    """Breast cancer with the malignant class cut to 25 training rows (about 10:1)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    x = ((data.data - data.data.mean(axis=0)) / data.data.std(axis=0)).astype("float32")
    (x_tr, y_tr), val = split(x, data.target)
    keep = np.r_[np.flatnonzero(y_tr == 1), np.flatnonzero(y_tr == 0)[:25]]
    return (x_tr[keep], y_tr[keep]), val


def test_label_noise_silent_on_clean_imbalanced_data(imbalanced_cancer):
    found = problems(setup_of(*imbalanced_cancer, n_classes=2), "label_noise")
    assert [f for f in found if f.is_problem] == []


def test_label_noise_silent_on_tiny_data(digits01):
    (x, y), val = digits01
    rng = np.random.default_rng(0)
    rows = rng.choice(len(y), size=60, replace=False)
    found = problems(setup_of((x[rows], y[rows]), val), "label_noise")
    assert [f for f in found if f.is_problem] == []


# irrelevant_features ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def weak_weights():
    """3,000 rows x 30 features, every feature with a small but real weight in a logistic rule."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 30)).astype("float32")
    weights = rng.uniform(0.15, 0.4, 30) * rng.choice([-1, 1], 30)
    y = (rng.random(3000) < 1 / (1 + np.exp(-(x @ weights)))).astype("int64")
    return x, y


@pytest.mark.slow
def test_irrelevant_features_silent_when_every_feature_carries_a_small_weight(weak_weights):
    x, y = weak_weights
    found = problems(setup_of(*split(x, y), n_classes=2), "irrelevant_features")
    assert found == []


@pytest.mark.slow
def test_irrelevant_features_names_appended_noise_columns(weak_weights):
    x, y = weak_weights
    noise = np.random.default_rng(1).normal(size=(len(x), 10)).astype("float32")
    found = problems(setup_of(*split(np.c_[x, noise], y), n_classes=2), "irrelevant_features")
    assert len(found) == 1
    named = {int(n[2:-1]) for n in found[0].evidence["no_signal_names"]}
    # the noise columns, and at most the two real features with the smallest weights
    assert len(named & set(range(30, 40))) >= 8 and len(named - set(range(30, 40))) <= 2
    # 2,250 training rows for 40 features: true, but not a problem
    assert found[0].evidence["samples_per_feature"] >= 10
    assert found[0].severity.value == "info"


def test_class_imbalance_warns_when_the_rare_class_is_missed(overlapping_classes):
    (x, y), val = overlapping_classes
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:40]]  # about 10:1
    found = problems(setup_of((x[keep], y[keep]), val, n_classes=2), "class_imbalance")
    assert len(found) == 1 and found[0].severity.value == "warning"
    recall = found[0].evidence["oof_recall_by_class"]
    assert recall["1"] < 0.5 and recall["0"] - recall["1"] >= 0.2


def test_class_imbalance_is_info_when_the_rare_class_is_recalled(imbalanced_cancer):
    found = problems(setup_of(*imbalanced_cancer, n_classes=2), "class_imbalance")
    assert len(found) == 1 and found[0].severity.value == "info"
    assert found[0].evidence["imbalance_ratio"] > 8


@pytest.fixture(scope="module")
def waves():
    """Sine, square and sawtooth waves (random frequency, phase, gain, noise), (rows, 64, 1)."""
    rng = np.random.default_rng(0)
    n, t = 900, np.linspace(0, 1, 64, endpoint=False)
    y = rng.integers(0, 3, n)
    cycles = rng.uniform(1, 4, (n, 1)) * t + rng.uniform(0, 1, (n, 1))
    sine = np.sin(2 * np.pi * cycles)
    x = np.where(y[:, None] == 0, sine,
                 np.where(y[:, None] == 1, np.sign(sine), 2 * (cycles % 1) - 1))
    x = x * rng.uniform(0.5, 1.5, (n, 1)) + rng.normal(0, 0.3, (n, 64))
    return split(x[..., None].astype("float32"), y)


def wave_setup(train, val):
    import keras

    def build():
        model = keras.Sequential([keras.Input((64, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return fitdoctor.Setup.from_arrays(build, train, val, {"epochs": 1})


def test_label_noise_reads_signals_by_their_spectrum(waves):
    (x, y), val = waves
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(y), size=len(y) // 4, replace=False)
    noisy = y.copy()
    noisy[flipped] = (noisy[flipped] + rng.integers(1, 3, len(flipped))) % 3
    found = problems(wave_setup((x, noisy), val), "label_noise")
    assert len(found) == 1 and found[0].is_problem
    assert "magnitude spectra" in found[0].evidence["screening_model"]


def test_label_noise_silent_on_clean_signals(waves):
    assert [f for f in problems(wave_setup(*waves), "label_noise") if f.is_problem] == []


@pytest.fixture(scope="module")
def hard_labels():
    """Titanic's shape: a few coded features that many rows share, and an outcome drawn at
    random for each group (85 % one way), so about 15 % of rows, in training and validation
    alike, disagree with the best possible model, and confidently."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(2500, 4)).astype("float32")
    p = np.where(x[:, 0] + x[:, 1] >= 1, 0.85, 0.15)
    return split(x, (rng.random(len(x)) < p).astype("int64"))


def test_label_noise_silent_when_labels_are_hard_in_validation_too(hard_labels):
    found = problems(setup_of(*hard_labels, n_classes=2), "label_noise")
    assert [f for f in found if f.is_problem] == []
    assert all("validation labels disagree" in f.evidence["why_not_a_warning"] for f in found)


def test_label_noise_fires_when_only_the_training_labels_are_flipped(hard_labels):
    (x, y), val = hard_labels
    flipped = np.random.default_rng(1).choice(len(y), size=len(y) // 5, replace=False)
    noisy = y.copy()
    noisy[flipped] = 1 - noisy[flipped]
    found = problems(setup_of((x, noisy), val, n_classes=2), "label_noise")
    assert len(found) == 1 and found[0].is_problem
    assert found[0].evidence["screening_accuracy"] < found[0].evidence["screening_val_accuracy"]
