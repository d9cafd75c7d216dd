"""`fitdoctor diagnose SETUP.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from fitdoctor.cli.app import (
    DEBUG_HELP,
    app,
    console,
    err_console,
    progress_printer,
    user_errors,
    write_json,
)


@app.command()
def diagnose(
    setup_file: Path = typer.Argument(..., metavar="SETUP.py", help="Setup file: load_data(), build_model(), FIT."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Also write the report as JSON here."),
    budget: str = typer.Option("standard", help="quick | standard | thorough"),
    seed: int = typer.Option(0, help="Seed for every probe run."),
    debug: bool = typer.Option(False, "--debug", help=DEBUG_HELP),
) -> None:
    """Run your setup under measurement and name why it trains badly, ranked, with fixes."""
    import fitdoctor

    with user_errors(debug):
        setup = fitdoctor.load_setup(setup_file, seed=seed)
        report = fitdoctor.diagnose(setup=setup, budget=budget, seed=seed,
                                    progress=progress_printer())
        from fitdoctor.report.terminal import render_report

        render_report(report, console)
        if json_path is not None:
            write_json(report.to_json(), str(json_path))
            err_console.print(f"report written to {json_path}")
