"""The `fitdoctor` command line. One module per command; each registers itself on `app`."""

from fitdoctor.cli import (  # noqa: F401,E402  (register commands)
    demo,
    diagnose,
    fix,  # noqa: F401,E402
    tune,  # noqa: F401,E402
)
from fitdoctor.cli.app import app, main

__all__ = ["app", "main"]
