"""The value formatter the terminal, the HTML pages and fix.md share."""

from __future__ import annotations

import numpy as np
import pytest

from fitdoctor.report.values import MAX_ITEMS, format_number, format_value


@pytest.mark.parametrize("value,text", [
    (0.123456, "0.1235"), (3.0, "3"), (0.0, "0"), (1e-5, "1e-05"), (123456.0, "1.23e+05"),
    (-0.5, "-0.5"), (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"),
])
def test_floats_to_four_significant_digits_and_non_finite_by_name(value, text):
    assert format_number(value) == text
    assert format_value(value) == text


def test_other_scalars():
    assert format_value(None) == "None" and format_value(True) == "True"
    assert format_value(7) == "7" and format_value("nan") == "nan"
    assert format_value(np.float32(0.25)) == "0.25" and format_value(np.int64(3)) == "3"
    assert format_value(np.float64("nan")) == "nan"


def test_lists_and_dicts_share_one_item_limit():
    assert format_value([1, 0.5, float("inf")]) == "[1, 0.5, inf]"
    long = list(range(MAX_ITEMS + 3))
    assert format_value(long) == "[" + ", ".join(map(str, range(MAX_ITEMS))) + ", …]"
    wide = {f"k{i}": i / 3 for i in range(MAX_ITEMS + 1)}
    text = format_value(wide)
    assert text.count("=") == MAX_ITEMS and text.endswith(", …}")
    assert text.startswith("{k0=0, k1=0.3333")
    assert format_value({"a": [1.0, float("nan")]}) == "{a=[1, nan]}"
    assert format_value(long, max_items=2) == "[0, 1, …]"
