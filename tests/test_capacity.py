"""Capacity checks (underfitting, overfitting, too many parameters) and the learning curve."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.datasets import make_classification

import fitdoctor
from fitdoctor.checks.overfitting import OverfitSignals, is_overfitting
from fitdoctor.evidence.learning_curve import LearningCurve
from fitdoctor.findings import Severity

CAPACITY_CHECKS = ["underfitting", "overfitting", "too_many_parameters"]


def xor_images(n: int = 400, seed: int = 0):
    """8x8 images whose label is the XOR of two bright quadrants: not linearly separable."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.3, size=(n, 8, 8, 1)).astype("float32")
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    x[:, :4, :4, 0] += a[:, None, None]
    x[:, 4:, 4:, 0] += b[:, None, None]
    y = a ^ b  # (n,) binary labels; the tabular cases below use (n, 1)
    return (x[:300], y[:300]), (x[300:], y[300:])


def image_model(hidden: int):
    def build():
        layers = [keras.Input(shape=(8, 8, 1)), keras.layers.Flatten()]
        if hidden:
            layers.append(keras.layers.Dense(hidden, activation="relu"))
        model = keras.Sequential([*layers, keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy",
                      metrics=["accuracy"])
        return model

    return build


def noisy_tabular():
    """300 rows, 20 features, 15 % flipped labels: easy to memorize, hard to generalize."""
    x, y = make_classification(n_samples=300, n_features=20, n_informative=5, flip_y=0.15,
                               random_state=0)
    x, y = x.astype("float32"), y[:, None]
    return (x[:200], y[:200]), (x[200:], y[200:])


def oversized():
    model = keras.Sequential([
        keras.Input(shape=(20,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def regularized():
    model = keras.Sequential([
        keras.Input(shape=(20,)),
        keras.layers.Dense(16, activation="relu",
                           kernel_regularizer=keras.regularizers.L2(1e-3)),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def diagnose(build, data, fit, budget="quick"):
    keras.utils.set_random_seed(0)
    setup = fitdoctor.Setup.from_arrays(build, data[0], data[1], fit)
    return fitdoctor.diagnose(setup=setup, checks=CAPACITY_CHECKS, budget=budget, seed=0)


@pytest.fixture(scope="module")
def linear_on_images():
    return diagnose(image_model(hidden=0), xor_images(), {"epochs": 20, "batch_size": 32})


@pytest.fixture(scope="module")
def oversized_report():
    return diagnose(oversized, noisy_tabular(), {"epochs": 30, "batch_size": 32},
                    budget="standard")


@pytest.mark.slow
def test_linear_model_on_images_is_underfitting(linear_on_images):
    finding = linear_on_images.get("underfitting")
    assert finding is not None and finding.is_problem, linear_on_images.ids()
    assert finding.evidence["baseline_val_score"] - finding.evidence["best_train_score"] > 0.05
    assert "Conv2D" in finding.fix.code  # image input fed to Dense layers: use convolutions
    assert "keras.Input(shape=(8, 8, 1))" in finding.fix.code


@pytest.mark.slow
def test_small_mlp_on_the_same_images_is_not_underfitting():
    report = diagnose(image_model(hidden=32), xor_images(), {"epochs": 20, "batch_size": 32})
    assert report.problems == (), report.ids()


@pytest.mark.slow
def test_oversized_network_on_few_rows_is_overfitting(oversized_report):
    finding = oversized_report.get("overfitting")
    assert finding is not None and finding.severity is Severity.WARNING
    assert finding.evidence["gap"] > 0.10
    assert finding.evidence["params_per_row"] > 100
    assert "Dropout(0.3)" in finding.fix.code and "L2(0.0001)" in finding.fix.code
    assert "restore_best_weights=True" in finding.fix.code
    # the standard budget measured the learning curve to say whether more data would help
    assert finding.evidence["curve_sizes"] == [50, 200]


@pytest.mark.slow
def test_too_many_parameters_merges_into_measured_overfitting(oversized_report):
    # the measured overfitting ranks, carrying the parameter count; no separate finding
    assert oversized_report.get("too_many_parameters") is None
    finding = oversized_report.get("overfitting")
    assert finding.evidence["n_params"] == 71_425
    assert oversized_report.ids()[0] == "overfitting"


@pytest.mark.slow
def test_learning_curve_is_measured_on_the_standard_budget(oversized_report):
    curve = oversized_report.measurements["learning_curve"]
    assert curve["sizes"] == [50, 200]  # standard budget: the quarter its share pays for, all
    assert len(curve["train_scores"]) == len(curve["val_scores"]) == 2
    assert len(curve["epoch_val"]) == 30
    assert isinstance(curve["still_rising"], bool)


@pytest.mark.slow
def test_regularized_twin_with_early_stopping_is_healthy():
    stop = keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    report = diagnose(regularized, noisy_tabular(),
                      {"epochs": 30, "batch_size": 32, "callbacks": [stop]})
    assert report.problems == (), report.ids()
    assert "learning_curve" not in report.measurements  # quick budget: never measured


def signals(**changes):
    base = dict(metric="accuracy", epochs_run=20, best_epoch=20, judged_epoch=20,
                val_loss_rise=0.0, train_loss_fell=True, gap=0.02, first_gap=0.0, spread=0.0)
    return OverfitSignals(**{**base, **changes})


@pytest.mark.parametrize("changes, expected", [
    ({}, False),
    ({"val_loss_rise": 0.3, "best_epoch": 5}, True),
    ({"val_loss_rise": 0.3, "train_loss_fell": False}, False),  # both got worse: not memorizing
    ({"gap": 0.2}, True),
    ({"gap": 0.2, "first_gap": 0.25}, False),  # the gap did not grow
    ({"gap": 0.2, "spread": 0.15}, False),  # within 2 seed spreads (thorough budget)
])
def test_overfitting_rule(changes, expected):
    assert is_overfitting(signals(**changes), min_val_loss_rise=0.1, min_gap=0.1,
                          noise_factor=2.0) is expected


@pytest.mark.parametrize("changes, expected", [
    ({"gap": 0.5, "first_gap": -0.2}, False),  # validation loss flat above training loss: noise
    ({"gap": 0.5, "val_loss_rise": 0.3, "best_epoch": 5}, True),
])
def test_overfitting_rule_for_regression_judges_the_rise_only(changes, expected):
    changes = {"metric": "loss", **changes}
    assert is_overfitting(signals(**changes), min_val_loss_rise=0.1, min_gap=0.1,
                          noise_factor=2.0) is expected


def test_learning_curve_still_rising_interface():
    rising = LearningCurve("accuracy", True, (50, 100, 200), (1.0, 1.0, 0.99),
                           (0.70, 0.75, 0.82), (), ())
    flat = LearningCurve("accuracy", True, (50, 100, 200), (1.0, 1.0, 0.99),
                         (0.70, 0.80, 0.805), (), ())
    falling_loss = LearningCurve("loss", False, (50, 100), (0.1, 0.1), (2.0, 1.0), (), ())
    assert rising.still_rising and not flat.still_rising and falling_loss.still_rising
    perfect = LearningCurve("accuracy", True, (31, 124), (1.0, 1.0), (0.889, 1.0), (), ())
    assert not perfect.still_rising  # healthy wine: no validation error left for rows to fix
    assert rising.gaps == pytest.approx((0.30, 0.25, 0.17))
