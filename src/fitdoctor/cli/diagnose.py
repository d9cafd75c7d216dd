"""`fitdoctor diagnose SETUP.py`, or `fitdoctor diagnose --data train.csv --target COLUMN`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fitdoctor.cli.app import (
    DEBUG_HELP,
    TIMEOUT_HELP,
    app,
    console,
    err_console,
    load_time_limit,
    progress_shown,
    user_errors,
    warnings_if_it_works,
    write_json,
)

SETUP_HELP = ("Setup file (load_data(), build_model(), FIT), or your own training script: its "
          "first model.fit call is diagnosed; give its arguments after --.")
FIT_CALL_HELP = "Which model.fit call of a training script to take, from 1."
QUIET_HELP = "No progress bar (none is drawn when stderr is not a terminal either)."
SCRIPT = {"allow_extra_args": True}  # `-- ARGS` after a training script go to the script
_DATA_HELP = ("Training data instead of a setup file: a CSV/Parquet table (with --target) or a "
              "folder with one image sub-folder per class.")


def load_cli_setup(setup_file: Path | None, data: Path | None, target: str | None,
                   val: Path | None, model: Path | None, image_size: int, epochs: int | None,
                   seed: int, unsafe_model: bool = False, script_args: tuple[str, ...] = (),
                   fit_call: int = 1):
    """The setup the options describe: a setup file, a table with a target, or an image folder."""
    import fitdoctor
    from fitdoctor import loaders
    from fitdoctor.errors import SetupError

    if (setup_file is None) == (data is None):
        raise SetupError("give either a setup file (SETUP.py) or --data, not both or neither")
    if setup_file is not None:
        if model is not None:
            raise SetupError("--model is for --data; a setup file's build_model() is its model")
        return fitdoctor.load_setup(setup_file, seed=seed, script_args=script_args,
                                    fit_call=fit_call)
    if image_size < 8:
        raise SetupError(f"--image-size must be at least 8. Received: {image_size}")
    if epochs is not None and epochs < 1:
        raise SetupError(f"--epochs must be positive. Received: {epochs}")
    fit = dict(loaders.DEFAULT_FIT)
    if epochs is not None:
        fit["epochs"] = epochs
    if data.is_dir():
        if target is not None:
            raise SetupError("--target is for tables; an image folder's classes are its folders")
        return loaders.setup_from_images(data, val_folder=val, image_size=(image_size, image_size),
                                         model_path=model, fit=fit, seed=seed,
                                         safe_mode=not unsafe_model)
    if target is None:
        raise SetupError(f"--target is required with a table: name the label column of {data}")
    return loaders.setup_from_table(data, target, val_path=val, model_path=model, fit=fit,
                                    seed=seed, safe_mode=not unsafe_model)


@app.command(context_settings=SCRIPT)
def diagnose(
    ctx: typer.Context,
    setup_file: Annotated[Path | None, typer.Argument(
        metavar="[SETUP.py]", help=SETUP_HELP)] = None,
    data: Annotated[Path | None, typer.Option("--data", help=_DATA_HELP)] = None,
    target: Annotated[str | None, typer.Option(help="Label column of a --data table.")] = None,
    val: Annotated[Path | None, typer.Option(help="Validation table or image folder.")] = None,
    model: Annotated[Path | None, typer.Option(help="Saved compiled .keras model.")] = None,
    unsafe_model: Annotated[bool, typer.Option(
        "--unsafe-model", help="Load --model with Keras' safe mode off, for a file you trust "
        "that holds Lambda layers (they run arbitrary Python code).")] = False,
    image_size: Annotated[int, typer.Option(help="Images are resized to this square.")] = 64,
    epochs: Annotated[int | None, typer.Option(help="Epochs for --data (default 20).")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
    html_path: Annotated[Path | None, typer.Option("--html", help="Also write HTML here.")] = None,
    budget: Annotated[str, typer.Option(help="quick | standard | thorough")] = "standard",
    seed: Annotated[int, typer.Option(help="Seed for every probe run.")] = 0,
    fit_call: Annotated[int, typer.Option("--fit-call", help=FIT_CALL_HELP)] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", help=QUIET_HELP)] = False,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", "--load-timeout", help=TIMEOUT_HELP)] = None,
    debug: Annotated[bool, typer.Option("--debug", help=DEBUG_HELP)] = False,
) -> None:
    """Run your setup under measurement and name why it trains badly, ranked, with fixes.

    Without a setup file, --data audits a table or an image folder with a model fitdoctor
    builds (or --model): without --val, 20 % of the rows are held out for validation.
    """
    import fitdoctor

    with user_errors(debug):
        with load_time_limit(timeout, setup_file), warnings_if_it_works():
            setup = load_cli_setup(setup_file, data, target, val, model, image_size, epochs,
                                   seed, unsafe_model, tuple(ctx.args), fit_call)
        with progress_shown("diagnosing", quiet) as show:
            report = fitdoctor.diagnose(setup=setup, budget=budget, seed=seed, progress=show)
        from fitdoctor.report.terminal import render_report

        render_report(report, console)
        if json_path is not None:
            write_json(report.to_json(), str(json_path))
            err_console.print(f"report written to {json_path}")
        if html_path is not None:
            html_path.parent.mkdir(parents=True, exist_ok=True)
            report.to_html(html_path)
            err_console.print(f"HTML report written to {html_path}")
