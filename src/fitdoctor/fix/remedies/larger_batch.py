"""Train with a larger batch (treats `batch_too_small`)."""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


@register
class LargerBatch(Remedy):
    id = "larger_batch"
    treats = ("batch_too_small",)
    judged_early = False  # its effect shows late in a run
    description = "Raise FIT['batch_size'] (searched: 32, then 128, never above the row count)."
    grid = (32, 128)

    def strengths(self, setup: Setup, finding: Finding) -> tuple[Any, ...]:
        return tuple(b for b in self.grid if setup.batch_size < b <= setup.n_train) or (
            min(setup.n_train, setup.batch_size * 4),)

    def apply(self, setup: Setup, finding: Finding, strength: Any = 32) -> Setup:
        return setup.replace(fit={**setup.fit, "batch_size": int(strength)})

    def code(self, setup: Setup, finding: Finding, strength: Any = 32) -> str:
        return snippet(f"""
            FIT = {{**FIT, "batch_size": {int(strength)}}}
        """)
