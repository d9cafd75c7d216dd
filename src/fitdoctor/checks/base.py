"""The check base class and the explicit check registry."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Fix, Role, Severity

_CHECKS: dict[str, type[Check]] = {}


class Check:
    """A small rule that reads `Evidence` and returns findings.

    Subclasses set the class attributes below, take their thresholds as keyword-only
    constructor arguments with documented defaults, and implement `run`. A check never trains:
    it asks `evidence.get(name)` for what it needs, and the probe behind it runs once.

    Class attributes:
        id: Stable snake_case id, the finding id it emits.
        description: One paragraph: what it detects and its rule (goes into docs/findings.md).
        category: `"data"`, `"model"` or `"training"`.
        role: `Role.CAUSE` or `Role.SYMPTOM`.
        requires: Names of every probe `run` asks `Evidence` for (the catalogue lists them;
            the conformance suite checks them against the calls a run makes).
        tasks: Task kinds it applies to.
        rank: Tie-breaker among unexplained findings of equal severity and role (lower first).
        explains: Ids of findings this one accounts for when both are present: they rank
            below it and carry `explained_by` (see `fitdoctor.findings.rank_findings`).
    """

    id: ClassVar[str] = ""
    description: ClassVar[str] = ""
    category: ClassVar[str] = "training"
    role: ClassVar[Role] = Role.CAUSE
    requires: ClassVar[tuple[str, ...]] = ()
    tasks: ClassVar[tuple[str, ...]] = ("binary", "multiclass", "multilabel", "regression")
    rank: ClassVar[int] = 50
    explains: ClassVar[tuple[str, ...]] = ()

    def applies(self, evidence: Evidence) -> bool:
        """Whether this check is meaningful for the setup (default: its task kind matches)."""
        return evidence.setup.task.kind in self.tasks

    def run(self, evidence: Evidence) -> list[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finding(
        self,
        severity: Severity | str,
        title: str,
        evidence: dict[str, Any],
        advice: str,
        code: str = "",
        **extra: Any,
    ) -> Finding:
        """Build a finding carrying this check's id, category, role and rank."""
        return Finding(
            id=self.id,
            severity=Severity(severity),
            title=title,
            evidence=evidence,
            fix=Fix(advice, inspect.cleandoc(code) if code else ""),
            category=extra.pop("category", self.category),
            role=extra.pop("role", self.role),
            explains=extra.pop("explains", self.explains),
            rank=extra.pop("rank", self.rank),
        )

    @classmethod
    def thresholds(cls) -> dict[str, Any]:
        """The keyword-only constructor arguments and their defaults."""
        params = inspect.signature(cls.__init__).parameters.values()
        return {
            p.name: p.default
            for p in params
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
        }


def register(cls: type[Check]) -> type[Check]:
    """Add a check class to the registry. A second check with the same id is an error."""
    if not cls.id or not cls.id.isidentifier() or cls.id != cls.id.lower():
        raise ValueError(f"check id must be snake_case; received {cls.id!r} on {cls.__name__}")
    if cls.id in _CHECKS and _CHECKS[cls.id] is not cls:
        raise ValueError(
            f"a check with id {cls.id!r} is already registered ({_CHECKS[cls.id].__name__})"
        )
    _CHECKS[cls.id] = cls
    return cls


def registered_checks() -> dict[str, type[Check]]:
    """All registered check classes by id, in registration order."""
    from fitdoctor.checks import registry  # noqa: F401  (imports the check modules)

    return dict(_CHECKS)


def default_checks(only: Callable[[type[Check]], bool] | None = None) -> list[Check]:
    """One instance of every registered check, with default thresholds."""
    return [cls() for cls in registered_checks().values() if only is None or only(cls)]
