"""What `fix` tried and decided, as frozen values.

Each candidate (one setting of one remedy, alone or on top of the remedies kept so far) is a
`Candidate` built once from its numbers, with a `CandidateStatus`. A later decision about a
candidate (a remedy that helped alone but adds nothing on top of the combination) is a new
record from `Candidate.decided`, never an edit of the old one. `FixResult` holds them all and
serializes to the JSON written as `fix.json`.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fitdoctor.findings import Report, _jsonable

if TYPE_CHECKING:
    from fitdoctor.fix.evaluate import Scores
    from fitdoctor.setup import Setup


class CandidateStatus(str, enum.Enum):
    """The verdict on one candidate."""

    ACCEPTED = "accepted"  # beat run-to-run noise and is part of the fixed setup
    REJECTED = "rejected"  # trained and scored, and did not earn its place
    ADVICE = "advice"  # cannot be applied to this model; given as code to write instead
    FAILED = "failed"  # raised while being applied or trained
    SKIPPED = "skipped"  # its turn came after the fix's budget of candidate runs was spent


class Stage(str, enum.Enum):
    """What a candidate was compared against."""

    ALONE = "alone"  # the setup as given
    COMBINED = "combined"  # the setup with the remedies kept so far


def gain_in_points(value: float, reference: float, *, regression: bool) -> float:
    """A score difference in the user's units: accuracy points, or percent of the loss.

    Classification scores are accuracies, so 0.012 is 1.2 points. Regression scores are minus
    the validation loss, so a gain is given as a percentage of the loss it is compared to.
    """
    if not regression:
        return 100.0 * value
    if not math.isfinite(reference) or reference == 0:
        return math.nan
    return 100.0 * value / abs(reference)


def points_unit(*, regression: bool) -> str:
    """`"points"` (of accuracy), or `"% of the loss"` for regression."""
    return "% of the loss" if regression else "points"


def points_text(value: float, reference: float, *, regression: bool, signed: bool = True) -> str:
    """A gain or threshold as text, e.g. `"+4.1 points"` or `"2.0 % of the loss"`."""
    number = gain_in_points(value, reference, regression=regression)
    if not math.isfinite(number):
        return f"{value:+.4g}" if signed else f"{value:.4g}"
    return f"{number:+.1f} {points_unit(regression=regression)}" if signed else \
        f"{number:.1f} {points_unit(regression=regression)}"


@dataclasses.dataclass(frozen=True)
class NoiseRule:
    """When a gain beats run-to-run noise.

    Args:
        min_gain: Smallest gain that counts: accuracy points as a fraction, or a fraction of the
            reference's validation loss for regression.
        noise_factor: How many standard errors of the difference a gain must exceed.
        n_seeds: Seeds each mean is taken over.
        regression: Whether scores are minus the validation loss.
    """

    min_gain: float
    noise_factor: float
    n_seeds: int
    regression: bool = False

    def threshold(self, reference: Scores, candidate: Scores) -> float:
        """The gain over `reference` that beats run-to-run noise.

        `noise_factor` standard errors of the difference of the two means (each mean over the
        same seeds), and never less than `min_gain`.
        """
        spread = math.sqrt((reference.noise ** 2 + candidate.noise ** 2) / self.n_seeds)
        return max(self.floor(reference), self.noise_factor * spread)

    def floor(self, reference: Scores) -> float:
        """The smallest gain over `reference` that counts: `min_gain`, as a fraction of the
        reference's loss for regression."""
        if self.regression and math.isfinite(reference.mean):
            return self.min_gain * abs(reference.mean)
        return self.min_gain

    def between_runs(self, reference: Scores, noise: float) -> float:
        """The difference between two single runs that beats run-to-run noise.

        Settings screened on one seed are compared with each other this way; `noise` is the
        run-to-run spread of the unchanged setup (the one spread measured over seeds).
        """
        return max(self.floor(reference), self.noise_factor * noise * math.sqrt(2))

    def text(self, value: float, reference: float, *, signed: bool = True) -> str:
        """`value` in points (see `points_text`)."""
        return points_text(value, reference, regression=self.regression, signed=signed)


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One setting of one remedy that `fix` tried, with its numbers and the verdict on it.

    Args:
        remedy: Remedy id, e.g. `"l2_penalty"`.
        finding: Id of the finding it treats.
        strength: The setting tried (None for a remedy without a grid).
        label: Short name of the setting, e.g. `"l2_penalty(0.001)"`.
        stage: `Stage.ALONE` or `Stage.COMBINED`.
        status: The verdict.
        reason: Why, in words.
        chosen: True for the setting its remedy's grid search chose (one per remedy alone).
        regression: Whether scores are minus the validation loss.
        score: Mean compared score over seeds (NaN when it was not trained). This and the
            numbers below are measured on the validation rows that choose (see
            `FixResult.validation`), never on the held-back ones.
        val_accuracy: Mean validation accuracy (NaN for regression or when not trained).
        val_loss: Mean validation loss with the user's loss (NaN when not trained).
        per_seed: `{"val_accuracy": [...], "val_loss": [...]}`, one entry per seed.
        fit_seconds: Seconds of all its fits together.
        reference: Mean score of what it was compared against.
        gain: `score - reference`; `threshold`: the gain that beats noise (both NaN when not
            trained).
        epochs: Epochs its runs trained when it is known only from a shortened screening run
            (its `reference` is then your setup's run of the same length); None: your `fit`'s.
    """

    remedy: str
    finding: str
    strength: Any
    label: str
    stage: Stage
    status: CandidateStatus
    reason: str = ""
    chosen: bool = False
    regression: bool = False
    score: float = math.nan
    val_accuracy: float = math.nan
    val_loss: float = math.nan
    per_seed: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    fit_seconds: float = 0.0
    reference: float = math.nan
    gain: float = math.nan
    threshold: float = math.nan
    epochs: int | None = None

    @classmethod
    def scored(cls, *, remedy: str, finding: str, strength: Any, label: str, stage: Stage,
               status: CandidateStatus, reason: str, scores: Scores, reference: Scores,
               rule: NoiseRule, chosen: bool = False, epochs: int | None = None) -> Candidate:
        """A trained candidate, its numbers read from its `Scores` against `reference`'s."""
        summary = scores.summary()
        chosen_on = summary.get("chosen_on", summary)  # decisions read the rows that choose
        return cls(
            remedy=remedy, finding=finding, strength=strength, label=label, stage=stage,
            status=status, reason=reason, chosen=chosen, regression=rule.regression,
            score=scores.mean, val_accuracy=chosen_on["val_accuracy"],
            val_loss=chosen_on["val_loss"],
            per_seed={"val_accuracy": list(scores.val_accuracy),
                      "val_loss": list(scores.val_loss)},
            fit_seconds=summary["fit_seconds"], reference=reference.mean,
            gain=scores.mean - reference.mean, threshold=rule.threshold(reference, scores),
            epochs=epochs,
        )

    @property
    def trained(self) -> bool:
        """Whether it was trained and scored (False for advice, failures and skipped tries)."""
        return bool(self.per_seed)

    @property
    def skipped(self) -> bool:
        """Whether it was never trained because the fix's budget was spent before its turn."""
        return self.status is CandidateStatus.SKIPPED and not self.trained

    @property
    def gain_points(self) -> float:
        """The gain in accuracy points (percent of the loss for regression)."""
        return gain_in_points(self.gain, self.reference, regression=self.regression)

    @property
    def threshold_points(self) -> float:
        """The noise threshold in the same units as `gain_points`."""
        return gain_in_points(self.threshold, self.reference, regression=self.regression)

    @property
    def unit(self) -> str:
        return points_unit(regression=self.regression)

    @property
    def gain_text(self) -> str:
        """The gain with its unit, e.g. `"+4.1 points"` (`"–"` when not trained)."""
        gain = self.gain_points
        return f"{gain:+.1f} {self.unit}" if math.isfinite(gain) else "–"

    @property
    def threshold_text(self) -> str:
        """The noise threshold with its unit, e.g. `"1.0 points"` (`"–"` when not trained)."""
        needed = self.threshold_points
        return f"{needed:.1f} {self.unit}" if math.isfinite(needed) else "–"

    def decided(self, status: CandidateStatus, reason: str) -> Candidate:
        """The same candidate with a new verdict (a later decision about it)."""
        return dataclasses.replace(self, status=CandidateStatus(status), reason=reason)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "remedy": self.remedy, "strength": self.strength, "finding": self.finding,
            "label": self.label, "stage": self.stage.value, "status": self.status.value,
            "reason": self.reason, "chosen": self.chosen,
        }
        if self.trained:
            out.update({
                "val_accuracy": self.val_accuracy, "val_loss": self.val_loss,
                "score": self.score, "per_seed": dict(self.per_seed),
                "fit_seconds": self.fit_seconds, "gain": self.gain,
                "threshold": self.threshold, "gain_points": self.gain_points,
                "threshold_points": self.threshold_points, "unit": self.unit,
                "epochs": self.epochs,
            })
        return out


