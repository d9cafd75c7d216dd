"""L1 weight penalty, strength searched (treats `overfitting`, `too_many_parameters`)."""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies.base import Remedy, register
from fitdoctor.fix.remedies.weight_penalty import penalty_code, with_penalty
from fitdoctor.setup import Setup


@register
class L1Penalty(Remedy):
    id = "l1_penalty"
    treats = ("overfitting", "too_many_parameters")
    judged_early = False  # its effect shows late in a run
    description = "Add an L1 penalty on every Dense/Conv kernel (drives unneeded weights to zero)."
    grid = (1e-5, 1e-4, 1e-3)
    edits_model = True
    stage = 1

    def apply(self, setup: Setup, finding: Finding, strength: Any = 1e-4) -> Setup:
        return with_penalty(setup, "l1", float(strength))

    def code(self, setup: Setup, finding: Finding, strength: Any = 1e-4) -> str:
        return penalty_code("l1", float(strength))
