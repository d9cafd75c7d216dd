"""Fix's finished runs, kept as trials of an Optuna study so that a crashed fix loses none.

Each run (one setup variant trained on one seed and scored) is one completed trial whose user
attributes hold its key and its scores. A fix started again on the same study reads every run
it already made instead of training it again, and then makes exactly the decisions it would have
made uninterrupted: they are taken from the same numbers. The study lives where `tune`'s do (a
journal file, or a `postgresql://` URL), through the same storage helpers.

A run's key names what was trained: the remedies applied, each with its setting and a digest of
the finding it treats (a remedy reads the finding's evidence, such as outlier rows), and the
seed. The study also holds a fingerprint of the setup (data sizes, model, `fit` arguments, seeds,
validation split), and a study made for another setup is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from fitdoctor.errors import SetupError
from fitdoctor.fix.evaluate import PartScores, Scores

FINGERPRINT_ATTR = "fitdoctor_fix_setup"
KEY_ATTR = "fitdoctor_fix_run"
SCORES_ATTR = "fitdoctor_fix_scores"
REPORT_ATTR = "fitdoctor_fix_report"
#: The claim of the process that diagnoses for every process on the study.
DIAGNOSIS_KEY = "diagnosis"


def digest(value: Any) -> str:
    """A short stable digest of a JSON-able value (dict keys sorted)."""
    text = json.dumps(value, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def array_digest(values: Any) -> str:
    """A short stable digest of an array's shape, dtype and contents."""
    array = np.asarray(values)
    if array.dtype == object:
        return digest([array.shape, array.tolist()])
    h = hashlib.sha256(f"{array.shape}{array.dtype}".encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:10]


def _number(value: float) -> float | str:
    return value if math.isfinite(value) else repr(float(value))  # JSON has no NaN or inf


def scores_to_json(scores: Scores) -> dict[str, Any]:
    """One run's `Scores` as JSON-able values (the model stays out)."""
    out: dict[str, Any] = {
        field: [_number(v) for v in getattr(scores, field)]
        for field in ("score", "val_accuracy", "val_loss", "fit_seconds")
    }
    part = scores.held_back
    if part is not None:
        out["held_back"] = {
            "rows": part.rows,
            **{field: [_number(v) for v in getattr(part, field)]
               for field in ("score", "val_accuracy", "val_loss")},
            "per_row": None if part.per_row is None
            else [[_number(float(v)) for v in row] for row in part.per_row],
        }
    return out


def scores_from_json(data: Mapping[str, Any]) -> Scores:
    """The `Scores` written by `scores_to_json`, without a model."""
    def floats(values: Any) -> tuple[float, ...]:
        return tuple(float(v) for v in values)

    part = None
    if data.get("held_back") is not None:
        h = data["held_back"]
        per_row = None if h["per_row"] is None else np.asarray(
            [[float(v) for v in row] for row in h["per_row"]], dtype=float)
        part = PartScores(int(h["rows"]), floats(h["score"]), floats(h["val_accuracy"]),
                          floats(h["val_loss"]), per_row)
    return Scores(floats(data["score"]), floats(data["val_accuracy"]), floats(data["val_loss"]),
                  floats(data["fit_seconds"]), None, part)


