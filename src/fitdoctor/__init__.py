"""fitdoctor: why your Keras model trains badly, measured on your own setup, and how to fix it."""

__version__ = "0.1.0"

from fitdoctor._startup import quiet_cli_startup  # noqa: E402

quiet_cli_startup()  # the `fitdoctor` command loads TensorFlow without its native start-up log
from fitdoctor.diagnose import diagnose  # noqa: E402
from fitdoctor.errors import DataError, FitdoctorError, SetupError  # noqa: E402
from fitdoctor.findings import Finding, Fix, Report, Severity  # noqa: E402
from fitdoctor.fix import FixResult, fix  # noqa: E402
from fitdoctor.monitor import Monitor  # noqa: E402
from fitdoctor.setup import Setup, load_setup  # noqa: E402
from fitdoctor.tune import TuneResult, tune  # noqa: E402

__all__ = [
    "DataError",
    "Finding",
    "Fix",
    "FixResult",
    "FitdoctorError",
    "Monitor",
    "Report",
    "Setup",
    "SetupError",
    "Severity",
    "TuneResult",
    "__version__",
    "diagnose",
    "fix",
    "load_setup",
    "tune",
]
