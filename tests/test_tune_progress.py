"""Progress and Ctrl-C for `fitdoctor tune`: the shared progress bar, per-trial lines in a real
terminal (tmux), and SIGINT on a real `fitdoctor tune` process."""

from __future__ import annotations

import io
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from rich.console import Console

from fitdoctor.cli.progress import Progress, format_seconds, interrupt_once
from fitdoctor.tune.run import INTERRUPTED
from fitdoctor.tune.storage import open_storage

HERE = Path(__file__).parent
TINY = HERE / "tune_tiny_digits.py"
INTERRUPTIBLE = HERE / "tune_interruptible_digits.py"
PROGRESS_MODULE = HERE.parent / "src" / "fitdoctor" / "cli" / "progress.py"


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100), out


def _draw(progress: Progress) -> None:
    progress.start("tuning", total=3, unit="trials")
    progress.update(current="trial 0 running")
    progress.advance(line="trial 0 complete", time_left=4.0)
    progress.finish()


def test_progress_draws_a_bar_and_lines_on_a_terminal():
    console, out = _console(terminal=True)
    with Progress(console) as progress:
        assert progress.live
        _draw(progress)
    text = out.getvalue()
    assert "trial 0 complete" in text and "tuning" in text


def test_progress_prints_nothing_off_a_terminal():
    console, out = _console(terminal=False)
    with Progress(console) as progress:
        assert not progress.live
        _draw(progress)
    assert out.getvalue() == ""


def test_quiet_silences_even_a_terminal():
    console, out = _console(terminal=True)
    with Progress(console, quiet=True, lines_when_piped=True) as progress:
        _draw(progress)
    assert out.getvalue() == ""


def test_lines_when_piped_prints_only_the_plain_lines():
    console, out = _console(terminal=False)
    with Progress(console, lines_when_piped=True) as progress:
        _draw(progress)
        progress.line("[green]trial 1[/] pruned")
    assert out.getvalue() == "trial 0 complete\ntrial 1 pruned\n"  # no bar, no escape codes


