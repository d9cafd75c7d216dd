"""`unscaled_inputs`: features far from zero mean and unit scale, or raw 0-255 pixels."""

from __future__ import annotations

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding

#: Layers that put inputs on a common scale when they come before the first weighted layer.
NORMALIZERS = ("Normalization", "Rescaling", "BatchNormalization", "LayerNormalization")
#: Layers that only reshape: looking past them for a normalizer is still "first".
_PASS_THROUGH = ("InputLayer", "Flatten", "Reshape", "Permute", "Resizing", "CenterCrop")


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
        "`critical_abs_value`, a warning otherwise. Silent when a Normalization, Rescaling or "
        "BatchNormalization layer comes before the model's first weighted layer, and on text "
        "given as token ids into an Embedding layer."
    )
    category = "data"
    rank = 3
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

    @staticmethod
    def normalizer(evidence: Evidence) -> str | None:
        """The kind of normalizing layer before the first weighted layer, if any."""
        for layer in evidence.get("model_info").layers:
            if layer.kind in NORMALIZERS:
                return layer.kind
            if layer.kind in _PASS_THROUGH or layer.params == 0:
                continue
            return None
        return None

    def run(self, evidence: Evidence) -> list[Finding]:
        stats = evidence.get("data_stats")
        if self.normalizer(evidence) is not None or evidence.setup.token_inputs:
            return []
        magnitude = np.maximum(np.abs(stats.p01), np.abs(stats.p99))
        ranges = stats.p99 - stats.p01
        top, bottom = float(np.nanmax(stats.maximum)), float(np.nanmin(stats.minimum))
        if stats.image and bottom >= 0 and top > self.pixel_max:
            return [self.finding(
                "critical" if top > 100 else "warning",
                f"pixel values run from {bottom:g} to {top:g}: raw pixel values go into the "
                "model unscaled",
                {"pixel_min": bottom, "pixel_max": top,
                 "mean_pixel": float(np.nanmean(stats.mean)), **stats.sample_note()},
                "Rescale pixels to [0, 1] inside the model with a Rescaling layer, so saved "
                "models scale their own inputs.",
                """
                inputs = keras.Input(shape=x_train.shape[1:])
                x = keras.layers.Rescaling(1.0 / 255)(inputs)
                # ... the rest of your model on x
                """,
            )]
        worst = int(np.nanargmax(magnitude))
        positive = ranges[ranges > 0]
        median_range = float(np.median(positive)) if positive.size else 0.0
        ratio = float(ranges.max() / median_range) if median_range > 0 else 0.0
        spread_out = ratio >= self.max_range_ratio and not stats.image  # pixels share a scale
        if magnitude[worst] < self.max_abs_value and not spread_out:
            return []
        order = np.argsort(-magnitude)[:5]
        shown = {
            stats.feature_names[i]: [round(float(stats.p01[i]), 4), round(float(stats.p99[i]), 4)]
            for i in order
        }
        severity = "critical" if magnitude[worst] >= self.critical_abs_value else "warning"
        return [self.finding(
            severity,
            f"inputs are unscaled: {stats.feature_names[worst]} reaches "
            f"{float(magnitude[worst]):.4g} while the median feature spans {median_range:.3g}",
            {"largest_magnitude": float(magnitude[worst]),
             "largest_feature": stats.feature_names[worst],
             "widest_to_median_range": round(ratio, 1),
             "p1_p99_of_largest": shown,
             "features_above_max_abs_value": int((magnitude >= self.max_abs_value).sum()),
             **stats.sample_note()},
            "Standardise the inputs inside the model with a Normalization layer adapted on the "
            "training data (mean 0, variance 1 per feature).",
            """
            normalizer = keras.layers.Normalization()
            normalizer.adapt(x_train)
            model = keras.Sequential([keras.Input(shape=x_train.shape[1:]), normalizer,
                                      *model_layers])
            """,
        )]
