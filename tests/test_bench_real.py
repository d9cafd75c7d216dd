"""The real-data benchmark's verdicts (`bench/real_data.py`), on a data set scikit-learn ships.

The benchmark's own cases read `../shared/data`, which a clone does not have; the verdict
logic is the same for any case, so it is checked here on breast cancer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer

from .conftest import bench_module

real = bench_module("real_data")


def _cancer(scaled: bool):
    def make(data: Path, scratch: Path):
        d = load_breast_cancer()
        xt, xv, yt, yv = real._split(d.data.astype("float32"), d.target)
        if scaled:
            xt, xv = real._standardize(xt, xv)
        return real._from_arrays(real._mlp(30), (xt, yt), (xv, yv), epochs=10)
    return make


@pytest.mark.slow
def test_a_right_diagnosis_passes_and_a_wrong_one_fails_with_the_reasons(tmp_path):
    healthy = real.RealCase("cancer", "healthy", _cancer(True), first=(),
                            forbidden=("unscaled_inputs",))
    row = real.run_case(healthy, tmp_path)
    assert row["error"] is None and row["problems"] == [] and row["passed"]

    raw = real.RealCase("cancer_raw", "raw inputs", _cancer(False),
                        expected=("unscaled_inputs",), forbidden=("unscaled_inputs",),
                        first=("nan_loss",),
                        verify=lambda setup, report, logs: "the verify hook ran")
    row = real.run_case(raw, tmp_path)
    assert row["problems"][0] == "unscaled_inputs" and not row["passed"]
    assert row["why_not"] == ["`unscaled_inputs` raised",
                              "first is `unscaled_inputs`, not the root cause",
                              "the verify hook ran"]
    assert "FAIL: `unscaled_inputs` raised" in real.render([row], {"commit": "c", "started": "t"})


def test_a_case_that_cannot_be_built_fails_instead_of_stopping_the_run(tmp_path):
    def broken(data, scratch):
        raise FileNotFoundError("no such file: titanic/train.csv")
    row = real.run_case(real.RealCase("broken", "missing data", broken), tmp_path)
    assert not row["passed"] and row["error"].startswith("FileNotFoundError")
