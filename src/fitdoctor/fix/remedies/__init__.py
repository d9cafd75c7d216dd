"""Remedies: one module per change `fitdoctor fix` can try, registered in `registry.py`."""

from fitdoctor.fix.remedies.base import Remedy, register, registered_remedies, remedies_for

__all__ = ["Remedy", "register", "registered_remedies", "remedies_for"]
