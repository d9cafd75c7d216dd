"""`fix`: diagnose a setup, try the remedies for what hurts it, keep only those that beat noise."""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fitdoctor.budget import get_budget
from fitdoctor.errors import SetupError
from fitdoctor.findings import Finding, Report
from fitdoctor.fix.evaluate import (
    FEW_HELD_BACK_ROWS,
    Halves,
    Scores,
    first_seed,
    held_back_gain,
    joined,
    original_loss,
    split_validation,
    train_and_score,
)
from fitdoctor.fix.model_edit import NotEditable, is_editable, probe_model
from fitdoctor.fix.records import (
    Advice,
    Candidate,
    CandidateStatus,
    Change,
    FixResult,
    NoiseRule,
    Stage,
)
from fitdoctor.fix.remedies.base import Remedy, registered_remedies, remedies_for
from fitdoctor.fix.store import RunStore, array_digest, digest
from fitdoctor.setup import Setup

logger = logging.getLogger(__name__)

#: Share of your epochs a screening run trains, for remedies judged early
#: (`Remedy.judged_early`): the setting chosen on it is then trained at full length on every
#: seed, so only screening is shortened, never a decision to keep.
SCREEN_SHARE = 1 / 3
#: Fewest epochs a shortened screening run trains: after two, a slow starter cannot be told
#: from a setup that does not learn (a dead-ReLU net reinitialized, under plain SGD, is at
#: 10 % then 14.5 % on digits and reaches 40-48 % by its sixth epoch).
MIN_SCREEN_EPOCHS = 3


