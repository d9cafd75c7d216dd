"""Imports every probe module so its `@probe` registration runs. One line per probe module."""
from fitdoctor.evidence import model_info  # noqa: F401
from fitdoctor.evidence import probe_run  # noqa: F401