@dataclasses.dataclass(frozen=True)
class Change:
    """A kept remedy as the code the user would write in their setup."""

    remedy: str
    finding: str
    strength: Any
    description: str
    code: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Advice:
    """A remedy fitdoctor could not apply itself (e.g. to a subclassed model), as code."""

    remedy: str
    finding: str
    reason: str
    code: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class RemedyOutcome:
    """Everything `fix` tried of one remedy for one finding, and the verdict on the remedy.

    Args:
        remedy: Remedy id. `finding`: the finding it treats.
        best: The record the verdict is read from: the setting its grid search chose (alone,
            or on top for a symptom's remedy searched there only), or the last failure when no
            setting could be trained.
        tried: Every record of this remedy (each strength alone, then on top), in run order.
    """

    remedy: str
    finding: str
    best: Candidate
    tried: tuple[Candidate, ...]

    @property
    def status(self) -> CandidateStatus:
        return self.best.status

    @property
    def on_top(self) -> Candidate | None:
        """Its try on top of the combination, when it had one."""
        return next((c for c in reversed(self.tried) if c.stage is Stage.COMBINED), None)

    @property
    def strengths(self) -> tuple[Any, ...]:
        """The settings its grid search tried (alone, or on top when it searched there only), in
        run order (None entries and skipped ones left out)."""
        stage = Stage.ALONE if any(c.stage is Stage.ALONE for c in self.tried) else \
            Stage.COMBINED
        return tuple(c.strength for c in self.tried
                     if c.stage is stage and c.strength is not None and not c.skipped)

    @property
    def verdict(self) -> str:
        """The verdict in words, e.g. `"kept: beats run-to-run noise"`."""
        word = _VERDICT[self.best.status]
        return f"{word}: {self.best.reason}" if self.best.reason else word


