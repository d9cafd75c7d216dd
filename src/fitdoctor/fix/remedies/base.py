"""The remedy base class and the explicit remedy registry.

A remedy is one change that treats one or more findings: it takes a `Setup` and returns a NEW
`Setup` (a wrapped `build_model`, transformed copies of the data, or changed `fit` arguments),
and it knows the code the user would write in their own setup to make the same change.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from fitdoctor.findings import Finding
from fitdoctor.setup import Setup

_REMEDIES: dict[str, type[Remedy]] = {}


class Remedy:
    """One change to a training setup, tried by `fitdoctor.fix` and kept only if it helps.

    Class attributes:
        id: Stable snake_case id, e.g. `"l2_penalty"`.
        treats: Ids of the findings this remedy treats.
        description: One sentence: what it changes.
        grid: Strengths to search, weakest first (`(None,)` when there is nothing to search).
            `fix` stops climbing once a stronger setting scores worse (over-strength guard).
        edits_model: Whether it rebuilds the model from its config (impossible for subclassed
            models, which get the change as advice instead).
        stage: Where the change sits when remedies are combined, applied in this order: 0 changes
            the training rows, 1 edits layers, 2 puts layers in front of the model, 3 changes
            compile or `fit` arguments.
        changes_rows: Whether it drops or adds training rows (only one such remedy is combined,
            since row indices in findings refer to the original data).
        ordered_grid: Whether `grid` runs weakest to strongest, so that a setting scoring clearly
            worse than a weaker one stops the search (set False for a grid of alternatives).
        judged_early: Whether a screening run on a third of the epochs, against the unchanged
            setup's run of the same length, can tell its settings apart (`fitdoctor.fix` then
            screens on one and confirms the chosen setting at full length). False for changes
            whose effect shows late in a run (regularizers, augmentation, larger batches,
            relabelling) or that change its length or schedule; these are screened at full
            length. A judged-early remedy never changes `epochs`.
    """

    id: ClassVar[str] = ""
    treats: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    grid: ClassVar[tuple[Any, ...]] = (None,)
    edits_model: ClassVar[bool] = False
    stage: ClassVar[int] = 3
    changes_rows: ClassVar[bool] = False
    ordered_grid: ClassVar[bool] = True
    judged_early: ClassVar[bool] = True

    def applies(self, setup: Setup, finding: Finding) -> bool:
        """Whether this remedy makes sense for this setup and finding (default: always)."""
        return True

    def strengths(self, setup: Setup, finding: Finding) -> tuple[Any, ...]:
        """The strengths to try on this setup, weakest first (default: `grid`)."""
        return self.grid

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        """Return a new setup with the change made; `setup` itself stays untouched."""
        raise NotImplementedError  # pragma: no cover - abstract

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        """The Keras 3 code the user would write in their setup file to make this change."""
        raise NotImplementedError  # pragma: no cover - abstract

    def label(self, strength: Any) -> str:
        """A short name for one tried setting, e.g. `"l2_penalty(0.001)"`."""
        return self.id if strength is None else f"{self.id}({strength})"


def register(cls: type[Remedy]) -> type[Remedy]:
    """Class decorator adding a remedy to the registry. A second remedy with an id is an error."""
    if not cls.id or not cls.id.isidentifier() or cls.id != cls.id.lower():
        raise ValueError(f"remedy id must be snake_case; received {cls.id!r} on {cls.__name__}")
    if cls.id in _REMEDIES and _REMEDIES[cls.id] is not cls:
        raise ValueError(
            f"a remedy with id {cls.id!r} is already registered ({_REMEDIES[cls.id].__name__})"
        )
    if not cls.treats:
        raise ValueError(f"remedy {cls.id!r} treats no finding; set `treats`")
    _REMEDIES[cls.id] = cls
    return cls


def registered_remedies() -> dict[str, type[Remedy]]:
    """All registered remedy classes by id, in registration order."""
    from fitdoctor.fix.remedies import registry  # noqa: F401  (imports the remedy modules)

    return dict(_REMEDIES)


def remedies_for(finding_id: str) -> list[Remedy]:
    """One instance of every remedy that treats `finding_id`, in registration order."""
    return [cls() for cls in registered_remedies().values() if finding_id in cls.treats]


def snippet(text: str) -> str:
    """Dedent a code snippet the way check fixes are (`inspect.cleandoc`)."""
    return inspect.cleandoc(text)
