"""`unscaled_inputs`: features far from zero mean and unit scale, or raw 0-255 pixels."""

from __future__ import annotations

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding


@register
class UnscaledInputs(Check):
    id = "unscaled_inputs"
    description = (
        "Measures each feature's 1st and 99th percentile on a training sample. Inputs are "
        "unscaled when the largest typical magnitude (max over features of |p1| and |p99|) is at "
        "least `max_abs_value`, or when the widest feature range is `max_range_ratio` times the "
        "median feature range (tables only); non-negative images whose pixels go above "
        "`pixel_max` are taken to be raw pixel values. Large inputs saturate activations and "
        "force tiny learning rates, so training stalls or diverges: critical for pixels above "
        "100 (0-255 images) or magnitudes of at least "
        "`critical_abs_value`, a warning otherwise. The inputs measured are what the model's "
        "first trainable layer receives: a sample of training rows is pushed through the "
        "model's leading layers without trainable weights (Normalization, Rescaling, ...) and "
        "its BatchNormalization/LayerNormalization, so an adapted Normalization or a "
        "Rescaling(1/255) silences the check by what it outputs, while a Normalization that "
        "was never adapted (an identity) does not. Silent on text given as token ids into an "
        "Embedding layer."
    )
    category = "data"
    rank = 3
    requires = ("forward_pass",)
    explains = ("lr_too_high", "nan_loss", "exploding_gradients", "dead_relu",
                "saturated_activations", "underfitting", "baseline_beats_model")

    def __init__(self, *, max_abs_value: float = 10.0, max_range_ratio: float = 100.0,
                 pixel_max: float = 2.0, critical_abs_value: float = 1000.0) -> None:
        """Args:
        max_abs_value: Typical magnitude above which inputs count as unscaled. Defaults to 10.
        max_range_ratio: Widest / median feature range above which scales differ too much.
            Defaults to 100.
        pixel_max: Image values above this are read as 0-255 pixels. Defaults to 2.
        critical_abs_value: Typical magnitude that makes the finding critical. Defaults to 1000.
        """
        for name, value in (("max_abs_value", max_abs_value), ("max_range_ratio", max_range_ratio),
                            ("pixel_max", pixel_max), ("critical_abs_value", critical_abs_value)):
            if value <= 0:
                raise ValueError(f"{name} must be positive. Received: {name}={value}")
        self.max_abs_value = max_abs_value
        self.max_range_ratio = max_range_ratio
        self.pixel_max = pixel_max
        self.critical_abs_value = critical_abs_value

    def run(self, evidence: Evidence) -> list[Finding]:
        if evidence.setup.token_inputs:
            return []
        stats = evidence.get("forward_pass")
        ranges = stats.ranges
        magnitude = np.maximum(np.abs(ranges.p01), np.abs(ranges.p99))
        spans = ranges.p99 - ranges.p01
        top, bottom = float(np.nanmax(ranges.maximum)), float(np.nanmin(ranges.minimum))
        if stats.image and bottom >= 0 and top > self.pixel_max:
            return [self.finding(
                "critical" if top > 100 else "warning",
                f"pixel values run from {bottom:g} to {top:g}{_after(stats)}: raw pixel values "
                "go into the model unscaled",
                {"pixel_min": bottom, "pixel_max": top,
                 "mean_pixel": float(np.nanmean(ranges.mean)), **stats.sample_note()},
                _unadapted(stats) + "Rescale pixels to [0, 1] inside the model with a "
                "Rescaling layer, so saved models scale their own inputs.",
                """
                inputs = keras.Input(shape=x_train.shape[1:])
                x = keras.layers.Rescaling(1.0 / 255)(inputs)
                # ... the rest of your model on x
                """,
            )]
        worst = int(np.nanargmax(magnitude))
        positive = spans[spans > 0]
        median_range = float(np.median(positive)) if positive.size else 0.0
        ratio = float(spans.max() / median_range) if median_range > 0 else 0.0
        spread_out = ratio >= self.max_range_ratio and not stats.image  # pixels share a scale
        if magnitude[worst] < self.max_abs_value and not spread_out:
            return []
        order = np.argsort(-magnitude)[:5]
        shown = {stats.feature_names[i]: [round(float(ranges.p01[i]), 4),
                                          round(float(ranges.p99[i]), 4)] for i in order}
        severity = "critical" if magnitude[worst] >= self.critical_abs_value else "warning"
        return [self.finding(
            severity,
            f"inputs are unscaled{_after(stats)}: {stats.feature_names[worst]} reaches "
            f"{float(magnitude[worst]):.4g} while the median feature spans {median_range:.3g}",
            {"largest_magnitude": float(magnitude[worst]),
             "largest_feature": stats.feature_names[worst],
             "widest_to_median_range": round(ratio, 1),
             "p1_p99_of_largest": shown,
             "features_above_max_abs_value": int((magnitude >= self.max_abs_value).sum()),
             **stats.sample_note()},
            _unadapted(stats) + "Standardise the inputs inside the model with a Normalization "
            "layer adapted on the training data (mean 0, variance 1 per feature).",
            """
            normalizer = keras.layers.Normalization()
            normalizer.adapt(x_train)
            model = keras.Sequential([keras.Input(shape=x_train.shape[1:]), normalizer,
                                      *model_layers])
            """,
        )]


def _after(stats) -> str:
    """" after the model's Normalization layer" when the inputs went through preprocessing."""
    if not stats.preprocessing:
        return ""
    return f" after the model's {', '.join(stats.preprocessing)} layer(s)"


def _unadapted(stats) -> str:
    """Advice for preprocessing layers that returned their input unchanged."""
    if not stats.preprocessing or not stats.unchanged:
        return ""
    hint = (" A Normalization layer that was never adapted is an identity: call "
            "`normalizer.adapt(x_train)` before building the model on it."
            if "Normalization" in stats.preprocessing else "")
    return (f"The model's {', '.join(stats.preprocessing)} layer(s) pass the inputs through "
            f"unchanged.{hint} ")
