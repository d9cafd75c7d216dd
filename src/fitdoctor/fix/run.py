"""`fix`: diagnose a setup, try the remedies for what hurts it, keep only those that beat noise."""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from fitdoctor.budget import get_budget
from fitdoctor.errors import SetupError
from fitdoctor.findings import Finding, Report
from fitdoctor.fix.evaluate import Scores, original_loss, train_and_score
from fitdoctor.fix.model_edit import NotEditable, is_editable, probe_model
from fitdoctor.fix.remedies.base import Remedy, registered_remedies, remedies_for
from fitdoctor.setup import Setup

logger = logging.getLogger(__name__)

#: Seeds each variant is trained with, per budget (noise needs at least two).
SEEDS = {"quick": 2, "standard": 2, "thorough": 3}


@dataclasses.dataclass(frozen=True)
class Change:
    """One tried setting of one remedy, for the finding it treats."""

    remedy: Remedy
    finding: Finding
    strength: Any

    @property
    def label(self) -> str:
        return self.remedy.label(self.strength)

    def apply(self, setup: Setup) -> Setup:
        return self.remedy.apply(setup, self.finding, self.strength)

    def code(self, setup: Setup) -> str:
        return self.remedy.code(setup, self.finding, self.strength)


@dataclasses.dataclass(frozen=True)
class FixResult:
    """What `fix` tried, what it kept, and the numbers behind each decision.

    Args:
        before: Validation accuracy/loss of the setup as given (mean over seeds).
        after: The same for the fixed setup (equal to `before` when nothing was kept).
        applied: Remedy labels kept, in the order they were combined.
        rejected: One dict per rejected try: remedy, finding, strength, numbers, reason.
        trials: Every try with its numbers (accepted and rejected), in the order run.
        advice: Remedies fitdoctor could not apply itself (e.g. subclassed model), with code.
        changes: The accepted changes as code the user would write, one dict per change.
        threshold: The smallest gain that counted as beating run-to-run noise.
        seeds: Seeds every variant was trained with.
        report: The diagnosis the fix started from.
        setup: The fixed setup (not serialized).
        model: The fixed model, trained with the first seed (not serialized).
        timings: Seconds for the whole fix, the diagnosis, and one plain fit of the user's setup.
    """

    before: Mapping[str, Any]
    after: Mapping[str, Any]
    applied: tuple[str, ...]
    rejected: tuple[Mapping[str, Any], ...]
    trials: tuple[Mapping[str, Any], ...]
    advice: tuple[Mapping[str, Any], ...]
    changes: tuple[Mapping[str, Any], ...]
    threshold: float
    seeds: tuple[int, ...]
    report: Report
    setup: Setup = dataclasses.field(repr=False, compare=False)
    model: Any = dataclasses.field(default=None, repr=False, compare=False)
    timings: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON written beside the fixed model (`fix.json`)."""
        from fitdoctor.findings import _jsonable

        return _jsonable({
            "before": dict(self.before),
            "after": dict(self.after),
            "applied": list(self.applied),
            "rejected": [dict(r) for r in self.rejected],
            "remedies": [dict(t) for t in self.trials],
            "advice": [dict(a) for a in self.advice],
            "changes": [dict(c) for c in self.changes],
            "noise_threshold": self.threshold,
            "seeds": list(self.seeds),
            "diagnosis": self.report.ids(),
            "timings": dict(self.timings),
        })


def fix(
    build_model: Callable[..., Any] | None = None,
    train_data: tuple[Any, Any] | None = None,
    validation_data: tuple[Any, Any] | None = None,
    fit: Mapping[str, Any] | None = None,
    *,
    setup: Setup | None = None,
    out: str | Path | None = None,
    budget: str = "standard",
    seed: int = 0,
    report: Report | None = None,
    remedies: Iterable[str] | None = None,
    grids: Mapping[str, Iterable[Any]] | None = None,
    min_gain: float = 0.01,
    noise_factor: float = 2.0,
    progress: Callable[[str], None] | None = None,
) -> FixResult:
    """Diagnose a setup, try the remedies for each problem, and keep those that beat noise.

    Every variant is retrained with your own `fit` arguments and validation data over the same
    seeds as your unchanged setup. A remedy is kept only when its mean gain exceeds
    `max(min_gain, noise_factor * standard error of the difference)`, the standard error coming
    from the run-to-run spread of both setups over the seeds; kept remedies are then combined one
    at a time, each kept only if it still adds a gain beyond noise. Your data, model and files are
    never changed; with `out`, the fixed model, `fix.md` and `fix.json` are written there.

    Args:
        build_model, train_data, validation_data, fit: As for `fitdoctor.diagnose`.
        setup: A ready `Setup` instead of the four arguments above.
        out: Folder to write `model.keras`, `fix.md` and `fix.json` to. Defaults to None.
        budget: `"quick"`, `"standard"` (2 seeds per variant) or `"thorough"` (3 seeds).
            Defaults to `"standard"`.
        seed: First seed; variants use `seed, seed + 1, ...`. Defaults to 0.
        report: A diagnosis of this setup to start from (skips diagnosing again). Defaults to None.
        remedies: Remedy ids to restrict the search to. Defaults to None (all that treat a finding).
        grids: Strengths to search instead of a remedy's own grid, by remedy id, weakest first,
            e.g. `{"l2_penalty": (1e-5, 1e-4)}`. Defaults to None.
        min_gain: Smallest gain that counts: accuracy points, or a fraction of the validation loss
            for regression. Defaults to 0.01.
        noise_factor: How many standard errors of the difference a gain must exceed.
            Defaults to 2.0.
        progress: Optional callable told what is being tried.

    Returns:
        A `FixResult` with before/after numbers, kept and rejected remedies, and the fixed model.
    """
    start = time.perf_counter()
    if setup is None:
        if build_model is None or train_data is None:
            raise SetupError("fix() needs build_model and train_data, or setup=")
        setup = Setup.from_arrays(build_model, train_data, validation_data, fit, seed=seed)
    if min_gain < 0:
        raise SetupError(f"min_gain must be >= 0. Received: min_gain={min_gain}")
    if noise_factor < 0:
        raise SetupError(f"noise_factor must be >= 0. Received: noise_factor={noise_factor}")
    allowed = _resolve_remedies(remedies)
    grids = {k: tuple(v) for k, v in (grids or {}).items()}
    _resolve_remedies(grids)
    if any(not v for v in grids.values()):
        raise SetupError(f"every grid needs at least one strength. Received: grids={grids}")
    budget_name = get_budget(budget).name
    say = progress or (lambda message: None)
    diagnose_seconds = 0.0
    if report is None:
        from fitdoctor.diagnose import diagnose

        say("diagnosing")
        t0 = time.perf_counter()
        report = diagnose(setup=setup, budget=budget_name, seed=seed)
        diagnose_seconds = time.perf_counter() - t0
    seeds = tuple(seed + i for i in range(SEEDS[budget_name]))
    search = _Search(setup, seeds, min_gain, noise_factor, say, grids)
    say("training your setup as given")
    baseline = search.score(setup)
    search.baseline = baseline
    kept = search.try_remedies(report.problems, allowed)
    final_setup, final_scores, applied = search.combine(kept)
    changes = tuple(
        {"remedy": c.remedy.id, "strength": c.strength, "finding": c.finding.id,
         "description": c.remedy.description, "code": c.code(setup)}
        for c in applied
    )
    result = FixResult(
        before=baseline.summary(),
        after=final_scores.summary(),
        applied=tuple(c.label for c in applied),
        rejected=tuple(t for t in search.trials if t["status"] != "accepted"),
        trials=tuple(search.trials),
        advice=tuple(search.advice),
        changes=changes,
        threshold=search.threshold(baseline, baseline),
        seeds=seeds,
        report=report,
        setup=final_setup,
        model=final_scores.model,
        timings={
            "total": round(time.perf_counter() - start, 3),
            "diagnose": round(diagnose_seconds, 3),
            "plain_fit": round(baseline.fit_seconds[0], 3),
        },
    )
    if out is not None:
        from fitdoctor.fix.write import write_outputs

        write_outputs(result, out)
    return result


def _resolve_remedies(ids: Iterable[str] | None) -> set[str] | None:
    if ids is None:
        return None
    known = registered_remedies()
    ids = set(ids)
    unknown = sorted(ids - set(known))
    if unknown:
        raise SetupError(f"unknown remedy id(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return ids


class _Search:
    """The bookkeeping of one fix: scores every variant and records each decision."""

    def __init__(self, setup: Setup, seeds: tuple[int, ...], min_gain: float,
                 noise_factor: float, say: Callable[[str], None],
                 grids: Mapping[str, tuple[Any, ...]]) -> None:
        self.setup = setup
        self.seeds = seeds
        self.min_gain = min_gain
        self.noise_factor = noise_factor
        self.say = say
        self.grids = grids
        self.user_loss = original_loss(setup)
        self.editable = is_editable(probe_model(setup))
        self.baseline: Scores | None = None
        self.trials: list[dict[str, Any]] = []
        self.advice: list[dict[str, Any]] = []
        #: Remedies whose best setting did not beat noise alone, with their trial records.
        self.near_misses: list[tuple[Change, dict[str, Any]]] = []

    def score(self, setup: Setup) -> Scores:
        return train_and_score(setup, self.seeds, self.user_loss)

    def threshold(self, reference: Scores, candidate: Scores) -> float:
        """The gain over `reference` that beats run-to-run noise.

        `noise_factor` standard errors of the difference of the two means (each mean over the
        same seeds), and never less than `min_gain`.
        """
        floor = self.min_gain
        if self.setup.task.kind == "regression" and math.isfinite(reference.mean):
            floor = self.min_gain * abs(reference.mean)
        spread = math.sqrt((reference.noise ** 2 + candidate.noise ** 2) / len(self.seeds))
        return max(floor, self.noise_factor * spread)

    def _record(self, change: Change, scores: Scores | None, reference: Scores, status: str,
                reason: str, stage: str) -> dict[str, Any]:
        trial = {
            "remedy": change.remedy.id,
            "strength": change.strength,
            "finding": change.finding.id,
            "stage": stage,
            "status": status,
            "reason": reason,
        }
        if scores is not None:
            trial.update(scores.summary())
            trial["gain"] = scores.mean - reference.mean
            trial["threshold"] = self.threshold(reference, scores)
        self.trials.append(trial)
        return trial

    def try_remedies(self, problems: Iterable[Finding],
                     allowed: set[str] | None) -> list[tuple[Change, Scores, dict]]:
        """Try each remedy for each problem alone (its grid searched); return the kept ones."""
        kept: list[tuple[Change, Scores, dict]] = []
        tried: set[str] = set()
        for finding in problems:
            for remedy in remedies_for(finding.id):
                if remedy.id in tried or (allowed is not None and remedy.id not in allowed):
                    continue
                if not remedy.applies(self.setup, finding):
                    continue
                tried.add(remedy.id)
                if remedy.edits_model and not self.editable:
                    self._advise(remedy, finding)
                    continue
                best = self._search_grid(remedy, finding)
                if best is not None:
                    kept.append(best)
        return kept

    def _strengths(self, remedy: Remedy, finding: Finding) -> tuple[Any, ...]:
        return self.grids.get(remedy.id) or remedy.strengths(self.setup, finding)

    def _advise(self, remedy: Remedy, finding: Finding) -> None:
        strength = self._strengths(remedy, finding)[0]
        self.advice.append({
            "remedy": remedy.id,
            "finding": finding.id,
            "reason": "your model is subclassed, so fitdoctor cannot rebuild it safely from its "
                      "config; make this change in your own code",
            "code": remedy.code(self.setup, finding, strength),
        })

    def _search_grid(self, remedy: Remedy, finding: Finding):
        baseline = self.baseline
        best: tuple[Change, Scores, dict] | None = None
        for strength in self._strengths(remedy, finding):
            change = Change(remedy, finding, strength)
            self.say(f"trying {change.label} for {finding.id}")
            try:
                scores = self.score(change.apply(self.setup))
            except NotEditable as exc:
                self._record(change, None, baseline, "advice", str(exc), "alone")
                self._advise(remedy, finding)
                return None
            except Exception as exc:  # a remedy that cannot run is reported, never fatal
                logger.debug("remedy %s failed", change.label, exc_info=True)
                self._record(change, None, baseline, "error", f"{type(exc).__name__}: {exc}",
                             "alone")
                continue
            trial = self._record(change, scores, baseline, "rejected", "", "alone")
            if best is None or scores.mean > best[1].mean:
                if best is not None:
                    best[2]["reason"] = f"{change.label} scored higher"
                best = (change, scores, trial)
                continue
            trial["reason"] = f"weaker than {best[0].label}"
            if remedy.ordered_grid and best[1].mean - scores.mean > self.threshold(best[1], scores):
                trial["reason"] = (f"over-strong: validation score fell "
                                   f"{best[1].mean - scores.mean:.4f} below {best[0].label}; "
                                   "stopped strengthening")
                break
        if best is None:
            return None
        change, scores, trial = best
        gain, needed = scores.mean - baseline.mean, self.threshold(baseline, scores)
        if gain > needed:
            trial["status"], trial["reason"] = "accepted", "beats run-to-run noise"
            return best
        if gain > 0:
            trial["reason"] = f"gain {gain:+.4f} does not beat the noise threshold {needed:.4f}"
        else:
            trial["reason"] = "no gain" if gain == 0 else f"made it worse ({gain:+.4f})"
        self.near_misses.append((change, trial))
        return None

    def combine(self, kept: list[tuple[Change, Scores, dict]]):
        """Combine kept remedies greedily, causes first; each must add a gain beyond noise.

        `kept` arrives in the diagnosis' rank order (remedies are tried finding by finding), so
        the root cause's remedy is the base and symptom remedies must prove themselves on top
        of it: standardizing unscaled inputs comes before a learning rate tuned to them.
        """
        if not kept:
            return self.setup, self.baseline, []
        base = self._base(kept)
        selected = [base[0]]
        current_setup, current = base[0].apply(self.setup), base[1]
        for change, _, trial in (k for k in kept if k is not base):
            if change.remedy.changes_rows and any(c.remedy.changes_rows for c in selected):
                trial["status"] = "rejected"
                trial["reason"] = "only one change to the training rows is combined"
                continue
            candidate = sorted([*selected, change], key=lambda c: c.remedy.stage)
            self.say(f"combining {' + '.join(c.label for c in candidate)}")
            try:
                combined_setup, scores = self._score_together(candidate)
            except Exception as exc:
                logger.debug("combining %s failed", change.label, exc_info=True)
                trial["status"], trial["reason"] = "rejected", f"combining failed: {exc}"
                continue
            gain, needed = scores.mean - current.mean, self.threshold(current, scores)
            on_top = " + ".join(c.label for c in selected)
            if gain > needed:
                self._record(change, scores, current, "accepted",
                             f"adds {gain:+.4f} on top of {on_top}", "combined")
                selected = candidate
                current_setup, current = combined_setup, scores
            else:
                trial["status"] = "rejected"
                trial["reason"] = (f"helps alone, but adds {gain:+.4f} on top of {on_top} "
                                   f"(needs > {needed:.4f})")
                self._record(change, scores, current, "rejected", trial["reason"], "combined")
        current_setup, current, selected = self._retry_on_top(current_setup, current, selected)
        ordered = sorted(selected, key=lambda c: c.remedy.stage)
        return current_setup, current, ordered

    def _base(self, kept: list[tuple[Change, Scores, dict]]) -> tuple[Change, Scores, dict]:
        """The remedy the combination starts from: the first (causes first) of those whose score
        alone is within noise of the best alone.

        Starting from the root cause keeps the order a person would follow (inputs standardized
        before the learning rate is tuned to them), but not at any price: when a later remedy
        alone beats it by more than noise (He initialization against batch normalization for
        weights drawn 8x too wide), the combination starts from that one, so the result is
        never worse than the best single remedy.
        """
        best = max(kept, key=lambda k: k[1].mean)
        for item in kept:
            if best[1].mean - item[1].mean <= self.threshold(item[1], best[1]):
                return item
        return best  # pragma: no cover - `best` itself always qualifies

    def _score_together(self, changes: list[Change]) -> tuple[Setup, Scores]:
        """Apply `changes` in order to the user's setup and score the result."""
        combined = self.setup
        for change in changes:
            combined = change.apply(combined)
        return combined, self.score(combined)

    def _retry_on_top(self, current_setup: Setup, current: Scores, selected: list[Change]):
        """Give each remedy that did not help alone one more try on top of the combination.

        Some cures only work together: LeakyReLU revives dead units only with an initializer
        that keeps them alive, a deep sigmoid net needs ReLU *and* an adaptive optimizer. The
        remedy's best setting from its own grid is tried once on top; it must add a gain
        beyond noise like any other.
        """
        for change, trial in self.near_misses:
            if any(c.remedy.id == change.remedy.id for c in selected):
                continue
            if change.remedy.changes_rows and any(c.remedy.changes_rows for c in selected):
                continue
            candidate = sorted([*selected, change], key=lambda c: c.remedy.stage)
            on_top = " + ".join(c.label for c in selected)
            self.say(f"retrying {change.label} on top of {on_top}")
            try:
                combined_setup, scores = self._score_together(candidate)
            except Exception:
                logger.debug("retrying %s failed", change.label, exc_info=True)
                continue
            gain, needed = scores.mean - current.mean, self.threshold(current, scores)
            if gain > needed:
                trial["status"] = "accepted"
                trial["reason"] = f"no gain alone, but adds {gain:+.4f} on top of {on_top}"
                self._record(change, scores, current, "accepted", trial["reason"], "combined")
                selected, current_setup, current = candidate, combined_setup, scores
            else:
                self._record(change, scores, current, "rejected",
                             f"adds {gain:+.4f} on top of {on_top} (needs > {needed:.4f})",
                             "combined")
        return current_setup, current, selected