def screening_epochs(epochs: int) -> int | None:
    """Epochs of a shortened screening run of a setup trained for `epochs`, or None where
    shortening saves nothing (`epochs` of 3 or fewer)."""
    short = max(MIN_SCREEN_EPOCHS, math.ceil(epochs * SCREEN_SHARE))
    return short if short < epochs else None


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting of one remedy, for the finding it treats."""

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

    @property
    def key(self) -> str:
        """What this setting changes, for the run store: its label and the finding it reads."""
        finding = digest({"id": self.finding.id, "evidence": self.finding.evidence})
        return f"{self.label}[{self.finding.id}:{finding}]"


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
    model: Any = None,
    storage: str | None = None,
    study: str = "fix",
    max_runs: int | None = None,
) -> FixResult:
    """Diagnose a setup, try the remedies for each problem, and keep those that beat noise.

    Every variant is retrained with your own `fit` arguments (your unchanged setup's first
    run is the diagnosis' probe run, when `fix` diagnoses itself). The validation rows are split
    in two halves: every decision is made on one, and `before`/`after` are measured on the
    other, which no decision saw (under 40 rows nothing is held back, and the result says so).
    Each setting of a remedy is screened on the first seed; the best is confirmed over the
    same seeds as your unchanged setup when it beats your setup's run on that seed by more than
    `min_gain` (likewise each try on top of a combination). A remedy that can be judged early
    (`Remedy.judged_early`: not a regularizer, a schedule or another change whose effect shows
    late) is screened on a third of your epochs against your setup's run of the same length,
    and the setting chosen is trained at full length on every seed; the run bound counts such
    a run as that share. A remedy whose screening gain trails that of a remedy already kept by
    more than two runs of your setup differ is not confirmed alone: it is only tried on top of
    the kept ones. Your setup's seeds after the first are trained only when a decision needs
    them; when none does, nothing is kept and `before` is that one run. Tries on top of the
    kept remedies are screened the same way, against the combination's run of the same length.
    The budget bounds the candidate runs (`max_runs`): remedies are tried
    in the diagnosis' rank order, and what comes after the bound is recorded as skipped, never
    silently dropped. A remedy is kept only when its mean gain exceeds
    `max(min_gain, noise_factor * standard error of the difference)`, the standard error coming
    from the run-to-run spread of both setups over the seeds; kept remedies are then combined one
    at a time, each kept only if it still adds a gain beyond noise. A finding the diagnosis
    explains by another waits once a remedy for its cause is kept, and its remedies are
    searched on top of the combination. Your data, model and files are never changed; with
    `out`, the fixed model, `fix.md` and `fix.json` are written there.

    Args:
        build_model, train_data, validation_data, fit: As for `fitdoctor.diagnose`.
        setup: A ready `Setup` instead of the four arguments above.
        out: Folder to write `model.keras`, `fix.md` and `fix.json` to. Defaults to None.
        budget: `"quick"` (2 seeds per variant, at most 9 candidate runs), `"standard"`
            (2 seeds, 30 runs) or `"thorough"` (3 seeds, no bound); see `Budget.fix_runs`.
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
        model: A compiled `keras.Model` instead of `build_model`; each run trains a clone with
            its compile configuration, never the instance. Defaults to None.
        storage: Where to keep every finished run, so a fix started again after a crash trains
            none of them twice and makes the same decisions: a journal file path, or a
            `postgresql://` (`mysql://`, `sqlite:///`) URL, as for `tune`. Defaults to None
            (runs are kept in memory only).
        study: Name of the study holding the runs in `storage`. Defaults to `"fix"`.
        max_runs: The most candidate runs (one setting on one seed, alone or on top of
            others) instead of the budget's. Defaults to None (the budget's).

    Returns:
        A `FixResult` with before/after numbers, kept and rejected remedies, and the fixed model.
    """
    start = time.perf_counter()
    if model is not None:
        from fitdoctor.script import builder_for

        build_model = builder_for(model)
    if setup is None:
        if build_model is None or train_data is None:
            raise SetupError("fix() needs build_model (or model) and train_data, or setup=")
        setup = Setup.from_arrays(build_model, train_data, validation_data, fit, seed=seed)
    allowed, grids = _options(remedies, grids, min_gain, noise_factor)
    budget_name = get_budget(budget).name
    say = progress or (lambda message: None)
    seeds, rule, halves, limit = _plan(setup, budget_name, seed, min_gain, noise_factor,
                                       max_runs)
    store = _open_store(storage, study, setup, seeds, budget_name, halves, rule, say)
    diagnosis: dict[str, Any] = {"seconds": 0.0, "first": None}

    def diagnose_here() -> Report:
        from fitdoctor.diagnose import diagnosed

        say("diagnosing")
        t0 = time.perf_counter()
        made, evidence = diagnosed(setup, budget_name, seed=seed)
        diagnosis["seconds"] = time.perf_counter() - t0
        if evidence.has("probe_run"):  # its first run is seed `seed` of the unchanged setup
            diagnosis["first"] = evidence.get("probe_run").first
        return made

    if report is None:
        # with a store, one process diagnoses for all, and every one reads the kept copy
        report = diagnose_here() if store is None else store.diagnosis(diagnose_here)
    diagnose_seconds = diagnosis["seconds"]
    say("training your setup as given")
    search = _Search(setup, seeds, rule, say, grids, halves, first_run=diagnosis["first"],
                     store=store, limit=limit)
    kept = search.try_remedies(report.problems, allowed)
    final_setup, final_scores, applied = search.combine(kept)
    baseline = search.unchanged  # one seed when no candidate needed the others
    if final_scores.model is None:  # every run of it was read from the store: train it once
        say("training the fixed setup to save its model")
        final_scores = dataclasses.replace(final_scores, model=final_setup.train(seeds[0]).model)
    result = FixResult(
        before=baseline.summary(),
        after=final_scores.summary(),
        applied=tuple(c.label for c in applied),
        trials=tuple(search.trials),
        advice=tuple(search.advice),
        changes=tuple(Change(c.remedy.id, c.finding.id, c.strength, c.remedy.description,
                             c.code(setup)) for c in applied),
        threshold=rule.threshold(baseline, baseline),
        seeds=seeds,
        report=report,
        setup=final_setup,
        model=final_scores.model,
        timings={
            "total": round(time.perf_counter() - start, 3),
            "diagnose": round(diagnose_seconds, 3),
            # a fit of fix's own: the probe run trained beside the diagnosis' other probes
            # (the probe run's own when your setup never needed its second seed)
            "plain_fit": round(baseline.fit_seconds[1 if diagnosis["first"] is not None
                                                    and len(baseline.score) > 1 else 0], 3),
        },
        regression=rule.regression,
        validation=_validation_summary(halves, baseline, final_scores, rule),
        runs={"budget": budget_name, "max_runs": limit,
              "candidate_runs": round(search.spent, 2),
              "screen_epochs": search.short if search.shortened else None,
              "epochs": setup.epochs,
              "unchanged_seeds": len(baseline.score),
              "skipped": sum(t.skipped for t in search.trials)},
    )
    if out is not None:
        from fitdoctor.fix.write import write_outputs

        write_outputs(result, out)
    return result


def _options(remedies: Iterable[str] | None, grids: Mapping[str, Iterable[Any]] | None,
             min_gain: float, noise_factor: float) -> tuple[set[str] | None,
                                                            dict[str, tuple[Any, ...]]]:
    """The remedies allowed and the grids given, checked (SetupError naming what is wrong)."""
    if min_gain < 0:
        raise SetupError(f"min_gain must be >= 0. Received: min_gain={min_gain}")
    if noise_factor < 0:
        raise SetupError(f"noise_factor must be >= 0. Received: noise_factor={noise_factor}")
    allowed = _resolve_remedies(remedies)
    grids = {k: tuple(v) for k, v in (grids or {}).items()}
    _resolve_remedies(grids)
    if any(not v for v in grids.values()):
        raise SetupError(f"every grid needs at least one strength. Received: grids={grids}")
    return allowed, grids


def _plan(setup: Setup, budget: str, seed: int, min_gain: float, noise_factor: float,
          max_runs: int | None) -> tuple[tuple[int, ...], NoiseRule, Halves | None, int | None]:
    """The seeds every variant trains on, the noise rule, the validation halves and the most
    candidate runs (None: no bound)."""
    plan = get_budget(budget)
    seeds = tuple(seed + i for i in range(plan.fix_seeds))
    limit = plan.fix_runs if max_runs is None else max_runs
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < len(seeds)):
        raise SetupError(f"max_runs (--max-runs) must be a whole number of at least "
                         f"{len(seeds)} (one remedy screened and confirmed on the "
                         f"{len(seeds)} seeds). Received: max_runs={max_runs!r}")
    rule = NoiseRule(min_gain, noise_factor, len(seeds),
                     regression=setup.task.kind == "regression")
    return seeds, rule, split_validation(setup, seed), limit


def _open_store(storage: str | None, study: str, setup: Setup, seeds: tuple[int, ...],
                budget: str, halves: Halves | None, rule: NoiseRule,
                say: Callable[[str], None]) -> RunStore | None:
    if storage is None:
        return None
    store = RunStore.open(storage, study, fingerprint(setup, seeds, budget, halves, rule))
    if len(store):
        say(f"resuming: {len(store)} finished runs in study {study!r}")
    return store


def help_fix(
    setup: Setup,
    *,
    storage: str,
    study: str = "fix",
    budget: str = "standard",
    seed: int = 0,
    remedies: Iterable[str] | None = None,
    grids: Mapping[str, Iterable[Any]] | None = None,
    min_gain: float = 0.01,
    noise_factor: float = 2.0,
    progress: Callable[[str], None] | None = None,
    max_runs: int | None = None,
) -> int:
    """Work for the fix of `setup` on `study`: train the runs it will need that no other
    process has made or claimed, and record them there; decide nothing.

    Those runs are the ones known before any decision: the unchanged setup on every seed and
    each setting of each remedy on the screening seed, in the order the fix asks for them.
    The fix itself (`fix(..., storage=storage, study=study)` with the same arguments) reads
    them as it goes, so its decisions are those of a fix alone. `fitdoctor fix --workers N`
    starts N - 1 processes running this.

    Returns:
        How many runs this process trained.
    """
    allowed, grids = _options(remedies, grids, min_gain, noise_factor)
    budget_name = get_budget(budget).name
    say = progress or (lambda message: None)
    seeds, rule, halves, limit = _plan(setup, budget_name, seed, min_gain, noise_factor,
                                       max_runs)
    store = _open_store(storage, study, setup, seeds, budget_name, halves, rule, say)
    assert store is not None

    def diagnose_here() -> Report:
        from fitdoctor.diagnose import diagnosed

        return diagnosed(setup, budget_name, seed=seed)[0]

    report = store.diagnosis(diagnose_here)
    search = _Search(setup, seeds, rule, say, grids, halves, store=store, score_baseline=False,
                     limit=limit)
    return search.screen_all(report.problems, allowed)


def fingerprint(setup: Setup, seeds: tuple[int, ...], budget: str, halves: Halves | None,
                rule: NoiseRule) -> dict[str, Any]:
    """What makes a fix's runs reusable: the data's sizes and labels, the model's layers, the
    `fit` arguments, the seeds, the budget, the validation split and the noise rule."""
    model = probe_model(setup)

    def described(value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (list, tuple)):
            return [described(v) for v in value]
        return type(value).__name__

    return {
        "setup": setup.summary(),
        "labels": [array_digest(setup.y_train), array_digest(setup.y_val)],
        "layers": [type(layer).__name__ for layer in model.layers],
        "parameters": int(model.count_params()),
        "fit": {k: described(v) for k, v in sorted(setup.fit_kwargs().items())},
        "seeds": list(seeds),
        "budget": budget,
        "halves": None if halves is None else array_digest(halves.choose),
        "rule": [rule.min_gain, rule.noise_factor],
    }


def _validation_summary(halves: Halves | None, before: Scores, after: Scores,
                        rule: NoiseRule) -> dict[str, Any]:
    """How the validation rows were used, and the gain on those fix chose on and on the rest."""
    claimed = after.mean - before.mean
    if halves is None:
        return {"rows_chosen_on": None, "rows_held_back": 0, "claimed_gain": claimed,
                "held_back_gain": None, "held_back_gain_se": None,
                "note": "the validation data is too small to hold a part back, so the gain is "
                        "measured on the rows fix chose on and may be inflated"}
    gain, se = held_back_gain(before, after)
    note = ""
    if len(halves.held_back) < FEW_HELD_BACK_ROWS:
        reference = float(np.mean(before.held_back.score))
        shown = "" if not np.isfinite(se) else \
            f" (standard error {rule.text(se, reference, signed=False)})"
        note = (f"only {len(halves.held_back)} validation rows are held back, so the held-back "
                f"gain is imprecise{shown}")
    return {"rows_chosen_on": int(len(halves.choose)),
            "rows_held_back": int(len(halves.held_back)), "claimed_gain": claimed,
            "held_back_gain": gain, "held_back_gain_se": se if np.isfinite(se) else None,
            "note": note}


def _resolve_remedies(ids: Iterable[str] | None) -> set[str] | None:
    if ids is None:
        return None
    known = registered_remedies()
    ids = set(ids)
    unknown = sorted(ids - set(known))
    if unknown:
        raise SetupError(f"unknown remedy id(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return ids


def choose_base(alone: Sequence[Scores], rule: NoiseRule) -> int:
    """Index of the remedy the combination starts from: the first (causes first) of those whose
    score alone is within noise of the best alone.

    Starting from the root cause keeps the order a person would follow (inputs standardized
    before the learning rate is tuned to them), but not at any price: when a later remedy
    alone beats it by more than noise (He initialization against batch normalization for
    weights drawn 8x too wide), the combination starts from that one, so the result is never
    worse than the best single remedy.
    """
    best = max(alone, key=lambda s: s.mean)
    return next(i for i, scores in enumerate(alone)
                if best.mean - scores.mean <= rule.threshold(scores, best))


def run_key(settings: Sequence[Setting], seed: int, epochs: int | None = None) -> str:
    """The run store's key of the user's setup with `settings` applied, trained on `seed`
    (for `epochs` instead of the user's, for a shortened screening run)."""
    length = "" if epochs is None else f", {epochs} epochs"
    return f"{' + '.join(s.key for s in settings) or 'unchanged'} @ seed {seed}{length}"


def gains_on_screen(candidate: Scores, reference: Scores, rule: NoiseRule) -> bool:
    """Whether `candidate` beats `reference` on the screening seed, the first of both, by
    more than the smallest gain that counts (`NoiseRule.floor`).

    Fix confirms a screened candidate on the other seeds only then: one that does not beat
    the same-seed run of what it is compared with by that much would need the other seeds to
    make up the rest, and the runs that would show it cost a fit each.
    """
    gain = candidate.score[0] - reference.score[0]
    return bool(math.isfinite(gain) and gain > rule.floor(reference)) or (
        math.isfinite(candidate.score[0]) and not math.isfinite(reference.score[0]))


def outscreened(gain: float, lead: float, against: Scores, noise: float,
                rule: NoiseRule) -> bool:
    """Whether a remedy that gained `gain` on its screening run (over `against`, your setup's
    run of the same length on the same seed) need not be confirmed alone, because a remedy
    already kept gained `lead` on its own, more by more than two single runs of your setup
    differ (`noise`: their spread over seeds).

    This is successive halving across remedies: such a remedy would not be the best alone, so
    its confirmation on every seed would decide nothing. Whether it adds to the kept ones is
    tried on top of them (`combine`), the way a remedy that does not help alone is, at the cost
    of one run on the screening seed.
    """
    return bool(math.isfinite(gain) and math.isfinite(lead)
                and lead - gain > rule.between_runs(against, noise))


@dataclasses.dataclass(frozen=True)
class _Tried:
    """A remedy's chosen setting, its scores alone and the index of its record in the trials."""

    setting: Setting
    scores: Scores
    record: int


@dataclasses.dataclass(frozen=True)
class _Combination:
    """The remedies kept so far, the setup they make and its scores."""

    settings: tuple[Setting, ...]
    setup: Setup
    scores: Scores

    @property
    def key(self) -> tuple[str, ...]:
        """What the combination changes, setting by setting (`Setting.key`)."""
        return tuple(c.key for c in self.settings)


class _Search:
    """One fix: scores every candidate and keeps the records of each decision, in run order."""

    def __init__(self, setup: Setup, seeds: tuple[int, ...], rule: NoiseRule,
                 say: Callable[[str], None], grids: Mapping[str, tuple[Any, ...]],
                 halves: Halves | None = None, first_run: Any = None,
                 store: RunStore | None = None, score_baseline: bool = True,
                 limit: int | None = None) -> None:
        self.setup = setup
        self.halves = halves
        self.seeds = seeds
        self.rule = rule
        self.say = say
        self.grids = grids
        self.user_loss = original_loss(setup)
        self.editable = is_editable(probe_model(setup))
        self.trials: list[Candidate] = []
        self.advice: list[Advice] = []
        #: Remedies whose best setting did not beat noise alone.
        self.near_misses: list[_Tried] = []
        #: Remedies for symptoms of a cause already treated, searched on top only.
        self.deferred: list[tuple[Remedy, Finding]] = []
        self.store = store
        #: The most candidate runs (None: no bound), and those asked for so far, in full
        #: runs' worth (a screening run on a third of the epochs counts a third).
        self.limit = limit
        self.spent = 0.0
        #: Epochs of a shortened screening run (None: screening runs train as long as yours).
        self.short = screening_epochs(setup.epochs)
        self._short_reference: Scores | None = None
        #: Shortened runs of combinations on the screening seed, by their settings' keys.
        self._short_combined: dict[tuple[str, ...], Scores] = {}
        #: The remedy kept alone whose screening run gained most so far, and that gain.
        self._leader: tuple[str, float] | None = None
        if score_baseline:  # the diagnosis trained the unchanged setup on the first seed
            self._first = self.score(setup, (), seeds[:1],
                                     trained={seeds[0]: first_run} if first_run else None)
            self._baseline = self._first if len(seeds) == 1 else None

    @property
    def baseline(self) -> Scores:
        """The unchanged setup over every seed; the seeds after the first are trained the
        first time a decision needs them (a candidate to confirm, a spread to compare with)."""
        if self._baseline is None:
            self._baseline = joined(self._first, self.score(self.setup, (), self.seeds[1:]))
        return self._baseline

    @property
    def unchanged(self) -> Scores:
        """The unchanged setup's runs made so far: every seed, or the first alone when no
        candidate ever gained enough on the screening seed to need the others."""
        return self._first if self._baseline is None else self._baseline

    def score(self, setup: Setup, settings: Sequence[Setting],
              seeds: tuple[int, ...] | None = None, *,
              trained: Mapping[int, Any] | None = None, epochs: int | None = None) -> Scores:
        """Score `setup` (the user's with `settings` applied) over `seeds`, trained for
        `epochs` (None: the user's); with a run store, each seed's run is read from it when it
        was already made, and recorded when new."""
        seeds = self.seeds if seeds is None else seeds
        if settings:
            self.spent += len(seeds) * self._share(epochs)
        if self.store is None:
            return train_and_score(setup, seeds, self.user_loss, self.halves, trained,
                                   epochs=epochs)
        runs = []
        for seed in seeds:
            key = run_key(settings, seed, epochs)
            run = self.store.get(key)
            while run is None:
                made = self._train_claimed(setup, key, seed, trained, epochs)
                run = made if made is not None else self.store.wait_for(key)
            runs.append(run)
        return functools.reduce(joined, runs)

    @property
    def shortened(self) -> bool:
        """Whether any remedy was screened on a shortened run (its reference was trained)."""
        return self._short_reference is not None or bool(self._short_combined)

    def _share(self, epochs: int | None) -> float:
        """What one run for `epochs` (None: the user's) costs, in full runs."""
        return 1.0 if epochs is None else epochs / self.setup.epochs

    def _screen_epochs(self, remedy: Remedy, on: _Combination | None = None) -> int | None:
        """Epochs to screen `remedy`'s settings on, alone or `on` top of a combination: the
        shortened run's when the remedy can be judged early, the fix confirms on other seeds,
        and the bound leaves room to confirm at full length on every seed after it (and, on
        top, for the combination's own shortened run when it has none yet); None (the user's
        epochs) otherwise."""
        if self.short is None or not remedy.judged_early or len(self.seeds) < 2:
            return None
        reference = 0.0 if on is None or on.key in self._short_combined \
            else self._share(self.short)
        return self.short if self._affords(self.short, reference) else None

    def _screen_reference(self, on: _Combination | None = None) -> Scores:
        """Your setup (or the combination `on`) on the screening seed, trained as long as a
        shortened screening run, once each. Your setup's counts, like its other runs, outside
        the bound; a combination's is a candidate run."""
        if on is not None:
            if on.key not in self._short_combined:
                self._short_combined[on.key] = self.score(on.setup, on.settings,
                                                          self.seeds[:1], epochs=self.short)
            return self._short_combined[on.key]
        if self._short_reference is None:
            self._short_reference = self.score(self.setup, (), self.seeds[:1],
                                               epochs=self.short)
        return self._short_reference

    def _train_claimed(self, setup: Setup, key: str, seed: int,
                       trained: Mapping[int, Any] | None = None,
                       epochs: int | None = None) -> Scores | None:
        """Claim the run `key`, train and record it; None when another process holds it."""
        assert self.store is not None
        trial = self.store.claim(key)
        if trial is None:
            return None
        try:
            run = train_and_score(setup, (seed,), self.user_loss, self.halves, trained,
                                  epochs=epochs)
        except BaseException:
            self.store.abandon(trial)
            raise
        self.store.finish(trial, key, run)
        return run

    def screen_all(self, problems: Iterable[Finding], allowed: set[str] | None) -> int:
        """Train the runs known before any decision that nobody has made or claimed: the
        unchanged setup on each seed, then every setting of every remedy on the screening seed,
        in the order `try_remedies` may ask for them, as many as the bound on candidate runs
        lets the fix ask for. (A symptom's remedy that the fix searches on top of a kept cause
        instead leaves its run here unused.) Returns how many this process trained."""
        planned: list[tuple[tuple[Setting, ...], int, int | None]] = []
        for remedy, finding in self._candidates(problems, allowed):
            if remedy.edits_model and not self.editable:
                continue
            short = self._screen_epochs(remedy)
            for strength in self._strengths(remedy, finding):
                if not self._affords(short):  # each screened setting keeps room to confirm
                    break
                self.spent += self._share(short)
                planned.append(((Setting(remedy, finding, strength),), self.seeds[0], short))
        if any(short is not None for _, _, short in planned):
            planned.insert(0, ((), self.seeds[0], self.short))
        planned = [((), seed, None) for seed in self.seeds] + planned
        made = 0
        for settings, seed, epochs in planned:
            key = run_key(settings, seed, epochs)
            if self.store.get(key) is not None:
                continue
            try:
                changed = self._together(settings)
            except Exception:  # the fix records why; a helper just moves on
                logger.debug("could not apply %s", key, exc_info=True)
                continue
            self.say(f"training {key}")
            try:
                made += self._train_claimed(changed, key, seed, epochs=epochs) is not None
            except Exception:
                logger.debug("run %s failed", key, exc_info=True)
        return made

    def _scored(self, setting: Setting, scores: Scores, reference: Scores, stage: Stage,
                status: CandidateStatus, reason: str, *, chosen: bool = False,
                epochs: int | None = None) -> Candidate:
        return Candidate.scored(
            remedy=setting.remedy.id, finding=setting.finding.id, strength=setting.strength,
            label=setting.label, stage=stage, status=status, reason=reason, scores=scores,
            reference=reference, rule=self.rule, chosen=chosen, epochs=epochs)

    def _untrained(self, setting: Setting, status: CandidateStatus, reason: str,
                   stage: Stage = Stage.ALONE) -> Candidate:
        return Candidate(remedy=setting.remedy.id, finding=setting.finding.id,
                         strength=setting.strength, label=setting.label, stage=stage,
                         status=status, reason=reason, regression=self.rule.regression)

    def _affords(self, short: int | None = None, extra: float = 0.0) -> bool:
        """Whether one more candidate can be screened (for `short` epochs; None: the user's)
        and confirmed within the bound, with `extra` runs besides: a full-length screening run
        is the confirmation's first seed, a shortened one is not."""
        if self.limit is None:
            return True
        confirm = len(self.seeds) - (1 if short is None else 0)
        return self.spent + extra + self._share(short) + confirm <= self.limit + 1e-9

    def _spent(self) -> str:
        """Why a candidate was not tried, in words."""
        return (f"not tried: this fix's {self.limit} candidate runs were spent on remedies "
                f"ranked before it")

    def _decide(self, index: int, status: CandidateStatus, reason: str) -> None:
        """Replace the record at `index` by the same candidate with a new verdict."""
        self.trials[index] = self.trials[index].decided(status, reason)

    def try_remedies(self, problems: Iterable[Finding],
                     allowed: set[str] | None) -> list[_Tried]:
        """Try each remedy for each problem alone (its grid searched); return the kept ones.

        A finding the diagnosis explains by another (underfitting by unscaled inputs) waits
        when a remedy for its explainer has already been kept: its remedies are searched on top
        of the combination instead (`combine`), where they would have to prove themselves anyway,
        and not alone against a setup whose cause is already cured.
        """
        kept: list[_Tried] = []
        for remedy, finding in self._candidates(problems, allowed):
            if remedy.edits_model and not self.editable:
                self._advise(remedy, finding)
                continue
            if any(k.setting.finding.id in finding.explained_by for k in kept):
                self.deferred.append((remedy, finding))
                continue
            best = self._search_grid(remedy, finding)
            if best is not None:
                kept.append(best)
        return kept

    def _candidates(self, problems: Iterable[Finding],
                    allowed: set[str] | None) -> Iterator[tuple[Remedy, Finding]]:
        """Each remedy to try, once, with the first finding it treats, in rank order."""
        tried: set[str] = set()
        for finding in problems:
            for remedy in remedies_for(finding.id):
                if remedy.id in tried or (allowed is not None and remedy.id not in allowed):
                    continue
                if not remedy.applies(self.setup, finding):
                    continue
                tried.add(remedy.id)
                yield remedy, finding

    def _strengths(self, remedy: Remedy, finding: Finding) -> tuple[Any, ...]:
        return self.grids.get(remedy.id) or remedy.strengths(self.setup, finding)

    def _advise(self, remedy: Remedy, finding: Finding) -> None:
        strength = self._strengths(remedy, finding)[0]
        self.advice.append(Advice(
            remedy=remedy.id, finding=finding.id,
            reason="your model is subclassed, so fitdoctor cannot rebuild it safely from its "
                   "config; make this change in your own code",
            code=remedy.code(self.setup, finding, strength),
        ))

    def _search_grid(self, remedy: Remedy, finding: Finding,
                     on: _Combination | None = None) -> _Tried | None:
        """Screen each strength of `remedy` on one seed, weakest first, alone or `on` top of a
        combination; confirm the best on the other seeds and judge it against noise over
        your setup (or the combination).

        Screening is the first round of successive halving: every setting costs one run (on a
        third of the epochs, for a remedy judged early searched alone), and only the one chosen
        is trained over every seed at full length. Screened settings are compared with
        the unchanged setup's run-to-run spread. A stronger setting that scores worse than the
        best so far by more than that stops an ordered grid (the over-strength guard).
        Searched alone, a remedy that is not accepted becomes a near miss (tried on top later).
        """
        # in run order; scores None: it failed
        runs: list[tuple[Setting, Scores | None, str, Setup | None]] = []
        best: int | None = None
        why_not: dict[int, str] = {}  # why a setting is not the one chosen
        screen, rest = self.seeds[:1], self.seeds[1:]
        strengths = self._strengths(remedy, finding)
        untried: list[Candidate] = []  # settings whose turn came once the bound was reached
        # alone, a remedy judged early is screened on a shortened run, against your setup's
        # run of the same length; otherwise against your setup's (or the combination's) run on
        # the screening seed
        short = self._screen_epochs(remedy, on)
        screened_against = (self._screen_reference(on) if short is not None
                            else self._first if on is None else on.scores)

        judged_against: list[Scores] = []  # set when a confirmation stopped after one seed

        def reference() -> Scores:
            """What a confirmed setting is judged against, over every seed (or the first, for
            a confirmation that stopped after it)."""
            if judged_against:
                return judged_against[0]
            return self.baseline if on is None else on.scores
        confirmed = False  # whether the chosen setting's scores are its full-length runs
        stage = Stage.ALONE if on is None else Stage.COMBINED
        against = "your setup" if on is None else " + ".join(c.label for c in on.settings)
        where = "" if on is None else f" on top of {against}"
        run_text = "screening seed" if short is None else "screening run"

        def together(setting: Setting) -> tuple[Setting, ...]:
            if on is None:
                return (setting,)
            return tuple(sorted([*on.settings, setting], key=lambda c: c.remedy.stage))

        def record(best: int | None, verdict: str,
                   status: CandidateStatus = CandidateStatus.REJECTED) -> int:
            index = self._record_grid(runs, best, why_not, verdict, status, stage,
                                      reference() if confirmed else screened_against,
                                      screened_against, short, confirmed)
            self.trials += untried
            return index

        for n, strength in enumerate(strengths):
            setting = Setting(remedy, finding, strength)
            if not self._affords(short):
                untried = [self._untrained(Setting(remedy, finding, later),
                                           CandidateStatus.SKIPPED, self._spent(), stage)
                           for later in strengths[n:]]
                break
            self.say(f"trying {setting.label} for {finding.id}{where}")
            try:
                changed = self._together(together(setting))
                scores = self.score(changed, together(setting), screen, epochs=short)
            except NotEditable as exc:
                record(best, "a later setting could not be applied")
                self.trials.append(self._untrained(setting, CandidateStatus.ADVICE, str(exc),
                                                   stage))
                self._advise(remedy, finding)
                return None
            except Exception as exc:  # a remedy that cannot run is reported, never fatal
                logger.debug("remedy %s failed", setting.label, exc_info=True)
                runs.append((setting, None, f"{type(exc).__name__}: {exc}", None))
                continue
            runs.append((setting, scores, "", changed))
            index = len(runs) - 1
            if best is None or scores.mean > runs[best][1].mean:
                if best is not None:
                    why_not[best] = f"{setting.label} scored higher on the {run_text}"
                best = index
                continue
            top_setting, top = runs[best][0], runs[best][1]
            why_not[index] = f"weaker than {top_setting.label} on the {run_text}"
            drop = top.mean - scores.mean
            # the spread of your setup's runs is measured only for a drop it could explain
            if remedy.ordered_grid and drop > self.rule.floor(top) and \
                    drop > self.rule.between_runs(top, self.baseline.noise):
                fell = self.rule.text(top.mean - scores.mean, top.mean, signed=False)
                why_not[index] = (f"over-strong: validation score fell {fell} below "
                                  f"{top_setting.label}; stopped strengthening")
                break
        if best is None:
            record(None, "")
            return None
        setting, screened, _, changed = runs[best]
        if rest and not gains_on_screen(screened, screened_against, self.rule):
            shown = self._screen_text(screened, screened_against, short)
            verdict = (f"{shown} against your setup" if on is None else
                       f"on top of {against}, {shown}") + ", so not confirmed on the other seeds"
            index = record(best, verdict)
            if on is None:
                self.near_misses.append(_Tried(setting, screened, index))
            return None
        screen_gain = screened.score[0] - screened_against.score[0]
        beaten = self._outscreened(screen_gain, screened_against) if on is None and rest else ""
        if beaten:
            shown = self.rule.text(screen_gain, screened_against.score[0])
            index = record(best, f"gained {shown} on {self._screen_where(short)} against your "
                                 f"setup, but {beaten}, so it is not confirmed alone; it is "
                                 f"tried on top of what is kept")
            self.near_misses.append(_Tried(setting, screened, index))
            return None
        if rest:
            self.say(f"confirming {setting.label} for {finding.id}{where}")
            full_length = self._first if on is None else first_seed(on.scores)
            try:
                runs[best] = (setting, self._confirm(changed, together(setting), screened, short,
                                                     full_length), "", changed)
            except Exception as exc:
                logger.debug("confirming %s failed", setting.label, exc_info=True)
                runs[best] = (setting, None, f"{type(exc).__name__}: {exc}", None)
                record(None, "")
                return None
            if self.stopped_after_first_seed(runs[best][1]):
                judged_against.append(full_length)
                confirmed = True
                text = self._first_seed_text(runs[best][1], full_length)
                index = record(best, text if on is None else f"on top of {against}, {text}")
                if on is None:
                    self.near_misses.append(_Tried(setting, runs[best][1], index))
                return None
        confirmed = True
        setting, scores, _, _ = runs[best]
        judged = reference()
        gain, needed = scores.mean - judged.mean, self.rule.threshold(judged, scores)
        if gain > needed:
            status = CandidateStatus.ACCEPTED
            if on is None and (self._leader is None or screen_gain > self._leader[1]):
                self._leader = (setting.label, screen_gain)
            verdict = "beats run-to-run noise" if on is None else \
                f"adds {self.rule.text(gain, judged.mean)}{where}"
        elif gain > 0:
            status = CandidateStatus.REJECTED
            verdict = (f"gain {self.rule.text(gain, judged.mean)}{where} does not beat the "
                       f"noise threshold of "
                       f"{self.rule.text(needed, judged.mean, signed=False)}")
        else:
            status = CandidateStatus.REJECTED
            verdict = f"no gain{where}" if gain == 0 else \
                f"made it worse{where} ({self.rule.text(gain, judged.mean)})"
        index = record(best, verdict, status)
        tried = _Tried(setting, scores, index)
        if status is CandidateStatus.ACCEPTED:
            return tried
        if on is None:
            self.near_misses.append(tried)
        return None

    def _confirm(self, setup: Setup, settings: Sequence[Setting], screened: Scores,
                 short: int | None, against: Scores) -> Scores:
        """`setup` (the user's with `settings` applied) at full length over every seed, after
        its screening run `screened` (for `short` epochs; None: the user's): a full-length
        screening run is the first seed's run, a shortened one is not one of them.

        After a shortened screening run, the first seed is trained at full length alone first,
        and the other seeds only when it, too, beats `against` (your setup's or the
        combination's full-length runs) on that seed by more than the smallest gain that
        counts (`gains_on_screen`): the second round of successive halving. Otherwise the
        first seed's scores are returned alone (`stopped_after_first_seed` tells).
        """
        if short is None:
            return joined(screened, self.score(setup, settings, self.seeds[1:]))
        first = self.score(setup, settings, self.seeds[:1])
        if not gains_on_screen(first, against, self.rule):
            return first
        return joined(first, self.score(setup, settings, self.seeds[1:]))

    def stopped_after_first_seed(self, scores: Scores) -> bool:
        """Whether a confirmation (`_confirm`) stopped after its first full-length seed."""
        return len(self.seeds) > 1 and len(scores.score) == 1

    def _first_seed_text(self, scores: Scores, against: Scores) -> str:
        """What a confirmation that stopped after its first seed showed, in words."""
        shown = self._screen_text(scores, against, at=f"at full length on seed {self.seeds[0]}")
        return f"{shown}, so not confirmed on the other seeds"

    def _outscreened(self, gain: float, against: Scores) -> str:
        """Why a setting that gained `gain` on its screening run over `against` is not
        confirmed alone (`outscreened`), in words; "" when it may be the best alone."""
        if self._leader is None:
            return ""
        label, lead = self._leader
        if not outscreened(gain, lead, against, self.baseline.noise, self.rule):
            return ""
        less = self.rule.text(lead - gain, against.score[0], signed=False)
        return f"{label}, kept, gained {less} more on its own screening run"

    def _record_grid(self, runs: list[tuple[Setting, Scores | None, str, Setup | None]],
                     best: int | None, why_not: Mapping[int, str], verdict: str,
                     status: CandidateStatus, stage: Stage, reference: Scores,
                     screened_against: Scores, short: int | None, confirmed: bool) -> int:
        """Append one record per setting of a grid, in run order; return the chosen one's index.

        Settings known only from their screening run are recorded against the unchanged
        setup's run of the same length (`screened_against`, for `short` epochs), the chosen
        one, once `confirmed` at full length, against `reference`."""
        chosen_index = -1
        for i, (setting, scores, error, _) in enumerate(runs):
            if scores is None:
                self.trials.append(self._untrained(setting, CandidateStatus.FAILED, error, stage))
                continue
            if i == best:
                chosen_index = len(self.trials)
                self.trials.append(self._scored(
                    setting, scores, reference if confirmed else screened_against, stage,
                    status, verdict, chosen=True, epochs=None if confirmed else short))
            else:
                self.trials.append(self._scored(setting, scores, screened_against, stage,
                                                CandidateStatus.REJECTED, why_not.get(i, ""),
                                                epochs=short))
        return chosen_index

    def combine(self, kept: list[_Tried]) -> tuple[Setup, Scores, list[Setting]]:
        """Combine kept remedies greedily, causes first; each must add a gain beyond noise.

        `kept` arrives in the diagnosis' rank order (remedies are tried finding by finding), so
        the root cause's remedy is the base and symptom remedies must prove themselves on top
        of it: standardizing unscaled inputs comes before a learning rate tuned to them. Then
        each remedy that did not help alone gets one try on top: some cures only work together
        (LeakyReLU revives dead units only with an initializer that keeps them alive, a deep
        sigmoid net needs ReLU *and* an adaptive optimizer). Last, the remedies for symptoms of
        a cause already treated (`try_remedies`) have their grids searched on top.
        """
        if not kept:
            return self.setup, self.unchanged, []
        base = kept[choose_base([k.scores for k in kept], self.rule)]
        state = _Combination((base.setting,), base.setting.apply(self.setup), base.scores)
        for tried in kept:
            if tried is not base:
                state = self._on_top(state, tried, helped_alone=True)
        for tried in self.near_misses:
            state = self._on_top(state, tried, helped_alone=False)
        for remedy, finding in self.deferred:
            if remedy.changes_rows and any(c.remedy.changes_rows for c in state.settings):
                first = Setting(remedy, finding, self._strengths(remedy, finding)[0])
                self.trials.append(self._untrained(
                    first, CandidateStatus.REJECTED,
                    "only one change to the training rows is combined", Stage.COMBINED))
                continue
            found = self._search_grid(remedy, finding, on=state)
            if found is not None:
                settings = tuple(sorted([*state.settings, found.setting],
                                        key=lambda c: c.remedy.stage))
                state = _Combination(settings, self._together(settings), found.scores)
        return state.setup, state.scores, sorted(state.settings, key=lambda c: c.remedy.stage)

    def _on_top(self, state: _Combination, tried: _Tried, *, helped_alone: bool) -> _Combination:
        """Try one remedy on top of the combination; return the combination it leaves.

        The remedy's best setting from its own grid must add a gain beyond noise over the
        combination. A remedy that helped alone and adds nothing on top is rejected; one that
        did not help alone and adds a gain on top is accepted.
        """
        setting = tried.setting
        if any(c.remedy.id == setting.remedy.id for c in state.settings):
            return state
        if setting.remedy.changes_rows and any(c.remedy.changes_rows for c in state.settings):
            if helped_alone:
                self._decide(tried.record, CandidateStatus.REJECTED,
                             "only one change to the training rows is combined")
            return state
        settings = tuple(sorted([*state.settings, setting], key=lambda c: c.remedy.stage))
        on_top = " + ".join(c.label for c in state.settings)
        short = self._screen_epochs(setting.remedy, state)
        if not self._affords(short):
            reason = f"on top of {on_top}, {self._spent()}"
            if helped_alone:
                reason = f"helps alone, but {reason}, so it is not kept"
                self._decide(tried.record, CandidateStatus.SKIPPED, reason)
            self.trials.append(self._untrained(setting, CandidateStatus.SKIPPED, reason,
                                               Stage.COMBINED))
            return state
        current = state.scores
        screen, rest = self.seeds[:1], self.seeds[1:]
        self.say(f"trying {setting.label} on top of {on_top}")
        try:
            combined_setup = self._together(settings)
            # judged early: screened on a shortened run, against the combination's of that
            # length, and confirmed at full length on every seed
            against = current if short is None else self._screen_reference(state)
            scores = self.score(combined_setup, settings, screen, epochs=short)
            if rest and not gains_on_screen(scores, against, self.rule):
                shown = self._screen_text(scores, against, short)
                self._rejected_on_top(tried, scores, against, helped_alone,
                                      f"on top of {on_top}, {shown}, so not confirmed on the "
                                      f"other seeds", epochs=short)
                return state
            if rest:
                full_length = first_seed(current)
                scores = self._confirm(combined_setup, settings, scores, short, full_length)
                if self.stopped_after_first_seed(scores):
                    self._rejected_on_top(
                        tried, scores, full_length, helped_alone,
                        f"on top of {on_top}, {self._first_seed_text(scores, full_length)}")
                    return state
        except Exception as exc:
            logger.debug("combining %s failed", setting.label, exc_info=True)
            if helped_alone:
                self._decide(tried.record, CandidateStatus.REJECTED, f"combining failed: {exc}")
            return state
        gain, needed = scores.mean - current.mean, self.rule.threshold(current, scores)
        adds = f"adds {self.rule.text(gain, current.mean)} on top of {on_top}"
        if gain > needed:
            reason = adds if helped_alone else f"not kept alone, but {adds}"
            if not helped_alone:
                self._decide(tried.record, CandidateStatus.ACCEPTED, reason)
            self.trials.append(self._scored(setting, scores, current, Stage.COMBINED,
                                            CandidateStatus.ACCEPTED, reason))
            return _Combination(settings, combined_setup, scores)
        self._rejected_on_top(
            tried, scores, current, helped_alone,
            f"{adds} (needs > {self.rule.text(needed, current.mean, signed=False)})")
        return state

    def _rejected_on_top(self, tried: _Tried, scores: Scores, current: Scores,
                         helped_alone: bool, reason: str, epochs: int | None = None) -> None:
        """Record a try on top that did not earn its place, `scores` (trained for `epochs`;
        None: the user's) against `current` (and, for a remedy that helped alone, why it is
        not kept after all)."""
        if helped_alone:
            reason = f"helps alone, but {reason}"
            self._decide(tried.record, CandidateStatus.REJECTED, reason)
        self.trials.append(self._scored(tried.setting, scores, current, Stage.COMBINED,
                                        CandidateStatus.REJECTED, reason, epochs=epochs))

    def _together(self, settings: Sequence[Setting]) -> Setup:
        """The user's setup with `settings` applied in order."""
        combined = self.setup
        for setting in settings:
            combined = setting.apply(combined)
        return combined

    def _screen_where(self, short: int | None) -> str:
        """The screening run, in words (for `short` epochs; None: the user's)."""
        if short is None:
            return f"the screening seed ({self.seeds[0]})"
        return f"the screening run (seed {self.seeds[0]}, {short} of {self.setup.epochs} epochs)"

    def _screen_text(self, candidate: Scores, reference: Scores,
                     short: int | None = None, at: str | None = None) -> str:
        """What the screening run showed against the reference's run on the same seed (for
        `short` epochs; None: the user's), or the run `at` names ("at full length on seed
        0")."""
        gain = candidate.score[0] - reference.score[0]
        at = at or f"on {self._screen_where(short)}"
        if not math.isfinite(gain) or gain == 0:
            return f"no gain {at}"
        shown = self.rule.text(gain, reference.score[0])
        if gain > 0:
            least = self.rule.text(self.rule.floor(reference), reference.score[0], signed=False)
            return f"gained only {shown} {at}, not more than the {least} that counts"
        return f"made it worse {at}: {shown}"