@pytest.mark.parametrize(("seconds", "text"), [(None, "?"), (float("nan"), "?"), (4.4, "4 s"),
                                               (185, "3 min 5 s"), (3720, "1 h 02 min")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_first_interrupt_raises_and_leaves_the_default_action_for_a_second():
    before = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(KeyboardInterrupt), interrupt_once():
            signal.raise_signal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL  # the next one kills
    finally:
        signal.signal(signal.SIGINT, before)
    with interrupt_once():  # a block without Ctrl-C restores the handler it found
        pass
    assert signal.getsignal(signal.SIGINT) is before


def test_second_interrupt_kills_the_process_at_once():
    # The module alone (it needs only Rich), in a process that ignores the first KeyboardInterrupt.
    code = (
        "import importlib.util, signal, sys\n"
        f"spec = importlib.util.spec_from_file_location('progress', {str(PROGRESS_MODULE)!r})\n"
        "progress = importlib.util.module_from_spec(spec); spec.loader.exec_module(progress)\n"
        "with progress.interrupt_once():\n"
        "    try:\n"
        "        signal.raise_signal(signal.SIGINT)\n"
        "    except KeyboardInterrupt:\n"
        "        print('first', flush=True)\n"
        "    signal.raise_signal(signal.SIGINT)\n"
        "    print('survived the second', flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == -signal.SIGINT, done.stderr
    assert done.stdout == "first\n"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "fitdoctor.cli", *args]


def _study(journal: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=open_storage(str(journal))).get_trials()


def _wait_for_markers(proc: subprocess.Popen, marker: Path, count: int) -> None:
    """Wait until `count` processes have a trial waiting in `tune_interruptible_digits`."""
    deadline = time.monotonic() + 600
    while (len(list(marker.parent.glob(marker.name + ".*"))) < count and proc.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.2)
    assert len(list(marker.parent.glob(marker.name + ".*"))) == count, proc.communicate(
        timeout=60)


@pytest.mark.slow
def test_sigint_fails_the_running_trial_prints_one_line_and_the_study_resumes(tmp_path):
    journal = tmp_path / "study.journal"
    started = tmp_path / "trial-started"
    env = {**os.environ, "FITDOCTOR_TEST_STARTED": str(started)}
    proc = subprocess.Popen(
        _cli("tune", str(INTERRUPTIBLE), "--trials", "4", "--strategy", "random", "--pruner",
             "none", "--storage", str(journal), "--quiet"),
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_markers(proc, started, 1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("interrupted: trial 1 marked failed; study 'tune_interruptible_digits'")
    trials = _study(journal, "tune_interruptible_digits")
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL"]
    assert trials[1].user_attrs["error"] == INTERRUPTED

    command = shlex.split(line.split("Resume with: ", 1)[1])
    assert command[:3] == ["fitdoctor", "tune", str(INTERRUPTIBLE)]
    assert command[command.index("--trials") + 1] == "3"  # 4 asked, 1 finished
    resumed = subprocess.run(_cli(*command[1:]), cwd=tmp_path, capture_output=True, text=True,
                             timeout=600, env={k: v for k, v in os.environ.items()
                                               if k != "FITDOCTOR_TEST_STARTED"})
    assert resumed.returncode == 0, resumed.stderr
    after = _study(journal, "tune_interruptible_digits")
    assert [t.state.name for t in after] == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE",
                                             "COMPLETE"]
    assert after[0].value == trials[0].value


@pytest.mark.slow
def test_tune_shows_a_line_per_trial_in_a_terminal(tmp_path):
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux not installed (apt-get install tmux): no terminal to run tune in")
    server = f"fitdoctor-test-{uuid.uuid4().hex[:8]}"
    done = tmp_path / "exit-code"
    command = shlex.join(_cli("tune", str(TINY), "--trials", "3", "--strategy", "random",
                              "--pruner", "none", "--storage", str(tmp_path / "study.journal"),
                              "--out", str(tmp_path / "best")))
    shell = f"cd {shlex.quote(str(tmp_path))} && {command}; echo $? > {shlex.quote(str(done))}"
    base = [tmux, "-L", server, "-f", "/dev/null"]
    subprocess.run([*base, "new-session", "-d", "-x", "220", "-y", "60", "sh", "-c",
                    shell + "; sleep 600"], check=True, env={**os.environ, "TERM": "xterm"})
    try:
        deadline = time.monotonic() + 600
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        screen = subprocess.run([*base, "capture-pane", "-p", "-J", "-S", "-200"],
                                capture_output=True, text=True, check=True).stdout
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True)
    assert done.exists() and done.read_text().strip() == "0", screen
    lines = screen.splitlines()
    for number in range(3):
        line = next((x for x in lines if x.startswith(f"trial {number} ")), None)
        assert line is not None, screen
        assert "complete val accuracy" in line and "done, ~" in line, line
    assert any(x.startswith("trial 0 (yours) complete") for x in lines), screen
    assert "3/3 done, ~0 s left" in screen
    assert "best" in screen and "study tune_tiny_digits: 3 trials" in screen


@pytest.mark.slow
def test_sigint_reaches_local_workers_once_and_fails_each_running_trial(tmp_path):
    journal = tmp_path / "study.journal"
    started = tmp_path / "trial-started"
    env = {**os.environ, "FITDOCTOR_TEST_STARTED": str(started)}
    proc = subprocess.Popen(
        _cli("tune", str(INTERRUPTIBLE), "--trials", "6", "--workers", "2", "--strategy", "random",
             "--pruner", "none", "--storage", str(journal), "--quiet"),
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_markers(proc, started, 2)  # this process and its worker each wait in a trial
    proc.send_signal(signal.SIGINT)  # to this process only, as `kill -INT` does
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert len(err.splitlines()) == 1, err
    trials = _study(journal, "tune_interruptible_digits")
    assert sorted(t.state.name for t in trials) == ["COMPLETE", "COMPLETE", "FAIL", "FAIL"]
    failed = [t for t in trials if t.state is optuna.trial.TrialState.FAIL]
    assert all(t.user_attrs["error"] == INTERRUPTED for t in failed)
    assert len({t.user_attrs["fitdoctor_worker"] for t in failed}) == 2
    numbers = ", ".join(str(t.number) for t in failed)
    assert err.startswith(f"interrupted: trials {numbers} marked failed;"), err
    command = shlex.split(err.split("Resume with: ", 1)[1])
    assert command[command.index("--trials") + 1] == "4"  # 6 asked, 2 finished
    assert command[command.index("--workers") + 1] == "2"
