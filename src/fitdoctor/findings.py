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
        role: `Role.CAUSE` or `Role.SYMPTOM`; among findings nothing else explains, causes
            rank before symptoms of the same severity.
        explains: Ids of findings this one accounts for when they are present, e.g.
            `("nan_loss",)`.
        rank: Tie-breaker inside a severity, lower first (set by the check).
        explained_by: Ids of the present findings that explain this one, most important first
            (empty for a root cause). Derived by `rank_findings` from the other findings'
            `explains`; any value given is replaced there.
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
    explained_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "explains", tuple(self.explains))
        object.__setattr__(self, "explained_by", tuple(self.explained_by))
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
            "explained_by": list(self.explained_by),
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
            explained_by=tuple(data.get("explained_by", ())),
        )


def rank_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Order findings most important first: root causes, then what they explain.

    This is the one place that decides rank 1. The rule:

    1. Finding A *explains* finding B when B's id is in `A.explains`, A is a problem (critical or
       warning: an info note does not claim to hurt anything) and A and B have different ids.
       Where findings explain each other, the edge from the one that would rank first on its
       own (severity, role, rank, id) is kept and the other dropped, so there are no cycles.
    2. B's `explained_by` becomes the ids of the findings that explain it.
    3. A finding's weight is the worst severity among itself and every finding it explains,
       directly or through others: a cause is as urgent as its worst symptom.
    4. Findings are placed one at a time: among those whose explainers are all placed, the one
       with the smallest (weight, causes before symptoms, the check's `rank`, id) goes next.
       So a finding always ranks below every finding that explains it, and among unexplained
       findings severity decides, then role, then rank.

    Example: "learning rate too high" (warning, explains `nan_loss`) comes before the critical
    "NaN loss" it produces, and the NaN loss carries `explained_by=("lr_too_high",)`.
    """
    items = list(findings)

    def own_key(i: int) -> tuple:
        f = items[i]
        return (f.severity.order, 0 if f.role is Role.CAUSE else 1, f.rank, f.id)

    children: dict[int, list[int]] = {i: [] for i in range(len(items))}

    def reaches(start: int, goal: int) -> bool:
        stack, seen = [start], set()
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(children[node])
        return False

    for a in sorted(range(len(items)), key=own_key):
        if not items[a].is_problem:
            continue
        for b, other in enumerate(items):
            if other.id != items[a].id and other.id in items[a].explains and not reaches(b, a):
                children[a].append(b)
    parents: dict[int, list[int]] = {i: [] for i in range(len(items))}
    for a, kids in children.items():
        for b in kids:
            parents[b].append(a)

    def weight(i: int, seen: frozenset = frozenset()) -> int:
        own = items[i].severity.order
        return min([own, *(weight(c, seen | {i}) for c in children[i] if c not in seen)])

    def key(i: int) -> tuple:
        return (weight(i), *own_key(i))

    placed: list[int] = []
    waiting = set(range(len(items)))
    while waiting:
        ready = [i for i in waiting if all(p not in waiting for p in parents[i])]
        nxt = min(ready, key=key)
        placed.append(nxt)
        waiting.remove(nxt)
    position = {i: n for n, i in enumerate(placed)}
    ranked = []
    for i in placed:
        by = tuple(dict.fromkeys(items[p].id for p in sorted(parents[i], key=position.get)))
        ranked.append(dataclasses.replace(items[i], explained_by=by))
    return tuple(ranked)


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
