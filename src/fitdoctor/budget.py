"""How much measuring a diagnosis may do."""

from __future__ import annotations

import dataclasses

from fitdoctor.errors import SetupError


@dataclasses.dataclass(frozen=True)
class Budget:
    """Limits for one diagnosis.

    Args:
        name: `"quick"`, `"standard"` or `"thorough"`.
        seeds: Probe runs repeated over this many seeds (spread reported when > 1).
        lr_range_steps: Steps of the learning-rate range test.
        learning_curve: Whether to measure validation score against training-set size.
        max_audit_rows: Data checks work on a sample of at most this many rows.
        fit_multiple: What the whole diagnosis may cost, in plain fits of the user's setup,
            the probe runs included. What is left after the probe runs is shared among the
            other probes by `fitdoctor.evidence.cost`. Defaults to 1.5.
        fix_seeds: Seeds `fix` trains each confirmed variant on (noise needs at least two).
            Defaults to 2.
        fix_runs: The most candidate runs (a remedy's setting, alone or on top of others, on
            one seed; a shortened screening run counts the share of the epochs it trains) one
            `fix` trains; your setup's own runs on its seeds come on top. Remedies
            are tried in the diagnosis' rank order, so what a spent budget leaves untried is the
            least likely to matter, and the fix says what it skipped. None: no bound.
            Defaults to None.
        monitor_samples: Batches per epoch whose gradients and activations the probe run's
            `Monitor` measures. Each measurement costs about a dozen training steps' work (256
            probe rows and the gradient noise at the batch size), so on a fit of few steps per
            epoch it is a large share of the probe run: on the cats/dogs photos (55 steps an
            epoch) two a epoch made the fit 12.0 s to 15.9 s. Defaults to 2.
    """

    name: str
    seeds: int
    lr_range_steps: int
    learning_curve: bool
    max_audit_rows: int
    fit_multiple: float = 1.5
    fix_seeds: int = 2
    fix_runs: int | None = None
    monitor_samples: int = 2

    def __post_init__(self) -> None:
        if self.fit_multiple < self.seeds:
            raise ValueError(
                "fit_multiple must be at least seeds (the probe runs alone cost that many fits). "
                f"Received: fit_multiple={self.fit_multiple}, seeds={self.seeds}"
            )
        if self.monitor_samples < 1:
            raise ValueError("monitor_samples must be at least 1. "
                             f"Received: monitor_samples={self.monitor_samples}")
        if self.fix_runs is not None and self.fix_runs < self.fix_seeds:
            raise ValueError(
                "fix_runs must be at least fix_seeds (one remedy screened and confirmed costs "
                f"that many). Received: fix_runs={self.fix_runs}, fix_seeds={self.fix_seeds}"
            )


BUDGETS = {
    "quick": Budget("quick", seeds=1, lr_range_steps=100, learning_curve=False,
                    max_audit_rows=20_000, fit_multiple=1.2, fix_seeds=2, fix_runs=9,
                    monitor_samples=1),
    "standard": Budget("standard", seeds=1, lr_range_steps=200, learning_curve=True,
                       max_audit_rows=50_000, fit_multiple=1.5, fix_seeds=2, fix_runs=30),
    "thorough": Budget("thorough", seeds=3, lr_range_steps=300, learning_curve=True,
                       max_audit_rows=200_000, fit_multiple=4.0, fix_seeds=3),
}


def get_budget(name: str | Budget) -> Budget:
    """Look a budget up by name."""
    if isinstance(name, Budget):
        return name
    if name not in BUDGETS:
        raise SetupError(
            f"budget must be one of {', '.join(BUDGETS)}. Received: budget={name!r}"
        )
    return BUDGETS[name]
