"""Hyperparameter search on a setup: `tune(setup) -> TuneResult`.

Setup + search space -> Optuna study (stored, resumable, shared by workers) -> best setup.
"""

from fitdoctor.tune.run import (
    STRATEGIES,
    TrialStatus,
    TuneInterrupted,
    TuneProgress,
    TuneResult,
    TuneTrial,
    tune,
)
from fitdoctor.tune.space import Param

__all__ = ["STRATEGIES", "Param", "TrialStatus", "TuneInterrupted", "TuneProgress", "TuneResult",
           "TuneTrial", "tune"]
