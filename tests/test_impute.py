"""The probes' median imputer fills what scikit-learn's `SimpleImputer` fills."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.impute import SimpleImputer

from fitdoctor.evidence.impute import MedianImputer


def _table(dtype, rows=301, cols=7):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(rows, cols)).astype(dtype)
    x[rng.random(x.shape) < 0.2] = np.nan
    x[:, 2] = np.nan  # a column with no value at all
    x[:, 4] = np.round(x[:, 4])  # ties at the median
    return x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_it_fills_the_values_simple_imputer_fills(dtype):
    x, later = _table(dtype), _table(dtype, rows=50)[::-1].copy()
    ours = MedianImputer().fit(x)
    theirs = SimpleImputer(strategy="median", keep_empty_features=True).fit(x)
    np.testing.assert_array_equal(ours.statistics_, theirs.statistics_)
    for table in (x, later):
        filled = ours.transform(table)
        assert filled.dtype == theirs.transform(table).dtype and not np.isnan(filled).any()
        np.testing.assert_array_equal(filled, theirs.transform(table))
    assert np.isnan(x).any()  # the input is left as it was


def test_a_complete_table_comes_back_unchanged_and_integers_become_floats():
    x = np.arange(12).reshape(4, 3)
    filled = MedianImputer().fit_transform(x)
    assert filled.dtype == np.float64
    np.testing.assert_array_equal(filled, x)


def test_a_table_of_other_width_or_shape_is_refused():
    imputer = MedianImputer().fit(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="fitted on 3 columns. Received: 4 columns"):
        imputer.transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"2-D table. Received: shape \(5,\)"):
        MedianImputer().fit(np.zeros(5))
