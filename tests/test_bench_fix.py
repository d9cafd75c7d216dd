"""The repair benchmark's comparison: accuracy points, or R² points for regression."""

from __future__ import annotations

import numpy as np
import pytest

import fitdoctor

from .conftest import BENCH, bench_module

repair = bench_module("fix_repair")


def test_regression_is_compared_in_r2_whatever_the_target_units():
    raw = fitdoctor.load_setup(BENCH / "cases" / "output_range_mismatch_diabetes_sigmoid.py")
    scaled = fitdoctor.load_setup(BENCH / "cases" / "healthy_regression_diabetes.py")
    var_raw, var_scaled = float(np.var(raw.y_val)), float(np.var(scaled.y_val))
    assert var_raw > 1000 * var_scaled  # the same targets in other units
    # the same relative error in either unit gives the same R²
    after = repair.with_r2({"val_loss": 0.5 * var_raw}, raw)
    twin = repair.with_r2({"val_loss": 0.5 * var_scaled}, scaled)
    assert after["val_r2"] == pytest.approx(0.5) and twin["val_r2"] == pytest.approx(0.5)
    assert repair.within(after, twin, regression=True)
    worse = repair.with_r2({"val_loss": 0.55 * var_raw}, raw)
    assert not repair.within(worse, twin, regression=True)


def test_classification_is_compared_in_accuracy_points():
    twin = {"val_accuracy": 0.96}
    assert repair.within({"val_accuracy": 0.931}, twin, regression=False)
    assert not repair.within({"val_accuracy": 0.92}, twin, regression=False)
