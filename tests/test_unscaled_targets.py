"""`unscaled_targets` on scikit-learn's diabetes data: raw targets (25 to 346) with Adam at its
default rate are the root cause, ranked above the underfitting they produce; standardized
targets are silent."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import fitdoctor
from fitdoctor.fix.remedies.base import remedies_for


def diabetes(standardize_targets: bool):
    data = load_diabetes()
    x_tr, x_val, y_tr, y_val = train_test_split(data.data, data.target, test_size=0.25,
                                                random_state=0)
    scaler = StandardScaler().fit(x_tr)
    x_tr, x_val = (scaler.transform(a).astype("float32") for a in (x_tr, x_val))
    if standardize_targets:
        mean, std = y_tr.mean(), y_tr.std()
        y_tr, y_val = (y_tr - mean) / std, (y_val - mean) / std
    return (x_tr, y_tr.astype("float32")), (x_val, y_val.astype("float32"))


def mlp():
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(), loss="mse", metrics=["mae"])
    return model


def diagnose(standardize_targets: bool):
    setup = fitdoctor.Setup.from_arrays(mlp, *diabetes(standardize_targets),
                                        {"epochs": 20, "batch_size": 32})
    report = fitdoctor.diagnose(setup=setup, checks=["unscaled_targets", "underfitting"],
                                budget="quick")
    assert not [f for f in report.findings if f.id == "check_failed"]
    return report


@pytest.mark.slow
def test_raw_diabetes_targets_rank_first_and_explain_the_underfitting():
    report = diagnose(standardize_targets=False)
    assert report.ids() == ["unscaled_targets", "underfitting"]
    finding = report.get("unscaled_targets")
    assert finding.severity.value == "critical"
    ev = finding.evidence
    assert 140 < ev["target_mean"] < 160 and abs(ev["initial_prediction_mean"]) < 5
    assert ev["target_offset"] > 100
    assert ev["loss_over_mean_predictor"] > 2  # worse than always predicting the mean
    assert ev["mean_predictor_val_loss"] == pytest.approx(np.var(diabetes(False)[1][1]),
                                                          rel=1e-4)
    assert "(y_train - y_mean) / y_std" in finding.fix.code
    assert "bias_initializer" in finding.fix.code
    assert report.get("underfitting").explained_by == ("unscaled_targets",)
    assert [r.id for r in remedies_for("unscaled_targets")] == ["target_scaling"]


@pytest.mark.slow
def test_standardized_diabetes_targets_are_silent():
    assert diagnose(standardize_targets=True).get("unscaled_targets") is None
