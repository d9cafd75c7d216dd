"""`output_range_mismatch`: a regression output activation that cannot reach the targets."""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity

#: What each output activation can produce (closed bounds; open ones are reached in the limit).
_RANGES = {
    "sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0),
    "tanh": (-1.0, 1.0), "soft_sign": (-1.0, 1.0), "softsign": (-1.0, 1.0),
    "relu": (0.0, math.inf), "relu6": (0.0, 6.0), "softplus": (0.0, math.inf),
    "exponential": (0.0, math.inf), "elu": (-1.0, math.inf), "selu": (-1.7581, math.inf),
    "gelu": (-0.17, math.inf), "silu": (-0.279, math.inf), "swish": (-0.279, math.inf),
}


@register
class OutputRangeMismatch(Check):
    id = "output_range_mismatch"
    category = "model"
    role = Role.CAUSE
    rank = 5
    requires = ("model_info",)
    tasks = ("regression",)
    explains = ("underfitting", "baseline_beats_model")
    description = """
    For regression, the output layer's activation cannot produce the values of the targets:
    sigmoid/softmax give (0, 1), tanh (-1, 1), relu/softplus/exponential only non-negative
    values, relu6 at most 6. When more than `max_outside_fraction` (1 %) of the training
    targets lie outside the activation's range the model can never predict them and the loss
    stays high. Warning; critical when more than `critical_fraction` (25 %) lie outside. The fix
    is a linear output (no activation), or scaling the targets into the range.
    """

    def __init__(self, *, max_outside_fraction: float = 0.01,
                 critical_fraction: float = 0.25) -> None:
        if not 0 <= max_outside_fraction < critical_fraction <= 1:
            raise ValueError(
                "need 0 <= max_outside_fraction < critical_fraction <= 1. Received: "
                f"max_outside_fraction={max_outside_fraction}, "
                f"critical_fraction={critical_fraction}"
            )
        self.max_outside_fraction = max_outside_fraction
        self.critical_fraction = critical_fraction

    def run(self, evidence: Evidence) -> list[Finding]:
        info = evidence.get("model_info")
        bounds = _RANGES.get(info.output_activation)
        if bounds is None:
            return []
        y = np.asarray(evidence.setup.y_train, dtype="float64")
        y = y[np.isfinite(y)]
        if y.size == 0:
            return []
        low, high = bounds
        tol = 1e-6 * max(1.0, float(np.abs(y).max()))
        outside = float(np.mean((y < low - tol) | (y > high + tol)))
        if outside <= self.max_outside_fraction:
            return []
        severity = Severity.CRITICAL if outside > self.critical_fraction else Severity.WARNING
        span = f"[{y.min():g}, {y.max():g}]"
        reach = f"[{low:g}, {high:g}]"
        return [self.finding(
            severity,
            f"The {info.output_activation} output can only produce {reach} but {outside:.0%} of "
            f"the targets lie outside it (targets span {span})",
            {"output_activation": info.output_activation, "output_range": [low, high],
             "target_min": float(y.min()), "target_max": float(y.max()),
             "fraction_outside": outside},
            "Use a linear output layer for regression (and scale the targets, e.g. standardize "
            "them, if their range is large).",
            f"""
            # last layer of build_model():
            keras.layers.Dense({info.output_units}),  # linear: any real value
            """,
        )]
