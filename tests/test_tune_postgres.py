"""Two `fitdoctor tune` workers on one study in a real PostgreSQL server (started on loopback).

Needs Debian's `postgresql` package (initdb, pg_ctl); skipped with the reason when missing.
PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest

from fitdoctor.tune.storage import open_storage
from tests.tune_race import duplicated_configurations, race

pytestmark = pytest.mark.slow


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed: "
                    "apt-get install postgresql")
    as_user: list[str] = []
    root = tempfile.mkdtemp(prefix="fitdoctor-pg-", dir="/tmp")
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser; PostgreSQL will not run as root")
        try:
            shutil.chown(root, user="postgres")
        except (LookupError, PermissionError) as exc:
            pytest.skip(f"no postgres user to run the server as: {exc}")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(root, "data"), _free_port()
    subprocess.run([*as_user, initdb, "-D", data, "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run([*as_user, pg_ctl, "-D", data, "-o", options, "-w", "-t", "60",
                    "-l", os.path.join(root, "log"), "start"], check=True, capture_output=True)
    try:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE fitdoctor")
        conn.close()
        yield f"postgresql://postgres@127.0.0.1:{port}/fitdoctor"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def setup_file():
    return Path(__file__).with_name("tune_tiny_digits.py")


def _worker(setup_file: Path, url: str, study: str, trials: int, out: Path) -> subprocess.Popen:
    """What a user types on each machine (`fitdoctor tune ...`), as a process."""
    args = ["tune", str(setup_file), "--storage", url, "--study", study, "--trials", str(trials),
            "--strategy", "random", "--pruner", "none", "--out", str(out)]
    return subprocess.Popen([sys.executable, "-c", "from fitdoctor.cli import main; main()", *args],
                            cwd=out.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


@pytest.fixture(scope="module")
def storage(postgres_url):
    """One storage (one connection pool) for everything the test itself reads.

    Opening a storage per poll leaves a pool of connections behind each time until the garbage
    collector finds it; at two polls a second that exhausted the server's 100 connections.
    """
    opened = open_storage(postgres_url)
    yield opened
    opened.engine.dispose()


def _trials(storage: optuna.storages.BaseStorage, study: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=study, storage=storage).get_trials()


def test_two_workers_lose_and_duplicate_no_trial(postgres_url, setup_file):
    # Both workers create-or-load each fresh study at the same instant (a barrier), 4 times.
    for trials in race(setup_file, postgres_url, workers=2, rounds=4, trials=1, prefix="shared"):
        assert sorted(t.number for t in trials) == [0, 1]
        assert len({t._trial_id for t in trials}) == 2
        assert all(t.state is optuna.trial.TrialState.COMPLETE for t in trials)
        assert len({t.user_attrs["fitdoctor_worker"] for t in trials}) == 2
        assert sum(bool(t.user_attrs.get("baseline")) for t in trials) == 1
        assert duplicated_configurations(trials) == []


def test_killed_worker_leaves_every_completed_trial(postgres_url, storage, setup_file, tmp_path):
    doomed = _worker(setup_file, postgres_url, "killed", 20, tmp_path / "doomed")
    other = _worker(setup_file, postgres_url, "killed", 3, tmp_path / "other")
    deadline = time.monotonic() + 300
    snapshot: dict[int, float] = {}
    while time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            trials = _trials(storage, "killed")
        except KeyError:  # the study does not exist yet
            continue
        mine = [t for t in trials if t.user_attrs.get("fitdoctor_worker", "").endswith(
            f":{doomed.pid}")]
        if sum(t.state is optuna.trial.TrialState.COMPLETE for t in mine) >= 2 and any(
                t.state is optuna.trial.TrialState.RUNNING for t in mine):
            doomed.send_signal(signal.SIGKILL)
            snapshot = {t.number: t.value for t in trials
                        if t.state is optuna.trial.TrialState.COMPLETE}
            break
    doomed.wait(timeout=60)
    assert doomed.returncode == -signal.SIGKILL, "the worker finished before it could be killed"
    other.communicate(timeout=600)
    assert other.returncode == 0
    after = {t.number: t for t in _trials(storage, "killed")}
    for number, value in snapshot.items():
        assert after[number].state is optuna.trial.TrialState.COMPLETE
        assert after[number].value == value
    assert sorted(after) == list(range(len(after)))
    # A rerun on this machine fails the dead worker's trial and goes on.
    resume = _worker(setup_file, postgres_url, "killed", 1, tmp_path / "resume")
    assert resume.communicate(timeout=600)[0] is not None and resume.returncode == 0
    final = _trials(storage, "killed")
    assert not [t for t in final if t.state is optuna.trial.TrialState.RUNNING]
    assert len(final) == len(after) + 1


def test_fix_runs_are_kept_in_postgresql_and_read_back(postgres_url):
    """fix's run store on a real server: a run put by one fix is read by the next."""
    from fitdoctor.errors import SetupError
    from fitdoctor.fix.evaluate import Scores
    from fitdoctor.fix.store import RunStore

    first = RunStore.open(postgres_url, "fix-resume", {"setup": "digits"})
    key = "unchanged @ seed 0"
    first.finish(first.claim(key), key, Scores((0.5,), (0.5,), (1.25,), (2.0,)))
    again = RunStore.open(postgres_url, "fix-resume", {"setup": "digits"})
    assert len(again) == 1 and again.get("unchanged @ seed 0").val_loss == (1.25,)
    with pytest.raises(SetupError, match="another setup"):
        RunStore.open(postgres_url, "fix-resume", {"setup": "wine"})


def test_fix_on_two_workers_over_postgresql_decides_as_one(postgres_url, tmp_path):
    """`fitdoctor fix --workers 2 --storage postgresql://...`: the same decisions as one fix."""
    import json

    import fitdoctor
    from tests.test_fix_workers import SETUP, decisions, fitdoctor_command, json_decisions

    setup_file = tmp_path / "iris_raw.py"
    setup_file.write_text(SETUP)
    alone = fitdoctor.fix(setup=fitdoctor.load_setup(setup_file), budget="quick")
    proc = fitdoctor_command("fix", str(setup_file), "--out", str(tmp_path / "out"),
                             "--budget", "quick", "--workers", "2", "--storage", postgres_url,
                             "--study", "fix-two", "--json", str(tmp_path / "fix.json"),
                             cwd=tmp_path)
    output, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, output
    assert json_decisions(json.loads((tmp_path / "fix.json").read_text())) == decisions(alone)
