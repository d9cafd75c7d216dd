"""`too_many_parameters`: far more trainable parameters than training rows, unregularized."""

from __future__ import annotations

from fitdoctor.checks._architecture import EARLY_STOPPING, dense_sketch, hidden_widths
from fitdoctor.checks.base import Check, register
from fitdoctor.checks.overfitting import (
    Overfitting,
    early_stopping,
    is_overfitting,
    overfit_signals,
)
from fitdoctor.evidence import Evidence, EvidenceUnavailable
from fitdoctor.findings import Finding, Role, Severity


@register
class TooManyParameters(Check):
    id = "too_many_parameters"
    category = "model"
    role = Role.CAUSE
    rank = 30
    requires = ("model_info", "probe_run")
    description = """
    The model has more than `max_params_per_row` (10) trainable parameters per training row
    and nothing that restrains it: no Dropout layer, no weight or activity regularizer, no
    EarlyStopping callback. Parameter count alone does not prove harm (large networks often
    generalize), so this is only a note (info) to keep an eye on the validation curve. When
    the probe run does overfit (by the `overfitting` check's default rule), the parameter count
    is merged into the `overfitting` finding, which reports `params_per_row` and whose fix
    shrinks the layers, and nothing is reported here: the measured overfitting, not the count,
    is what ranks.
    """

    def __init__(self, *, max_params_per_row: float = 10.0) -> None:
        if max_params_per_row <= 0:
            raise ValueError(
                f"max_params_per_row must be positive. Received: {max_params_per_row}"
            )
        self.max_params_per_row = max_params_per_row

    def run(self, evidence: Evidence) -> list[Finding]:
        info = evidence.get("model_info")
        n_train = evidence.setup.n_train
        ratio = info.n_params / max(n_train, 1)
        has_stopper, _ = early_stopping(evidence.setup.fit)
        if ratio <= self.max_params_per_row or info.has_regularization or has_stopper:
            return []
        try:
            if is_overfitting(overfit_signals(evidence), **Overfitting.thresholds()):
                return []  # merged into the overfitting finding
        except EvidenceUnavailable:
            pass
        widths = hidden_widths(info)
        target = max(1, int(self.max_params_per_row * n_train))
        shrink = max(1.0, (info.n_params / target) ** 0.5)
        smaller = [max(8, int(w / shrink)) for w in widths] or [32]
        return [self.finding(
            Severity.INFO,
            f"{info.n_params:,} trainable parameters for {n_train:,} training rows "
            f"({ratio:.0f} per row) with no Dropout, regularizer or EarlyStopping",
            {"n_params": info.n_params, "n_train": n_train, "params_per_row": ratio,
             "max_params_per_row": self.max_params_per_row},
            "Shrink the hidden layers and add Dropout, L2 weight decay and EarlyStopping.",
            dense_sketch(info, smaller, dropout=0.3, l2=1e-4) + "\n" + EARLY_STOPPING
            if not info.has_conv else
            "# add to your Conv/Dense layers:\nkernel_regularizer=keras.regularizers.L2(1e-4)\n"
            + EARLY_STOPPING,
        )]
