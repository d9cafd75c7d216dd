"""Static model checks: they read the compiled model and the labels, and never train."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import fitdoctor
from fitdoctor.budget import get_budget
from fitdoctor.checks.dropout_too_high import DropoutTooHigh
from fitdoctor.checks.loss_output_mismatch import LossOutputMismatch, label_view
from fitdoctor.checks.no_nonlinearity import NoNonlinearity
from fitdoctor.checks.output_range_mismatch import OutputRangeMismatch
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Severity

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 8)).astype("float32")
IDS4 = np.arange(64) % 4
LABELS = {
    "binary": np.arange(64) % 2,
    "ids": IDS4,
    "onehot": np.eye(4, dtype="float32")[IDS4],
    "multihot": (RNG.random((64, 4)) < 0.4).astype("float32"),
    "regression": RNG.normal(5.0, 2.0, size=64).astype("float32"),
    "signed": np.where(np.arange(64) % 2 == 0, -1, 1),
}


def builder(layers, loss, *, n_inputs: int = 8):
    def build():
        model = keras.Sequential([keras.Input(shape=(n_inputs,)), *layers()])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
        return model

    return build


def head(units, activation=None):
    return lambda: [keras.layers.Dense(16, activation="relu"),
                    keras.layers.Dense(units, activation=activation)]


def run_check(check, build, y, x=X):
    setup = fitdoctor.Setup.from_arrays(build, (x, y), (x[:16], y[:16]), {"epochs": 1})
    return check.run(Evidence(setup, get_budget("quick")))


MISMATCHES = {
    "softmax_bce_many_classes": (head(4, "softmax"), "binary_crossentropy", "onehot"),
    "sigmoid_categorical": (head(4, "sigmoid"), "categorical_crossentropy", "onehot"),
    "sparse_loss_onehot_labels": (head(4, "softmax"), "sparse_categorical_crossentropy", "onehot"),
    "sparse_loss_float_labels": (head(4, "softmax"), "sparse_categorical_crossentropy",
                                 "regression"),
    "categorical_integer_labels": (head(4, "softmax"), "categorical_crossentropy", "ids"),
    "from_logits_with_softmax": (
        head(4, "softmax"), keras.losses.SparseCategoricalCrossentropy(from_logits=True), "ids"),
    "from_logits_with_sigmoid": (
        head(1, "sigmoid"), keras.losses.BinaryCrossentropy(from_logits=True), "binary"),
    "linear_output_probability_loss": (head(4), "sparse_categorical_crossentropy", "ids"),
    "too_few_units": (head(3, "softmax"), "sparse_categorical_crossentropy", "ids"),
    "mse_on_softmax_classifier": (head(4, "softmax"), "mse", "ids"),
    "mse_on_onehot": (head(4, "softmax"), "mean_squared_error", "onehot"),
    "softmax_single_unit": (head(1, "softmax"), "binary_crossentropy", "binary"),
    "categorical_single_unit": (head(1, "sigmoid"), "categorical_crossentropy", "binary"),
    "binary_two_softmax_units": (head(2, "softmax"), "binary_crossentropy", "binary"),
    "bce_on_class_ids": (head(1, "sigmoid"), "binary_crossentropy", "ids"),
    "bce_on_signed_labels": (head(1, "sigmoid"), "binary_crossentropy", "signed"),
    "softmax_multilabel": (head(4, "softmax"), "categorical_crossentropy", "multihot"),
    "cross_entropy_on_regression": (head(1, "sigmoid"), "binary_crossentropy", "regression"),
    "regression_units_mismatch": (head(3), "mse", "regression"),
}

MATCHES = {
    "binary_sigmoid_bce": (head(1, "sigmoid"), "binary_crossentropy", "binary"),
    "binary_softmax_sparse": (head(2, "softmax"), "sparse_categorical_crossentropy", "binary"),
    "softmax_sparse_integer": (head(4, "softmax"), "sparse_categorical_crossentropy", "ids"),
    "softmax_categorical_onehot": (head(4, "softmax"), "categorical_crossentropy", "onehot"),
    "logits_from_logits": (
        head(4), keras.losses.SparseCategoricalCrossentropy(from_logits=True), "ids"),
    "binary_logits": (head(1), keras.losses.BinaryCrossentropy(from_logits=True), "binary"),
    "multilabel_sigmoid_bce": (head(4, "sigmoid"), "binary_crossentropy", "multihot"),
    "regression_linear_mse": (head(1), "mse", "regression"),
    "regression_linear_mae_int_targets": (head(1), "mae", "ids"),
}


@pytest.mark.parametrize("name", sorted(MISMATCHES))
def test_loss_output_mismatch_fires(name):
    layers, loss, labels = MISMATCHES[name]
    findings = run_check(LossOutputMismatch(), builder(layers, loss), LABELS[labels])
    assert [f.id for f in findings] == ["loss_output_mismatch"], name
    finding = findings[0]
    assert finding.severity is Severity.CRITICAL
    assert finding.evidence["problems"]
    assert "keras.layers.Dense(" in finding.fix.code and "model.compile(" in finding.fix.code


@pytest.mark.parametrize("name", sorted(MATCHES))
def test_loss_output_mismatch_is_silent_on_matching_twins(name):
    layers, loss, labels = MATCHES[name]
    assert run_check(LossOutputMismatch(), builder(layers, loss), LABELS[labels]) == []


@pytest.mark.parametrize("labels, loss, expected_head, expected_loss", [
    ("onehot", "binary_crossentropy", 'Dense(4, activation="softmax")',
     '"categorical_crossentropy"'),
    ("ids", "categorical_crossentropy", 'Dense(4, activation="softmax")',
     '"sparse_categorical_crossentropy"'),
    ("multihot", "categorical_crossentropy", 'Dense(4, activation="sigmoid")',
     '"binary_crossentropy"'),
])
def test_loss_output_mismatch_fix_shows_the_matching_head(labels, loss, expected_head,
                                                          expected_loss):
    findings = run_check(LossOutputMismatch(), builder(head(4, "softmax"), loss), LABELS[labels])
    assert expected_head in findings[0].fix.code
    assert expected_loss in findings[0].fix.code


def test_loss_output_mismatch_keeps_the_users_logits_choice():
    logits_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    build = builder(head(4, "softmax"), logits_loss)
    code = run_check(LossOutputMismatch(), build, IDS4)[0].fix.code
    assert "keras.layers.Dense(4)" in code
    assert "SparseCategoricalCrossentropy(from_logits=True)" in code


def test_extra_output_units_are_only_a_warning():
    build = builder(head(6, "softmax"), "sparse_categorical_crossentropy")
    findings = run_check(LossOutputMismatch(), build, IDS4)
    assert findings[0].severity is Severity.WARNING


def test_label_view_reads_every_encoding():
    assert label_view(LABELS["binary"], 100).encoding == "class_ids"
    assert label_view(LABELS["binary"][:, None], 100).n_classes == 2
    assert label_view(LABELS["onehot"], 100).encoding == "onehot"
    assert label_view(LABELS["multihot"], 100).encoding == "multihot"
    assert label_view(LABELS["regression"], 100).encoding == "continuous"


def test_no_nonlinearity_fires_on_stacked_linear_dense():
    build = builder(lambda: [keras.layers.Dense(32), keras.layers.Dropout(0.1),
                             keras.layers.Dense(4, activation="softmax")],
                    "sparse_categorical_crossentropy")
    findings = run_check(NoNonlinearity(), build, IDS4)
    assert [f.id for f in findings] == ["no_nonlinearity"]
    assert findings[0].evidence["n_pairs"] == 1
    assert 'activation="relu"' in findings[0].fix.code


def test_no_nonlinearity_is_silent_with_activations_and_on_branches():
    relu = builder(head(4, "softmax"), "sparse_categorical_crossentropy")
    assert run_check(NoNonlinearity(), relu, IDS4) == []
    separate_activation = builder(
        lambda: [keras.layers.Dense(32), keras.layers.BatchNormalization(),
                 keras.layers.Activation("relu"), keras.layers.Dense(4, activation="softmax")],
        "sparse_categorical_crossentropy")
    assert run_check(NoNonlinearity(), separate_activation, IDS4) == []

    def branched():
        inputs = keras.Input(shape=(8,))
        linear = keras.layers.Dense(8)(inputs)
        relu = keras.layers.Dense(8, activation="relu")(inputs)
        merged = keras.layers.Concatenate()([linear, relu])
        model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(merged))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    assert run_check(NoNonlinearity(), branched, IDS4) == []


def test_dropout_too_high_fires_above_the_rate_and_not_at_it():
    high = builder(lambda: [keras.layers.Dense(32, activation="relu"), keras.layers.Dropout(0.8),
                            keras.layers.Dense(4, activation="softmax")],
                   "sparse_categorical_crossentropy")
    findings = run_check(DropoutTooHigh(), high, IDS4)
    assert [f.id for f in findings] == ["dropout_too_high"]
    assert list(findings[0].evidence["layers"].values()) == [pytest.approx(0.8)]
    usual = builder(lambda: [keras.layers.Dense(32, activation="relu"), keras.layers.Dropout(0.5),
                             keras.layers.Dense(4, activation="softmax")],
                    "sparse_categorical_crossentropy")
    assert run_check(DropoutTooHigh(), usual, IDS4) == []


@pytest.mark.parametrize("activation, targets, severity", [
    ("sigmoid", RNG.uniform(0, 100, 64), Severity.CRITICAL),
    ("relu", RNG.normal(0, 1, 64), Severity.CRITICAL),
    ("tanh", np.r_[RNG.uniform(-0.9, 0.9, 60), [3.0, 4.0, 5.0, 6.0]], Severity.WARNING),
])
def test_output_range_mismatch_fires(activation, targets, severity):
    findings = run_check(OutputRangeMismatch(), builder(head(1, activation), "mse"),
                         targets.astype("float32"))
    assert [f.id for f in findings] == ["output_range_mismatch"]
    assert findings[0].severity is severity
    assert "keras.layers.Dense(1)" in findings[0].fix.code


@pytest.mark.parametrize("activation, targets", [
    (None, RNG.normal(0, 50, 64)),
    ("sigmoid", RNG.uniform(0, 1, 64)),
    ("relu", RNG.uniform(0, 10, 64)),
])
def test_output_range_mismatch_is_silent_when_the_targets_fit(activation, targets):
    assert run_check(OutputRangeMismatch(), builder(head(1, activation), "mse"),
                     targets.astype("float32")) == []


def test_thresholds_are_validated():
    with pytest.raises(ValueError, match="max_rate"):
        DropoutTooHigh(max_rate=1.5)
    with pytest.raises(ValueError, match="max_class_ids"):
        LossOutputMismatch(max_class_ids=1)
