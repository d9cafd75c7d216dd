"""Errors fitdoctor raises for input it cannot use.

Every `FitdoctorError` is the user's to fix: the CLI prints its message on one line and exits
with code 2. Anything else escaping is a bug in fitdoctor.
"""

from __future__ import annotations


class FitdoctorError(Exception):
    """Input fitdoctor cannot use: a missing file, a malformed setup, data of the wrong shape."""


class SetupError(FitdoctorError):
    """A setup file or a `diagnose(...)` call that does not follow the training-setup contract."""


class DataError(FitdoctorError):
    """Training or validation data fitdoctor cannot read or that the model cannot take."""
