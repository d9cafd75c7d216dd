"""Findings and the report that ranks them.

A `Finding` is one thing fitdoctor measured and judged: a stable `id` from the catalogue
(`docs/findings.md`), a severity, the numbers behind it and the fix. A `Report` is the ranked
tuple of findings from one run plus what was measured along the way. Both are frozen and
round-trip through JSON.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


class Severity(str, enum.Enum):
    """How much a finding hurts: only `critical` and `warning` mean "this is hurting you"."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def order(self) -> int:
        return {"critical": 0, "warning": 1, "info": 2}[self.value]


class Role(str, enum.Enum):
    """Whether a finding names a cause (fix this) or a symptom (this is what you see)."""

    CAUSE = "cause"
    SYMPTOM = "symptom"


@dataclasses.dataclass(frozen=True)
class Fix:
    """What to change: a sentence of advice and the Keras 3 code that does it."""

    advice: str
    code: str = ""


def _jsonable(value: Any) -> Any:
    """Turn NumPy scalars/arrays, tuples and non-finite floats into plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf", "-inf": JSON has no literal for them
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


@dataclasses.dataclass(frozen=True)
class Finding:
    """One measured problem (or note) about a training setup.

    Args:
        id: Stable snake_case id from the catalogue, e.g. `"lr_too_high"`.
        severity: `Severity.CRITICAL`, `WARNING` or `INFO`.
        title: One line in the user's words, with the key number.
        evidence: The measured numbers that justify the finding (JSON-able values).
        fix: What to change, with Keras 3 code.
        category: `"data"`, `"model"` or `"training"`.
        role: `Role.CAUSE` or `Role.SYMPTOM`; causes rank before the symptoms they explain.
        explains: Ids of symptom findings this cause accounts for, e.g. `("nan_loss",)`.
        rank: Tie-breaker inside a severity, lower first (set by the check).
    """

    id: str
    severity: Severity
    title: str
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    fix: Fix = Fix("")
    category: str = "training"
    role: Role = Role.CAUSE
    explains: tuple[str, ...] = ()
    rank: int = 50

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "explains", tuple(self.explains))
        object.__setattr__(self, "evidence", _jsonable(dict(self.evidence)))

    @property
    def is_problem(self) -> bool:
        """True for `critical` and `warning` findings."""
        return self.severity is not Severity.INFO

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity.value,
            "title": self.title,
            "category": self.category,
            "role": self.role.value,
            "evidence": dict(self.evidence),
            "fix": {"advice": self.fix.advice, "code": self.fix.code},
            "explains": list(self.explains),
            "rank": self.rank,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        fix = data.get("fix") or {}
        return cls(
            id=data["id"],
            severity=Severity(data["severity"]),
            title=data["title"],
            evidence=data.get("evidence", {}),
            fix=Fix(fix.get("advice", ""), fix.get("code", "")),
            category=data.get("category", "training"),
            role=Role(data.get("role", "cause")),
            explains=tuple(data.get("explains", ())),
            rank=int(data.get("rank", 50)),
        )


def rank_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Order findings most important first.

    Critical before warning before info; inside a severity, causes before symptoms, then the
    check's own `rank`. A cause that explains a present symptom is lifted to that symptom's
    severity, so "learning rate too high" comes before the "NaN loss" it produces.
    """
    findings = list(findings)
    worst_by_id: dict[str, int] = {}
    for f in findings:
        worst_by_id[f.id] = min(worst_by_id.get(f.id, 9), f.severity.order)

    def key(f: Finding) -> tuple:
        explained = [worst_by_id[i] for i in f.explains if i in worst_by_id]
        effective = min([f.severity.order, *explained])
        return (effective, 0 if f.role is Role.CAUSE else 1, f.rank, f.id)

    return tuple(sorted(findings, key=key))


@dataclasses.dataclass(frozen=True)
class Report:
    """The ranked outcome of one `diagnose` run.

    Args:
        findings: Ranked findings, most important first.
        setup: What was diagnosed (task, sizes, model summary).
        measurements: Raw evidence worth keeping for plots and later tools (histories, the LR
            range curve, ...), JSON-able.
        budget: The budget name the run used.
        seed: The seed the run used.
        timings: Seconds spent per stage, plus `plain_fit` where it was measured.
    """

    findings: tuple[Finding, ...]
    setup: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    measurements: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    budget: str = "standard"
    seed: int = 0
    timings: Mapping[str, float] = dataclasses.field(default_factory=dict)
    version: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", rank_findings(self.findings))
        object.__setattr__(self, "setup", _jsonable(dict(self.setup)))
        object.__setattr__(self, "measurements", _jsonable(dict(self.measurements)))
        object.__setattr__(self, "timings", _jsonable(dict(self.timings)))

    @property
    def problems(self) -> tuple[Finding, ...]:
        """The `critical` and `warning` findings, ranked."""
        return tuple(f for f in self.findings if f.is_problem)

    def ids(self, *, problems_only: bool = True) -> list[str]:
        """Finding ids in rank order (only problems unless told otherwise)."""
        return [f.id for f in (self.problems if problems_only else self.findings)]

    def get(self, finding_id: str) -> Finding | None:
        """The first finding with this id, or None."""
        return next((f for f in self.findings if f.id == finding_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "budget": self.budget,
            "seed": self.seed,
            "setup": dict(self.setup),
            "findings": [f.to_dict() for f in self.findings],
            "timings": dict(self.timings),
            "measurements": dict(self.measurements),
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """Serialize to JSON; also write it to `path` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None) -> str:
        """Render as one self-contained HTML page with plots; also write it to `path` when given."""
        from fitdoctor.report.html import render_report_html

        return render_report_html(self, path)

    def _repr_html_(self) -> str:
        from fitdoctor.report.html import notebook_html

        return notebook_html(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        return cls(
            findings=tuple(Finding.from_dict(f) for f in data.get("findings", [])),
            setup=data.get("setup", {}),
            measurements=data.get("measurements", {}),
            budget=data.get("budget", "standard"),
            seed=int(data.get("seed", 0)),
            timings=data.get("timings", {}),
            version=data.get("version", ""),
        )

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Report:
        """Read a report back from a JSON string or a file path."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))
