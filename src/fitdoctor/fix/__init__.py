"""`fix`: try remedies for what the diagnosis found; keep only those that beat noise."""

from fitdoctor.fix.records import Candidate, CandidateStatus, FixResult, Stage
from fitdoctor.fix.run import fix

__all__ = ["Candidate", "CandidateStatus", "FixResult", "Stage", "fix"]
