"""The scikit-learn baselines probe and the `baseline_beats_model` check."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split

import fitdoctor
from fitdoctor.budget import Budget, get_budget
from fitdoctor.evidence import Evidence, EvidenceSkipped


def breast_cancer(scaled: bool):
    data = load_breast_cancer()
    x_tr, x_val, y_tr, y_val = train_test_split(
        data.data.astype("float32"), data.target, test_size=0.3, random_state=0,
        stratify=data.target)
    if scaled:
        mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
        x_tr, x_val = (x_tr - mean) / std, (x_val - mean) / std
    return (x_tr, y_tr[:, None]), (x_val, y_val[:, None])


def small_mlp(n_inputs: int = 30, loss: str = "binary_crossentropy", units: int = 1,
              activation: str | None = "sigmoid"):
    def build():
        model = keras.Sequential([
            keras.Input(shape=(n_inputs,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(units, activation=activation),
        ])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
        return model

    return build


def evidence_for(build, data, budget="standard"):
    setup = fitdoctor.Setup.from_arrays(build, data[0], data[1], {"epochs": 20})
    return Evidence(setup, get_budget(budget), seed=0)


def test_classification_baselines_score_accuracy_on_validation_data():
    result = evidence_for(small_mlp(), breast_cancer(scaled=True)).get("baselines")
    assert result.metric == "accuracy" and result.higher_is_better
    assert [s.name for s in result.scores] == ["logistic_regression", "svm_rbf",
                                               "gradient_boosting"]
    assert all(0.9 < s.val_score <= 1.0 for s in result.scores)
    assert result.best.cv_std is not None and result.best.cv_mean > 0.9  # best one is CV'd
    assert result.n_used == result.n_train == 398 and result.notes == ()
    assert result.beats(0.80, 0.03) and not result.beats(0.99, 0.03)


def test_regression_baselines_use_the_users_loss():
    data = load_diabetes()
    x, y = data.data.astype("float32"), data.target.astype("float32")
    build = small_mlp(10, loss="mae", activation=None)
    result = evidence_for(build, ((x[:300], y[:300]), (x[300:], y[300:]))).get("baselines")
    assert result.metric == "mean_absolute_error" and not result.higher_is_better
    assert {s.name for s in result.scores} == {"ridge", "svr_rbf", "gradient_boosting"}
    mae_of_mean = float(np.mean(np.abs(y[300:] - y[:300].mean())))
    assert result.best.val_score < mae_of_mean  # the baselines learn something
    assert result.beats(result.best.val_score * 1.5, 0.1)


def test_baselines_subsample_and_say_so():
    small_budget = Budget("tiny", seeds=1, lr_range_steps=10, learning_curve=False,
                          max_audit_rows=100)
    setup = fitdoctor.Setup.from_arrays(small_mlp(), *breast_cancer(scaled=True), {"epochs": 1})
    result = Evidence(setup, small_budget).get("baselines")
    assert result.n_used == 100 and all(s.n_rows == 100 for s in result.scores)
    assert any("100 of 398" in note for note in result.notes)


def test_baselines_skip_multilabel_and_unscorable_losses():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 5)).astype("float32")
    multihot = (rng.random((80, 3)) < 0.5).astype("float32")
    build = small_mlp(5, units=3)
    with pytest.raises(EvidenceSkipped, match="multi-label"):
        evidence_for(build, ((x, multihot), (x, multihot))).get("baselines")
    y = rng.uniform(1, 2, 80).astype("float32")
    build = small_mlp(5, loss="msle", activation=None)
    with pytest.raises(EvidenceSkipped, match="msle|mean_squared_logarithmic"):
        evidence_for(build, ((x, y), (x, y))).get("baselines")


def diagnose(data):
    keras.utils.set_random_seed(0)
    setup = fitdoctor.Setup.from_arrays(small_mlp(), data[0], data[1],
                                        {"epochs": 20, "batch_size": 32})
    return fitdoctor.diagnose(setup=setup, checks=["baseline_beats_model"], budget="quick")


@pytest.mark.slow
def test_baseline_beats_a_network_fed_unscaled_features():
    report = diagnose(breast_cancer(scaled=False))
    finding = report.get("baseline_beats_model")
    assert finding is not None and finding.is_problem, report.ids()
    evidence = finding.evidence
    assert evidence["baseline_val_score"] - evidence["network_best_val_score"] > evidence["margin"]
    assert "make_pipeline(StandardScaler()" in finding.fix.code


@pytest.mark.slow
def test_baseline_does_not_beat_the_scaled_twin():
    report = diagnose(breast_cancer(scaled=True))
    assert report.problems == (), report.ids()