@dataclasses.dataclass
class RunStore:
    """Finished runs in an Optuna study, shared by every process fixing the same setup.

    A process about to train a run `claim`s it (a running trial with the run's key), and
    `finish`es it with the scores; another process that needs the same run waits for it
    (`wait_for`) instead of training it twice. A claim older than `stale_after` seconds, or
    whose process on this machine is gone, no longer holds: the run is claimed again.

    Args:
        study: The Optuna study holding the runs.
        stale_after: Seconds after which another process's unfinished claim is ignored.
    """

    study: Any
    stale_after: float = 3600.0
    _runs: dict[str, Scores] = dataclasses.field(default_factory=dict)

    @classmethod
    def open(cls, storage: str, study: str, fingerprint: Mapping[str, Any]) -> RunStore:
        """Open (or create) the study `study` in `storage` for the setup `fingerprint` names.

        Raises:
            SetupError: the storage cannot be opened, or the study was made for another setup.
        """
        import optuna

        from fitdoctor.tune.storage import open_storage, resolve_storage_url

        opened = open_storage(resolve_storage_url(storage))
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        mark = digest(fingerprint)
        try:
            made = optuna.create_study(storage=opened, study_name=study, direction="maximize")
            made.set_user_attr(FINGERPRINT_ATTR, mark)
        except optuna.exceptions.DuplicatedStudyError:
            made = optuna.load_study(storage=opened, study_name=study)
            found = made.user_attrs.get(FINGERPRINT_ATTR)
            if found is None:
                made.set_user_attr(FINGERPRINT_ATTR, mark)  # created by a fix that died at once
            elif found != mark:
                raise SetupError(
                    f"study {study!r} holds the runs of another setup (or other seeds, budget or "
                    f"validation data); use another --study name") from None
        store = cls(made)
        store.refresh()
        return store

    def refresh(self) -> None:
        """Read the study's finished runs again."""
        import optuna

        for trial in self.study.get_trials(deepcopy=False,
                                           states=(optuna.trial.TrialState.COMPLETE,)):
            key, data = trial.user_attrs.get(KEY_ATTR), trial.user_attrs.get(SCORES_ATTR)
            if key is not None and data is not None and key not in self._runs:
                self._runs[key] = scores_from_json(data)

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, key: str) -> Scores | None:
        """The run recorded under `key`, or None."""
        return self._runs.get(key)

    def _live_claims(self, key: str) -> list[Any]:
        """Running trials that claim `key` and still hold: recent, and not of a process on
        this machine that is gone."""
        import optuna

        from fitdoctor.tune.storage import fail_orphaned_trials

        fail_orphaned_trials(self.study)
        now = time.time()
        return [t for t in self.study.get_trials(deepcopy=False,
                                                 states=(optuna.trial.TrialState.RUNNING,))
                if t.user_attrs.get(KEY_ATTR) == key and t.datetime_start is not None
                and now - t.datetime_start.timestamp() < self.stale_after]

    def claim(self, key: str) -> Any:
        """Claim `key` for this process: a running trial, or None when the run is finished or
        another process holds it (then `wait_for` it).

        Two processes claiming at once both write a running trial; the one with the lower
        trial number (given out atomically by the storage) keeps it, the other gives it up.
        """
        self.refresh()
        if key in self._runs or self._live_claims(key):
            return None
        trial = self._running(key)
        if any(t.number < trial.number for t in self._live_claims(key)):
            self.abandon(trial)
            return None
        return trial

    def _running(self, key: str) -> Any:
        """A new running trial for `key`, tagged with this process."""
        from fitdoctor.tune.storage import WORKER_ATTR, worker_tag

        with warnings.catch_warnings():  # runs are told by fix itself: no heartbeat is needed
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            trial = self.study.ask()
        trial.set_user_attr(WORKER_ATTR, worker_tag())
        trial.set_user_attr(KEY_ATTR, key)
        return trial

    def finish(self, trial: Any, key: str, scores: Scores | None) -> None:
        """Record the claimed run `key` as a completed trial with its scores (None for the
        diagnosis, which is kept with `publish_report`)."""
        if scores is None:
            self.study.tell(trial, 0.0)
            return
        trial.set_user_attr(SCORES_ATTR, scores_to_json(scores))
        value = scores.score[0]
        self.study.tell(trial, value if math.isfinite(value) else -1e300)
        self._runs.setdefault(key, dataclasses.replace(scores, model=None))

    def abandon(self, trial: Any) -> None:
        """Give a claim up (the run was interrupted): the trial is failed, the key free again."""
        import optuna

        self.study.tell(trial, state=optuna.trial.TrialState.FAIL)

    def wait_for(self, key: str, poll: float = 0.5) -> Scores | None:
        """Wait while another process holds `key`; its scores, or None once nobody does."""
        while True:
            self.refresh()
            if key in self._runs:
                return self._runs[key]
            if not self._live_claims(key):
                return None
            time.sleep(poll)

    def publish_report(self, report: Any) -> None:
        """Keep `report` as the diagnosis every process fixing this study works from."""
        self.study.set_user_attr(REPORT_ATTR, report.to_json())

    def report(self) -> Any:
        """The diagnosis kept in the study, or None."""
        from fitdoctor.findings import Report

        text = self.study.user_attrs.get(REPORT_ATTR)
        return None if text is None else Report.from_json(text)

    def diagnosis(self, diagnose: Any) -> Any:
        """The study's diagnosis: the one kept, or made here with `diagnose()` by the one
        process that claims it while the others wait for it. Every process returns the kept
        copy (read back from the study), so all of them see the same findings."""
        while (report := self.report()) is None:  # the kept copy: the same for everyone
            trial = self.claim(DIAGNOSIS_KEY)
            if trial is None:
                self.wait_for(DIAGNOSIS_KEY)
                continue
            try:
                self.publish_report(diagnose())
            except BaseException:
                self.abandon(trial)
                raise
            self.finish(trial, DIAGNOSIS_KEY, None)
        return report
