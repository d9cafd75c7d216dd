"""Where a study lives: a journal file under `.fitdoctor/` by default, or a database URL.

The journal file (Optuna's `JournalStorage` over a `JournalFileBackend`) is safe for several
processes on one machine and survives a crash. A `postgresql://` (or `mysql://`, `sqlite://`)
URL uses Optuna's `RDBStorage`, so workers on any number of machines can join the same study;
those trials send a heartbeat, and a trial whose worker died is marked failed by the next worker.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import warnings
from pathlib import Path
from typing import Any

import optuna

from fitdoctor.errors import SetupError

logger = logging.getLogger(__name__)

DEFAULT_DIR = ".fitdoctor"
DEFAULT_JOURNAL = "tune.journal"
RDB_SCHEMES = ("postgresql", "mysql", "sqlite")

#: Seconds between heartbeats of a running trial, and how long without one makes it stale.
HEARTBEAT_INTERVAL = 5
GRACE_PERIOD = 20

WORKER_ATTR = "fitdoctor_worker"


def redact(url: str) -> str:
    """The URL with any password replaced by `***` (for messages and logs)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def resolve_storage_url(storage: str | os.PathLike | None, workdir: str | os.PathLike = ".") -> str:
    """Validate the storage argument and return it in a form every worker can reopen.

    Args:
        storage: None (the journal file `.fitdoctor/tune.journal` under `workdir`), a path to a
            journal file, or a `postgresql://`, `mysql://` or `sqlite:///` URL.
        workdir: Folder the default journal goes in. Defaults to the working directory.

    Raises:
        SetupError: an empty value or a URL of a scheme fitdoctor cannot use.
    """
    if storage is None:
        return str((Path(workdir) / DEFAULT_DIR / DEFAULT_JOURNAL).resolve())
    text = str(storage).strip()
    if not text:
        raise SetupError("storage must be a journal file path or a database URL. Received: ''")
    if "://" in text:
        scheme = text.split("://", 1)[0].split("+", 1)[0].lower()
        if scheme not in RDB_SCHEMES or not re.match(r"^[a-zA-Z0-9+]+://.+", text):
            raise SetupError(
                "storage must be a journal file path or a postgresql://, mysql:// or sqlite:/// "
                f"URL. Received: storage={redact(text)!r}"
            )
        return text
    return str(Path(text).resolve())


def is_rdb(url: str) -> bool:
    """Whether a resolved storage URL names a database (rather than a journal file)."""
    return "://" in url


def driver_url(url: str) -> str:
    """`postgresql://` made explicit as `postgresql+psycopg2://` when only psycopg2 is installed.

    SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3; fitdoctor depends on psycopg2-binary.
    """
    if not url.startswith("postgresql://"):
        return url
    import importlib.util

    if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2"):
        return "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """Open a storage resolved by `resolve_storage_url`.

    Raises:
        SetupError: the database cannot be reached or its driver is missing, with the reason.
    """
    if not is_rdb(url):
        path = Path(url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SetupError(f"cannot create the study folder {path.parent}: {exc}") from exc
        backend = optuna.storages.journal.JournalFileBackend(str(path))
        return optuna.storages.JournalStorage(backend)
    try:
        return _open_rdb(url)
    except ImportError as exc:
        raise SetupError(f"storage {redact(url)}: database driver missing ({exc}); for "
                         "PostgreSQL install psycopg2-binary") from exc
    except Exception as exc:  # SQLAlchemy's connection and URL errors
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SetupError(f"cannot open storage {redact(url)}: {reason}") from exc


def _open_rdb(url: str, attempts: int = 5) -> optuna.storages.RDBStorage:
    """Open an `RDBStorage`, retrying when another worker is creating the schema right now.

    Workers that start together on an empty database race to create Optuna's tables; the
    loser gets an integrity error from the database's catalogue. By the retry the tables
    exist and opening succeeds.
    """
    import sqlalchemy.exc

    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna 5
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    driver_url(url),
                    heartbeat_interval=HEARTBEAT_INTERVAL,
                    grace_period=GRACE_PERIOD,
                    engine_kwargs=({"pool_pre_ping": True} if not url.startswith("sqlite")
                                   else None),
                )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == attempts - 1:
                raise
            logger.info("storage schema is being created by another worker; retrying")
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def worker_tag() -> str:
    """`host:pid` of this process, recorded on every trial it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fail(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
    """Mark a running trial failed; False when another worker finished or failed it first."""
    try:
        study._storage.set_trial_state_values(trial._trial_id, state=optuna.trial.TrialState.FAIL)
    except Exception as exc:  # another worker got there first
        logger.debug("could not fail trial %d: %s", trial.number, exc)
        return False
    return True


def fail_orphaned_trials(study: optuna.Study) -> list[int]:
    """Mark as failed the running trials whose worker on this machine no longer exists.

    A worker killed mid-trial (crash, SIGKILL, power cut) leaves its trial `RUNNING` forever in
    a journal file, which has no heartbeat. Every trial records `host:pid`; a trial of this host
    whose process is gone cannot finish, so it is failed and the study can go on. Database
    storages do the same for every host through their heartbeat.

    Returns:
        The numbers of the trials marked failed.
    """
    host = socket.gethostname()
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        tag = str(trial.user_attrs.get(WORKER_ATTR, ""))
        tag_host, _, pid = tag.rpartition(":")
        if tag_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        if _fail(study, trial):
            failed.append(trial.number)
    if failed:
        logger.warning("marked trial(s) %s failed: their worker process is gone", failed)
    return failed


def fail_trials_of_this_process(study: optuna.Study) -> list[int]:
    """Mark as failed the trials this process left running (after an interrupt).

    Returns:
        The numbers of the trials marked failed.
    """
    tag = worker_tag()
    return [trial.number
            for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
            if trial.user_attrs.get(WORKER_ATTR) == tag and _fail(study, trial)]


def storage_summary(url: str) -> dict[str, Any]:
    """How the storage is described in results: its kind and a password-free location."""
    return {"kind": "rdb" if is_rdb(url) else "journal", "location": redact(url)}
