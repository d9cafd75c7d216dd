"""L2 weight penalty, strength searched (treats `overfitting`, `too_many_parameters`)."""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies.base import Remedy, register
from fitdoctor.fix.remedies.weight_penalty import penalty_code, with_penalty
from fitdoctor.setup import Setup


@register
class L2Penalty(Remedy):
    id = "l2_penalty"
    treats = ("overfitting", "too_many_parameters")
    judged_early = False  # its effect shows late in a run
    description = "Add an L2 penalty on every Dense/Conv kernel."
    grid = (1e-4, 1e-3, 1e-2)
    edits_model = True
    stage = 1

    def apply(self, setup: Setup, finding: Finding, strength: Any = 1e-3) -> Setup:
        return with_penalty(setup, "l2", float(strength))

    def code(self, setup: Setup, finding: Finding, strength: Any = 1e-3) -> str:
        return penalty_code("l2", float(strength))
