"""Progress of long commands on stderr: one Rich bar with the stage, the current item, time left.

`diagnose`, `fix` and `tune` share it:

    with Progress(err_console, quiet=quiet) as progress:
        progress.start("tuning", total=20, unit="trials")
        progress.update(current="trial 3 running")
        progress.advance(time_left=42.0, line="trial 3 complete ...")
        progress.finish()

On a terminal the bar redraws in place and disappears when the block ends; `line()` prints a
permanent line above it. When stderr is not a terminal (CI logs, pipes, files) no bar is drawn
and nothing is printed, unless the command asks for `lines_when_piped`: then each `line()` is
printed as a plain line, so a long `tune` in CI still logs one line per trial. `quiet` prints
nothing at all.

`interrupt_once()` makes the first Ctrl-C raise `KeyboardInterrupt` (so the command can clean
up and say how to resume) and a second one kill the process at once.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as _RichProgress
from rich.text import Text


def format_seconds(seconds: float | None) -> str:
    """`42 s`, `3 min 5 s`, `1 h 02 min`; `?` when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class _TimeLeftColumn(ProgressColumn):
    """The caller's estimate of the time left when it gave one, else Rich's from the speed."""

    def render(self, task: Any) -> Text:
        left = task.fields.get("time_left")
        if left is None:
            left = task.time_remaining
        return Text(f"~{format_seconds(left)} left" if left is not None else "", style="cyan")


class Progress:
    """A progress bar for one command, a stage at a time, that prints nothing off a terminal.

    Args:
        console: Where to draw (the CLI's stderr console). Defaults to None: a new stderr console.
        quiet: Print nothing at all. Defaults to False.
        lines_when_piped: When the console is not a terminal, still print each `line()` as plain
            text (no bar). Defaults to False (print nothing off a terminal).
    """

    def __init__(self, console: Console | None = None, *, quiet: bool = False,
                 lines_when_piped: bool = False) -> None:
        self.console = console if console is not None else Console(stderr=True)
        self.quiet = quiet
        self.lines_when_piped = lines_when_piped
        self._bar: _RichProgress | None = None
        self._task: Any = None

    @property
    def live(self) -> bool:
        """Whether a bar is drawn: a terminal, and not `quiet`."""
        return not self.quiet and self.console.is_terminal

    def __enter__(self) -> Progress:
        if self.live:
            self._bar = _RichProgress(
                SpinnerColumn(), TextColumn("[bold]{task.description}[/]"), BarColumn(),
                MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
                TextColumn("{task.fields[current]}"), TimeElapsedColumn(), _TimeLeftColumn(),
                console=self.console, transient=True,
            )
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._task = None

    def start(self, stage: str, total: float | None = None, *, unit: str = "",
              current: str = "") -> None:
        """Begin a stage (ending the previous one): its name, how many steps, what they are."""
        if self._bar is None:
            return
        if self._task is not None:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task(stage, total=total, unit=unit, current=current,
                                        time_left=None)

    def update(self, *, current: str | None = None, completed: float | None = None,
               total: float | None = None, time_left: float | None = None) -> None:
        """Change what the bar shows: the current item, steps done, total, time left."""
        if self._bar is None or self._task is None:
            return
        fields: dict[str, Any] = {}
        if current is not None:
            fields["current"] = current
        if time_left is not None:
            fields["time_left"] = time_left
        self._bar.update(self._task, completed=completed, total=total, **fields)

    def advance(self, steps: float = 1, *, current: str | None = None,
                time_left: float | None = None, line: str | None = None) -> None:
        """Count `steps` more done; optionally print `line` about the step just finished."""
        if line is not None:
            self.line(line)
        if self._bar is None or self._task is None:
            return
        self._bar.advance(self._task, steps)
        self.update(current=current, time_left=time_left)

    def line(self, text: str) -> None:
        """Print a permanent line (Rich markup): above the bar on a terminal, plain when piped
        and `lines_when_piped`, nowhere when `quiet`."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, soft_wrap=True)
        elif self.lines_when_piped and not self.console.is_terminal:
            self.console.print(text, highlight=False, soft_wrap=True)

    def finish(self) -> None:
        """End the current stage: its bar goes away."""
        if self._bar is not None and self._task is not None:
            self._bar.remove_task(self._task)
            self._task = None


@contextmanager
def interrupt_once() -> Iterator[None]:
    """The first Ctrl-C raises `KeyboardInterrupt` as usual; a second one kills the process.

    Between the two, the command cleans up (marks its running work failed, says how to resume).
    After a first Ctrl-C the default action stays in place, so one more ends the process at
    once whatever it is doing. Only in the main thread (signals go there); elsewhere a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupted = False

    def first(signum: int, frame: Any) -> None:
        nonlocal interrupted
        interrupted = True
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        if not interrupted:
            signal.signal(signal.SIGINT, previous)
