"""One formatter for measured values, shared by the terminal, the HTML pages and `fix.md`.

Evidence values are JSON: numbers, strings (non-finite floats arrive as `"nan"`, `"inf"`,
`"-inf"`), lists and dicts. Every renderer shows them the same way, so a number reads the same
in the terminal as in the HTML report.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

#: Items shown of a list or a dict before the rest is cut to "…".
MAX_ITEMS = 8


def format_number(value: float) -> str:
    """A float to 4 significant digits (3 in scientific notation); `nan`, `inf`, `-inf` as such.

    Example: `format_number(0.123456)` is `"0.1235"`, `format_number(1e-5)` is `"1e-05"`.
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3g}"
    return f"{value:.4g}"


def format_value(value: Any, *, max_items: int = MAX_ITEMS) -> str:
    """A measured value as short text: floats to 4 significant digits, long lists and dicts cut.

    Args:
        value: A JSON-like value: None, bool, int, float, str, list, tuple or dict (NumPy
            scalars read as numbers).
        max_items: Items of a list or dict shown before "…". Defaults to `MAX_ITEMS` (8).

    Returns:
        The text, e.g. `"[1, 0.5, nan]"` or `"{dense=0.7, …}"`.
    """
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return format_number(float(value))
    if isinstance(value, (list, tuple)):
        shown = ", ".join(format_value(v, max_items=max_items) for v in value[:max_items])
        return f"[{shown}{', …' if len(value) > max_items else ''}]"
    if isinstance(value, Mapping):
        items = list(value.items())[:max_items]
        shown = ", ".join(f"{k}={format_value(v, max_items=max_items)}" for k, v in items)
        return "{" + shown + (", …" if len(value) > max_items else "") + "}"
    return str(value)
