"""Checks: small rules that turn evidence into findings.

Add a check with one new module in this package (a `Check` subclass decorated with
`@register`) and one import line in `fitdoctor/checks/registry.py`.
"""

from fitdoctor.checks.base import Check, default_checks, register, registered_checks

__all__ = ["Check", "default_checks", "register", "registered_checks"]
