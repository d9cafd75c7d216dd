"""The Typer app, its error handling and the helpers commands share."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

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


@contextmanager
def user_errors(debug: bool):
    """Turn `FitdoctorError` into a one-line message and exit code 2 (traceback with --debug)."""
    from fitdoctor.errors import FitdoctorError

    try:
        yield
    except FitdoctorError as exc:
        if debug:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise typer.Exit(130) from None


def progress_printer() -> Callable[[str], None]:
    """A progress callback that prints each probe as it starts."""
    labels = {
        "model_info": "reading the model",
        "probe_run": "training your setup under Monitor",
        "lr_range": "learning-rate range test",
    }

    def show(name: str) -> None:
        err_console.print(f"[dim]· {labels.get(name, name.replace('_', ' '))}…[/]")

    return show


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
