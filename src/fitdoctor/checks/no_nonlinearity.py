"""`no_nonlinearity`: stacked Dense/convolution layers with nothing non-linear between them."""

from __future__ import annotations

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity
from fitdoctor.keras_vocab import PASS_THROUGH_LAYERS

#: Layers that keep a linear map linear: seen between two weighted layers, they do not help.
_PASS_THROUGH = PASS_THROUGH_LAYERS


@register
class NoNonlinearity(Check):
    id = "no_nonlinearity"
    category = "model"
    role = Role.CAUSE
    rank = 10
    requires = ("model_info",)
    explains = ("underfitting", "baseline_beats_model")
    description = """
    A Dense or convolution layer with no activation (linear) feeds another Dense or convolution
    layer with only pass-through layers between them (Dropout, BatchNormalization, Flatten,
    Reshape, noise). Two affine maps in a row compose into one, so the extra layer adds
    parameters but no capacity: the stack is no more expressive than a single layer, and a
    "deep" classifier built this way is a linear model. Read from the model graph, no training.
    Warning for each such pair; there are no thresholds.
    """

    def run(self, evidence: Evidence) -> list[Finding]:
        info = evidence.get("model_info")
        by_name = {layer.name: layer for layer in info.layers}
        pairs = []
        for layer in info.layers:
            if not layer.is_weighted:
                continue
            source = self._linear_source(layer, by_name)
            if source is not None:
                pairs.append((source, layer))
        if not pairs:
            return []
        first, second = pairs[0]
        names = [f"{a.name} -> {b.name}" for a, b in pairs]
        units = first.units or 64
        return [self.finding(
            Severity.WARNING,
            f"Layer {first.name} ({first.kind}, {first.units} units) has no activation and "
            f"feeds {second.name}: the two collapse into one linear layer",
            {"linear_pairs": names, "n_pairs": len(pairs)},
            "Give the hidden layer a non-linear activation (relu is the usual default), or "
            "remove it if a linear model is what you want.",
            f"""
            # in build_model(), instead of keras.layers.{first.kind}({first.units}):
            keras.layers.{first.kind}({units}, activation="relu"),
            """,
        )]

    @staticmethod
    def _linear_source(layer, by_name):
        """The linear weighted layer feeding `layer` through pass-through layers, if any."""
        current = layer
        while len(current.inbound) == 1 and current.inbound[0] in by_name:
            parent = by_name[current.inbound[0]]
            if parent.is_weighted:
                return parent if parent.activation in ("linear", "") else None
            if parent.kind not in _PASS_THROUGH or parent.activation not in ("linear", ""):
                return None
            current = parent
        return None
