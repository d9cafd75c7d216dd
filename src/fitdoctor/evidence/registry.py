"""Imports every probe module so its `@probe` registration runs. One line per probe module."""
from fitdoctor.evidence import (
    baselines,  # noqa: F401
    data_shift,  # noqa: F401
    data_stats,  # noqa: F401
    feature_relevance,  # noqa: F401
    forward_pass,  # noqa: F401
    learning_curve,  # noqa: F401
    lr_range,  # noqa: F401
    model_info,  # noqa: F401
    neighbours,  # noqa: F401
    oof_probs,  # noqa: F401
    probe_run,  # noqa: F401
)
