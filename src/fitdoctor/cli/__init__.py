"""The `fitdoctor` command line. One module per command; each registers itself on `app`."""

from fitdoctor.cli.app import app, main
from fitdoctor.cli import demo, diagnose  # noqa: F401,E402  (register commands)
from fitdoctor.cli import tune  # noqa: F401,E402
from fitdoctor.cli import fix  # noqa: F401,E402

__all__ = ["app", "main"]
