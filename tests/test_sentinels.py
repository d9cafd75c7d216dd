"""Missing values written as numbers: -999-style codes and zeros where zero is impossible, on
real data (the first 500 Pima rows in tests/data/pima, scikit-learn's breast cancer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import fitdoctor
from fitdoctor.checks.missing_values import MissingValues
from fitdoctor.evidence.data_stats import MISSING_CODES, Sentinel

from .conftest import dense_classifier

PIMA = Path(__file__).parent / "data" / "pima" / "pima-500.csv"
COLUMNS = ["pregnancies", "glucose", "blood_pressure", "skin_thickness", "insulin", "bmi",
           "pedigree", "age"]
IMPLAUSIBLE_ZEROS = {"glucose", "blood_pressure", "skin_thickness", "insulin", "bmi"}


@pytest.fixture(scope="module")
def pima():
    data = np.loadtxt(PIMA, delimiter=",", dtype="float32")
    x, y = pd.DataFrame(data[:, :8], columns=COLUMNS), data[:, 8].astype("int64")
    return (x[:400], y[:400]), (x[400:], y[400:])


def finding(train, val):
    setup = fitdoctor.Setup.from_arrays(dense_classifier(train[0].shape[1], 2), train, val,
                                        {"epochs": 1})
    report = fitdoctor.diagnose(setup=setup, checks=["missing_values"], budget="quick")
    assert not [f for f in report.findings if f.id == "check_failed"]
    found = [f for f in report.problems if f.id == "missing_values"]
    return found[0] if found else None


def named(f):
    written = f.evidence["written_as_numbers"]
    return {entry.split("=")[0]: counts for entry, counts in written.items()}


def test_pima_zeros_are_named_per_column_with_counts_and_pregnancies_left_alone(pima):
    (x, _), (xv, _) = pima
    f = finding(*pima)
    assert f is not None and f.severity.value == "warning"
    columns = named(f)
    assert set(columns) == IMPLAUSIBLE_ZEROS  # pregnancies: a count, zero is ordinary
    for column in IMPLAUSIBLE_ZEROS:
        assert columns[column]["train"] == int((x[column] == 0).sum())
        assert columns[column]["val"] == int((xv[column] == 0).sum())
        assert columns[column]["kind"] == "zero"
    assert "194 x 0 in insulin" in f.title
    assert "underfitting" in f.explains and "nan_loss" not in f.explains
    assert ".replace(0, np.nan)" in f.fix.code


def test_pima_without_the_impossible_columns_is_silent(pima):
    (x, y), (xv, yv) = pima
    keep = ["pregnancies", "pedigree", "age"]
    assert finding((x[keep], y), (xv[keep], yv)) is None


def test_zero_concavity_in_breast_cancer_is_not_called_missing():
    data = load_breast_cancer()
    assert (data.data == 0).any()  # 13 tumours with no concavity measured as exactly 0
    x_tr, x_val, y_tr, y_val = train_test_split(data.data.astype("float32"), data.target,
                                                test_size=0.25, random_state=0)
    assert finding((x_tr, y_tr), (x_val, y_val)) is None


def test_zero_pixels_on_a_scale_of_sixteenths_are_a_level_not_missing():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x, y = (x / 16).astype("float32"), y % 2  # odd or even: the helper's model is binary
    assert finding((x[:100], y[:100]), (x[1000:], y[1000:])) is None  # few rows, many zeros
    rng = np.random.default_rng(0)
    x_tr = x[:1200].copy()
    for row in rng.choice(1200, 40, replace=False):  # stray entry errors must not make the
        x_tr[row, rng.choice(64, 8, replace=False)] = rng.uniform(30, 90, 8)  # grid look fine
    assert finding((x_tr, y[:1200]), (x[1200:], y[1200:])) is None


def test_a_minus_999_code_is_named_and_explains_the_scale_it_stretches(pima):
    (x, y), (xv, yv) = pima
    coded, coded_val = x.copy(), xv.copy()
    coded.loc[coded["insulin"] == 0, "insulin"] = -999.0  # how many exports write "unknown"
    coded_val.loc[coded_val["insulin"] == 0, "insulin"] = -999.0
    f = finding((coded, y), (coded_val, yv))
    entry = f.evidence["written_as_numbers"]["insulin=-999"]
    assert entry["kind"] == "code" and entry["train"] == int((x["insulin"] == 0).sum())
    assert {"unscaled_inputs", "outliers"} <= set(f.explains)
    assert ".replace(-999, np.nan)" in f.fix.code


def test_minus_999_inside_a_column_s_range_is_a_value_not_a_code(pima):
    (x, y), (xv, yv) = pima
    shifted, shifted_val = x.copy(), xv.copy()
    for frame in (shifted, shifted_val):  # blood pressure 70 becomes -999, inside the range
        frame["blood_pressure"] = frame["blood_pressure"] - 1069.0
    assert (shifted["blood_pressure"] == -999).sum() >= 2
    f = finding((shifted, y), (shifted_val, yv))
    assert f is not None and "blood_pressure=-999" not in f.evidence["written_as_numbers"]


def test_missing_codes_are_all_nines():
    assert -999 in MISSING_CODES and 999999 in MISSING_CODES and -1 not in MISSING_CODES


@pytest.mark.parametrize("changes, missing", [
    ({}, True),
    ({"count_train": 1}, False),                      # one row is no pattern
    ({"share": 0.95}, False),                         # zero is the column's normal value
    ({"expected_in_gap": 0.0}, False),                # nothing could lie between 0 and m
    ({"share": 0.05}, False),                         # rare and not far below the bulk
    ({"share": 0.05, "depth": 3.5}, True),            # rare but far below the bulk
])
def test_the_zero_rule(changes, missing):
    base = dict(feature="c", index=0, value=0.0, kind="zero", count_train=40, count_val=10,
                share=0.3, expected_in_gap=12.0, depth=1.5)
    assert MissingValues().is_missing(Sentinel(**{**base, **changes})) is missing


def test_the_impute_remedy_fills_pimas_impossible_zeros_with_the_real_values_median(pima):
    from fitdoctor.fix.remedies import remedies_for

    f = finding(*pima)
    (x, y), (xv, yv) = pima
    setup = fitdoctor.Setup.from_arrays(dense_classifier(8, 2), (x, y), (xv, yv), {"epochs": 1})
    remedy = next(r for r in remedies_for("missing_values") if r.id == "impute_missing")
    assert remedy.applies(setup, f)  # no NaN anywhere: the zeros the finding names are missing
    fixed = remedy.apply(setup, f)
    glucose = COLUMNS.index("glucose")
    real = x["glucose"].to_numpy()[x["glucose"].to_numpy() != 0]
    was_zero = x["glucose"].to_numpy() == 0
    assert was_zero.any() and np.all(fixed.x_train[was_zero, glucose] == np.median(real))
    assert not (fixed.x_val[:, glucose] == 0).any()
    pregnancies = COLUMNS.index("pregnancies")  # a count: its zeros stay zeros
    np.testing.assert_array_equal(fixed.x_train[:, pregnancies], x["pregnancies"].to_numpy())
    assert (x["glucose"] == 0).any()  # the user's data is left as it was
    code = remedy.code(setup, f)
    assert "x_train['glucose'] = x_train['glucose'].replace(0, np.nan)" in code
    assert code == f.fix.code  # the finding's fix and the remedy's code are one writer's

    # a finding without written values, on data without NaN: nothing to fill
    plain = fitdoctor.Finding("missing_values", "warning", "missing_values", {})
    assert not remedy.applies(setup, plain)
