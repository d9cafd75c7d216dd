"""Scale and missing-value checks judge what reaches the first trainable layer, measured by
pushing a sample through the model's own preprocessing layers (`forward_pass`), not the
presence of those layers."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

import fitdoctor
from fitdoctor.budget import get_budget
from fitdoctor.evidence import Evidence


@pytest.fixture(scope="module")
def cancer():
    """Breast cancer as given: features up to about 4,000 (area)."""
    data = load_breast_cancer()
    x_tr, x_val, y_tr, y_val = train_test_split(data.data.astype("float32"), data.target,
                                                test_size=0.25, random_state=0,
                                                stratify=data.target)
    return (x_tr, y_tr), (x_val, y_val)


def classifier(n_inputs, n_classes, *front):
    """A small MLP with `front` layers (built on call) between its input and first Dense."""

    def build():
        model = keras.Sequential([keras.Input((n_inputs,)), *(make() for make in front),
                                  keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(n_classes, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build


def problems(build, train, val, check_id):
    setup = fitdoctor.Setup.from_arrays(build, train, val, {"epochs": 1, "batch_size": 32})
    report = fitdoctor.diagnose(setup=setup, checks=[check_id], budget="quick")
    failed = [f for f in report.findings if f.id == "check_failed"]
    assert not failed, failed[0].title
    return [f for f in report.problems if f.id == check_id]


def test_an_unadapted_normalization_does_not_silence_unscaled_inputs(cancer):
    found = problems(classifier(30, 2, keras.layers.Normalization), *cancer, "unscaled_inputs")
    assert len(found) == 1 and found[0].severity.value == "critical"
    assert found[0].evidence["measured_after"] == ["Normalization"]
    assert found[0].evidence["largest_magnitude"] > 1000
    assert "never adapted" in found[0].fix.advice


def test_an_adapted_normalization_silences_unscaled_inputs(cancer):
    (x, _), _ = cancer

    def adapted():
        norm = keras.layers.Normalization()
        norm.adapt(x)
        return norm

    assert problems(classifier(30, 2, adapted), *cancer, "unscaled_inputs") == []


def test_a_normalization_given_the_wrong_statistics_is_judged_by_its_output(cancer):
    wrong = classifier(30, 2, lambda: keras.layers.Normalization(mean=0.0, variance=4.0))
    found = problems(wrong, *cancer, "unscaled_inputs")
    assert len(found) == 1 and found[0].evidence["largest_magnitude"] > 500


def test_forward_pass_reports_the_leading_layers_and_stops_at_the_first_trainable_one(cancer):
    build = classifier(30, 2, keras.layers.Normalization, lambda: keras.layers.Dropout(0.0))
    setup = fitdoctor.Setup.from_arrays(build, *cancer, {"epochs": 1})
    passed = Evidence(setup, get_budget("quick")).get("forward_pass")
    assert passed.preprocessing == ("Normalization", "Dropout")
    assert passed.unchanged and passed.rows_measured == len(cancer[0][0])


@pytest.fixture(scope="module")
def digits_with_nan():
    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    x[::9, 20] = np.nan
    x_tr, x_val, y_tr, y_val = train_test_split(x, data.target, test_size=0.25,
                                                random_state=0, stratify=data.target)
    return (x_tr, y_tr), (x_val, y_val)


def test_nan_passing_through_a_normalization_still_reaches_the_network(digits_with_nan):
    (x, _), _ = digits_with_nan

    def adapted_on_filled():
        norm = keras.layers.Normalization()
        norm.adapt(np.nan_to_num(x))
        return norm

    found = problems(classifier(64, 10, adapted_on_filled), *digits_with_nan, "missing_values")
    assert len(found) == 1 and found[0].severity.value == "critical"
    ev = found[0].evidence
    assert ev["measured_after"] == ["Normalization"]
    assert ev["missing_rows_checked"] == ev["missing_rows_reaching_network"] > 0
    assert "x[20]" in found[0].title


def test_a_model_that_imputes_in_its_graph_is_not_told_about_nan(digits_with_nan):
    def impute():
        return keras.layers.Lambda(lambda t: keras.ops.where(keras.ops.isnan(t), 0.0, t))

    assert problems(classifier(64, 10, impute), *digits_with_nan, "missing_values") == []


def test_a_normalization_adapted_on_nan_makes_every_input_nan(digits_with_nan):
    (x, _), _ = digits_with_nan

    def adapted_on_nan():
        norm = keras.layers.Normalization()
        norm.adapt(x)
        return norm

    found = problems(classifier(64, 10, adapted_on_nan), *digits_with_nan, "missing_values")
    assert len(found) == 1
    assert found[0].evidence["rows_made_nonfinite_by_preprocessing"] > 1000
    assert "turn NaN/Inf in the model's Normalization layer" in found[0].title


def test_the_unchanged_test_answers_as_numpys_allclose_piece_by_piece(monkeypatch):
    from fitdoctor.evidence import forward_pass, impute

    monkeypatch.setattr(impute, "BLOCK_VALUES", 16)  # 2 rows of 8 values a piece
    a = np.random.default_rng(11).normal(size=(9, 8)).astype("float32")
    a[4, 2] = np.nan
    for b in (a.copy(), a * 1.001, np.where(np.arange(9)[:, None] == 8, a + 1.0, a)):
        assert forward_pass._all_close(a, b) == np.allclose(a.astype("float64"),
                                                            b.astype("float64"), equal_nan=True)
    assert forward_pass._all_close(a, a.copy()) and not forward_pass._all_close(a, a * 1.001)


def test_the_sample_goes_through_the_leading_layers_in_batches_with_the_same_result(
        monkeypatch, digits_with_nan):
    """However many rows go through the preprocessing at a time, the forward pass measures
    the same: ranges, the unchanged test and the rows made non-finite, counted over batches."""
    import dataclasses

    from fitdoctor.evidence import impute

    (x, _), _ = digits_with_nan

    def adapted_on_nan():
        norm = keras.layers.Normalization()
        norm.adapt(x[:200])  # NaN in column 20: every row comes out NaN there
        return norm

    setup = fitdoctor.Setup.from_arrays(classifier(64, 10, adapted_on_nan), *digits_with_nan,
                                        {"epochs": 1})
    whole = Evidence(setup, get_budget("quick")).get("forward_pass")
    monkeypatch.setattr(impute, "BLOCK_VALUES", 64 * 100)  # 100 rows at a time
    batched = Evidence(setup, get_budget("quick")).get("forward_pass")
    assert whole.nonfinite_created == batched.nonfinite_created > 1000
    assert not whole.unchanged and not batched.unchanged
    for got, want in zip(dataclasses.astuple(batched.ranges), dataclasses.astuple(whole.ranges),
                         strict=True):
        np.testing.assert_array_equal(got, want)
