"""`fix`: try remedies for what the diagnosis found; keep only those that beat noise."""

from fitdoctor.fix.run import FixResult, fix

__all__ = ["FixResult", "fix"]
