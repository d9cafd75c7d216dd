"""`nan_loss`: the training loss became NaN or infinite."""

from __future__ import annotations

import math

from fitdoctor.checks._dynamics import initial_loss
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity


@register
class NanLoss(Check):
    id = "nan_loss"
    category = "training"
    role = Role.SYMPTOM
    rank = 10
    requires = ("probe_run",)
    description = """
    The training loss became NaN or infinite during the probe run (read from the per-epoch
    history and, with the `Monitor`, from every batch). Always critical: from that step on the
    model learns nothing. It is a symptom; `lr_too_high`, `exploding_gradients` or bad values in
    the data (`missing_values`) name the cause when they are found, and rank first. The evidence
    gives the first non-finite step and whether weights and gradients went non-finite too.
    """

    def run(self, evidence: Evidence) -> list[Finding]:
        run = evidence.get("probe_run")
        losses = run.history.get("loss", [])
        bad_epochs = [i for i, v in enumerate(losses) if not math.isfinite(v)]
        record = getattr(run.monitor, "record", None)
        step = record.first_nonfinite_step if record is not None else None
        if not bad_epochs and step is None:
            return []
        facts: dict = {
            "first_nonfinite_epoch": bad_epochs[0] if bad_epochs else None,
            "first_nonfinite_step": step,
            "last_finite_loss": next((v for v in reversed(losses) if math.isfinite(v)), None),
        }
        if record is not None:
            facts.update(initial_loss=initial_loss(record),
                         nonfinite_weights=record.nonfinite_weights,
                         nonfinite_gradients=record.nonfinite_gradients)
        where = f"step {step}" if step is not None else f"epoch {bad_epochs[0] + 1}"
        return [self.finding(
            Severity.CRITICAL,
            f"Training loss became NaN/Inf at {where}",
            facts,
            "Lower the learning rate and clip gradients; stop wasted epochs with TerminateOnNaN. "
            "If the loss is NaN from the first step, look for NaN/Inf in the data.",
            """
            optimizer = keras.optimizers.Adam(learning_rate=1e-4, clipnorm=1.0)
            model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
            model.fit(x, y, callbacks=[keras.callbacks.TerminateOnNaN()], ...)
            """,
        )]
