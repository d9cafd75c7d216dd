"""Shared reading of the probe run's `Monitor` record for the training-dynamics checks."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from fitdoctor.evidence import Evidence, EvidenceUnavailable
from fitdoctor.keras_vocab import KERNEL_LAYERS
from fitdoctor.monitor import MonitorRecord, MonitorSample

#: Layer kinds whose gradients the vanishing/exploding checks compare (no embeddings, no norms).
WEIGHT_LAYERS = KERNEL_LAYERS


def monitor_record(evidence: Evidence) -> MonitorRecord:
    """The probe run's `Monitor` record; `EvidenceUnavailable` when the run had none."""
    record = getattr(evidence.get("probe_run").monitor, "record", None)
    if record is None:
        raise EvidenceUnavailable("the probe run has no Monitor record")
    return record


def measured_samples(record: MonitorRecord) -> list[MonitorSample]:
    """Samples with gradient measurements; `EvidenceUnavailable` when there are none."""
    if record.gradients_unavailable:
        raise EvidenceUnavailable(f"Monitor measured no gradients: {record.gradients_unavailable}")
    if not record.samples:
        raise EvidenceUnavailable("Monitor sampled no batch")
    return list(record.samples)


def last_epoch(samples: list[MonitorSample]) -> list[MonitorSample]:
    """The samples of the last epoch that has any."""
    final = samples[-1].epoch
    return [s for s in samples if s.epoch == final]


def median_by_layer(samples: Iterable[MonitorSample],
                    field: Callable[[MonitorSample], dict]) -> dict[str, float]:
    """Per layer, the median of a per-layer statistic over `samples` (finite values only)."""
    values: dict[str, list[float]] = {}
    for sample in samples:
        for name, value in field(sample).items():
            if math.isfinite(value):
                values.setdefault(name, []).append(value)
    return {name: float(np.median(v)) for name, v in values.items() if v}


def initial_loss(record: MonitorRecord) -> float:
    """The first batch's loss (the model's loss before it learned anything), or NaN."""
    for epoch in record.batch_losses:
        for value in epoch:
            return float(value)
    return math.nan


def max_update_ratio(sample: MonitorSample) -> float:
    """The largest per-layer update/weight ratio of one step (NaN when none is finite)."""
    finite = [v for v in sample.update_ratios.values() if math.isfinite(v)]
    return max(finite) if finite else math.nan
