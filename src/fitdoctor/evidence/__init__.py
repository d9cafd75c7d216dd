"""Evidence: what fitdoctor measured on the user's setup.

Each kind of evidence is a *probe*: a function registered under a name that takes the
`Evidence` object (for the setup, budget, seed and other evidence) and returns a result object.
A probe runs at most once per diagnosis, lazily, the first time a check asks for it; its result
(or the error it raised) is cached for the rest of the run. Checks never train; probes do.

Add a probe with one new module in this package that decorates its function with
`@probe("name")`, and one import line in `fitdoctor/evidence/registry.py`.
"""

from fitdoctor.evidence.base import (
    Evidence,
    EvidenceSkipped,
    EvidenceUnavailable,
    probe,
    registered_probes,
)

__all__ = ["Evidence", "EvidenceSkipped", "EvidenceUnavailable", "probe", "registered_probes"]