_VERDICT = {CandidateStatus.ACCEPTED: "kept", CandidateStatus.REJECTED: "rejected",
            CandidateStatus.ADVICE: "advice only", CandidateStatus.FAILED: "failed",
            CandidateStatus.SKIPPED: "skipped"}


@dataclasses.dataclass(frozen=True)
class FixResult:
    """What `fix` tried, what it kept, and the numbers behind each decision.

    Args:
        before: Validation accuracy/loss of the setup as given (mean over seeds).
        after: The same for the fixed setup (equal to `before` when nothing was kept).
        applied: Remedy labels kept, in the order they were combined.
        trials: Every candidate with its numbers and verdict, in the order run.
        advice: Remedies fitdoctor could not apply itself (e.g. subclassed model), with code.
        changes: The accepted changes as code the user would write.
        threshold: The smallest gain that counted as beating run-to-run noise.
        seeds: Seeds every variant was trained with.
        report: The diagnosis the fix started from.
        setup: The fixed setup (not serialized). Defaults to None.
        model: The fixed model, trained with the first seed (not serialized). Defaults to None.
        timings: Seconds for the whole fix, the diagnosis, and one plain fit of the user's setup.
        regression: Whether scores are minus the validation loss (gains then read as a percent
            of the loss instead of accuracy points). Defaults to False.
        validation: How the validation rows were used: `rows_chosen_on` and `rows_held_back`,
            the `claimed_gain` on the rows that chose and the `held_back_gain` (with
            `held_back_gain_se`) on the rows no decision saw, and a `note`. `before` and
            `after` are the held-back rows' numbers. Defaults to {}.
        runs: What the search cost against its bound: `budget` (its name), `max_runs` (the most
            candidate runs, None for no bound), `candidate_runs` (those it made, in full runs'
            worth: a screening run on a third of the epochs counts a third), `screen_epochs`
            and `epochs` (a shortened screening run's epochs, None when runs were not
            shortened, and your `fit`'s) and `skipped` (settings it left untried once the bound
            was reached). Defaults to {}.
    """

    before: Mapping[str, Any]
    after: Mapping[str, Any]
    applied: tuple[str, ...]
    trials: tuple[Candidate, ...]
    advice: tuple[Advice, ...]
    changes: tuple[Change, ...]
    threshold: float
    seeds: tuple[int, ...]
    report: Report
    setup: Setup | None = dataclasses.field(default=None, repr=False, compare=False)
    model: Any = dataclasses.field(default=None, repr=False, compare=False)
    timings: Mapping[str, float] = dataclasses.field(default_factory=dict)
    regression: bool = False
    validation: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    runs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def rejected(self) -> tuple[Candidate, ...]:
        """Every candidate not accepted (rejected, advice or failed), in the order run."""
        return tuple(t for t in self.trials if t.status is not CandidateStatus.ACCEPTED)

    def outcomes(self) -> tuple[RemedyOutcome, ...]:
        """One outcome per remedy tried, in the order the remedies were first tried."""
        by_remedy: dict[tuple[str, str], list[Candidate]] = {}
        for trial in self.trials:
            by_remedy.setdefault((trial.remedy, trial.finding), []).append(trial)
        outcomes = []
        for (remedy, finding), tried in by_remedy.items():
            alone = [t for t in tried if t.stage is Stage.ALONE]
            # a symptom's remedy searched on top only has its chosen setting there
            best = (next((t for t in alone if t.chosen), None)
                    or next((t for t in tried if t.chosen), None) or (alone or tried)[-1])
            outcomes.append(RemedyOutcome(remedy, finding, best, tuple(tried)))
        return tuple(outcomes)

    def outcomes_by_finding(self) -> tuple[tuple[str, tuple[RemedyOutcome, ...]], ...]:
        """The outcomes grouped under the finding they treat, findings in the order tried."""
        groups: dict[str, list[RemedyOutcome]] = {}
        for outcome in self.outcomes():
            groups.setdefault(outcome.finding, []).append(outcome)
        return tuple((finding, tuple(outcomes)) for finding, outcomes in groups.items())

    def runs_text(self) -> str:
        """What the search cost against its bound, in one sentence ("" when not recorded)."""
        r = self.runs
        if not r:
            return ""
        made = f"{r['candidate_runs']:g}"
        short = ""
        if r.get("screen_epochs"):
            short = (f" (screening runs of remedies judged early train {r['screen_epochs']} of "
                     f"{r['epochs']} epochs and count that share)")
        if r.get("max_runs") is None:
            return (f"Budget `{r['budget']}`: {made} candidate runs{short}, "
                    "with no bound on their number.")
        text = f"Budget `{r['budget']}`: {made} of at most {r['max_runs']} candidate runs{short}"
        if not r.get("skipped"):
            return text + "; nothing was left untried."
        return (text + f"; {r['skipped']} left untried once they were spent (marked skipped "
                "below; a larger budget or `--max-runs` tries them).")

    def validation_text(self) -> str:
        """Which validation rows chose and which report, and the gain on each, in one sentence."""
        v = self.validation
        if not v:
            return ""
        reference = float(self.before.get("score", math.nan))

        def points(key: str) -> str:
            return points_text(v[key], reference, regression=self.regression)
        if not v.get("rows_held_back"):
            return f"Gain {points('claimed_gain')}: {v['note']}."
        text = (f"Every decision was made on {v['rows_chosen_on']} validation rows; before and "
                f"after are measured on the other {v['rows_held_back']}, which no decision saw: "
                f"gain {points('held_back_gain')} there")
        if v.get("held_back_gain_se") is not None:
            se = points_text(v["held_back_gain_se"], reference, regression=self.regression,
                             signed=False)
            text += f" (± {se})"
        text += f", against {points('claimed_gain')} on the rows that chose."
        if v.get("note"):
            text += f" Note: {v['note']}."
        return text

    def to_dict(self) -> dict[str, Any]:
        """The JSON written beside the fixed model (`fix.json`)."""
        return _jsonable({
            "before": dict(self.before),
            "after": dict(self.after),
            "applied": list(self.applied),
            "rejected": [t.to_dict() for t in self.rejected],
            "remedies": [t.to_dict() for t in self.trials],
            "advice": [a.to_dict() for a in self.advice],
            "changes": [c.to_dict() for c in self.changes],
            "noise_threshold": self.threshold,
            "seeds": list(self.seeds),
            "diagnosis": self.report.ids(),
            "timings": dict(self.timings),
            "validation": dict(self.validation),
            "runs": dict(self.runs),
        })
