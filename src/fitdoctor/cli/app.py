"""The Typer app, its error handling and the helpers commands share."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    name="fitdoctor",
    help="Why your Keras model trains badly, measured on your own setup, and how to fix it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console()
err_console = Console(stderr=True)

DEBUG_HELP = "Show the full traceback on errors."
TIMEOUT_HELP = ("Give up loading the setup (its module code and load_data()) after this many "
                "seconds. Default: no limit.")


class _StderrLog(logging.Handler):
    """Shows fitdoctor's log records on stderr as `warning: ...` lines, or holds them back."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[logging.LogRecord] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.held is not None:
            self.held.append(record)
            return
        label = ("[yellow]warning:[/]" if record.levelno >= logging.WARNING
                 else f"[dim]{record.levelname.lower()}:[/]")
        err_console.print(f"{label} {escape(record.getMessage())}", highlight=False,
                          soft_wrap=True)


_log = _StderrLog()


@contextmanager
def _fitdoctor_log_on_stderr(debug: bool) -> Iterator[None]:
    """Show the `fitdoctor` logger on stderr for the block: warnings, everything with --debug."""
    logger = logging.getLogger("fitdoctor")
    level = logger.level
    logger.addHandler(_log)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(_log)
        logger.setLevel(level)


@contextmanager
def warnings_if_it_works() -> Iterator[None]:
    """Hold fitdoctor's warnings back during the block; show them only if it succeeds.

    Loading bad input then prints the one-line error alone, not the warnings that came
    before it.
    """
    _log.held = []
    try:
        yield
    except BaseException:
        _log.held = None
        raise
    records, _log.held = _log.held, None
    for record in records:
        _log.handle(record)


_DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def _without_deprecations(show: Any) -> Any:
    """`warnings.showwarning` that drops deprecation warnings and shows the rest with `show`."""
    if getattr(show, "drops_deprecations", False):
        return show

    def shown(message, category, *args: Any, **kwargs: Any) -> None:
        if not issubclass(category, _DEPRECATIONS):
            show(message, category, *args, **kwargs)

    shown.drops_deprecations = True  # type: ignore[attr-defined]
    return shown


@contextmanager
def user_errors(debug: bool):
    """Turn `FitdoctorError` into a one-line message and exit code 2 (traceback with --debug).

    Also shows fitdoctor's log warnings on stderr (`--debug`: its whole log), and hides other
    libraries' deprecation warnings unless `--debug`.
    """
    from fitdoctor.errors import FitdoctorError

    if not debug:  # libraries' deprecation notes are for their developers, not our users
        for category in _DEPRECATIONS:
            warnings.filterwarnings("ignore", category=category)
        # The filters alone are not enough: `catch_warnings` is not thread-safe, and a library's
        # block in a probe thread, overlapping one in the main thread, can leave that block's
        # `simplefilter("always")` in place for good. The shown warning is checked as well.
        warnings.showwarning = _without_deprecations(warnings.showwarning)
    try:
        with _fitdoctor_log_on_stderr(debug):
            yield
    except FitdoctorError as exc:
        if debug:
            raise
        message = escape(" ".join(str(exc).split()))
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise typer.Exit(130) from None


class _OutOfTime(BaseException):
    """Raised by the alarm; a BaseException, so the setup loader's `except Exception` lets it by."""


def _hung_in(frame: Any, setup_file: Path | None) -> str:
    """What the setup was doing when the alarm rang: `load_data()`, `build_model()`, ..."""
    if setup_file is None:
        return "reading the data"
    target = str(Path(setup_file).resolve())
    outermost = None
    while frame is not None:
        if str(Path(frame.f_code.co_filename).resolve()) == target:
            outermost = frame.f_code.co_name
        frame = frame.f_back
    if outermost is None:
        return f"loading {setup_file}"
    if outermost == "<module>":
        return f"{setup_file}'s module code"
    return f"{outermost}()"


@contextmanager
def load_time_limit(seconds: float | None, setup_file: Path | None, *,
                    option: str = "--timeout") -> Iterator[None]:
    """Stop the block with a one-line `SetupError` when it runs longer than `seconds`.

    It names what the setup file was running when time ran out (`load_data()`, or its
    module code). Uses SIGALRM, so it works in the main thread on POSIX systems; elsewhere the
    block runs without a limit.

    Args:
        seconds: The limit; None for none.
        setup_file: The setup file being loaded, or None for --data files.
        option: The command's name for the limit, shown in messages. Defaults to "--timeout".
    """
    from fitdoctor.errors import SetupError

    if seconds is None:
        yield
        return
    if not seconds > 0:
        raise SetupError(f"{option} must be positive. Received: {seconds}")
    in_main = threading.current_thread() is threading.main_thread()
    if not hasattr(signal, "setitimer") or not in_main:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _OutOfTime(_hung_in(frame, setup_file))

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _OutOfTime as stopped:
        raise SetupError(f"{stopped} did not return within {seconds:g} s ({option})") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_PROBE_LABELS = {
    "model_info": "reading the model",
    "probe_run": "training your setup under Monitor",
    "lr_range": "learning-rate range test",
}


@contextmanager
def progress_shown(stage: str, quiet: bool = False):
    """The shared progress bar (`cli/progress.py`) for a command, as a callback told what runs.

    On a terminal it shows the stage and the current probe or candidate; off a terminal, or
    with `--quiet`, nothing is printed.
    """
    from fitdoctor.cli.progress import Progress

    with Progress(err_console, quiet=quiet) as progress:
        progress.start(stage)

        def show(name: str) -> None:
            progress.update(current=_PROBE_LABELS.get(name, name.replace("_", " ")))

        yield show
        progress.finish()


def write_json(data: Any, path: str) -> None:
    """Write JSON output where the user asked, creating its folder."""
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data, indent=2)
    target.write_text(text + "\n", encoding="utf-8")


def main() -> None:
    """Entry point of the `fitdoctor` script.

    By the time it runs, `fitdoctor` has loaded TensorFlow quietly (`fitdoctor._startup`).
    """
    app(prog_name="fitdoctor")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
