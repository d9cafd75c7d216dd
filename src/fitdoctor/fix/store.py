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
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from fitdoctor.errors import SetupError
from fitdoctor.fix.evaluate import PartScores, Scores

FINGERPRINT_ATTR = "fitdoctor_fix_setup"
KEY_ATTR = "fitdoctor_fix_run"
SCORES_ATTR = "fitdoctor_fix_scores"


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


def _float(value: float | str) -> float:
    return float(value)


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
        return tuple(_float(v) for v in values)

    part = None
    if data.get("held_back") is not None:
        h = data["held_back"]
        per_row = None if h["per_row"] is None else np.asarray(
            [[_float(v) for v in row] for row in h["per_row"]], dtype=float)
        part = PartScores(int(h["rows"]), floats(h["score"]), floats(h["val_accuracy"]),
                          floats(h["val_loss"]), per_row)
    return Scores(floats(data["score"]), floats(data["val_accuracy"]), floats(data["val_loss"]),
                  floats(data["fit_seconds"]), None, part)


@dataclasses.dataclass
class RunStore:
    """Finished runs in an Optuna study: `get` a run by key, `put` one when it is done.

    Args:
        study: The Optuna study holding the runs.
    """

    study: Any
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

    def put(self, key: str, scores: Scores) -> None:
        """Record one finished run as a completed trial of the study."""
        if key in self._runs:
            return
        with warnings.catch_warnings():  # a run is told at once: no heartbeat is needed
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            trial = self.study.ask()
        trial.set_user_attr(KEY_ATTR, key)
        trial.set_user_attr(SCORES_ATTR, scores_to_json(scores))
        value = scores.score[0]
        self.study.tell(trial, value if math.isfinite(value) else -1e300)
        self._runs[key] = dataclasses.replace(scores, model=None)
