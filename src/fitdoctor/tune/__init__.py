"""Hyperparameter search on a setup: `tune(setup) -> TuneResult`.

Setup + search space -> Optuna study (stored, resumable, shared by workers) -> best setup.
"""

from fitdoctor.tune.run import STRATEGIES, TuneProgress, TuneResult, tune
from fitdoctor.tune.space import Param

__all__ = ["STRATEGIES", "Param", "TuneProgress", "TuneResult", "tune"]
