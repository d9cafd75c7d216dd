"""Imports every probe module so its `@probe` registration runs. One line per probe module."""
from fitdoctor.evidence import model_info  # noqa: F401
from fitdoctor.evidence import probe_run  # noqa: F401
from fitdoctor.evidence import data_stats  # noqa: F401
from fitdoctor.evidence import oof_probs  # noqa: F401
from fitdoctor.evidence import neighbours  # noqa: F401
from fitdoctor.evidence import data_shift  # noqa: F401
from fitdoctor.evidence import feature_relevance  # noqa: F401
from fitdoctor.evidence import baselines  # noqa: F401
from fitdoctor.evidence import learning_curve  # noqa: F401
from fitdoctor.evidence import lr_range  # noqa: F401
