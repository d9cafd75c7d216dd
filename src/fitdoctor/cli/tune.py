"""`fitdoctor tune SETUP.py`: search hyperparameters with Optuna, keep the best model."""

from __future__ import annotations

import inspect
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from fitdoctor.cli.app import (
    DEBUG_HELP,
    TIMEOUT_HELP,
    app,
    console,
    err_console,
    load_time_limit,
    user_errors,
    write_json,
)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render_result(result, console_) -> None:
    """Print the best parameters, the trial table and the parameter importances."""
    table = Table(title=f"study {result.study}: {len(result.trials)} trials", title_justify="left")
    names = [p["name"] for p in result.space]
    table.add_column("#", justify="right")
    table.add_column("state")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column(f"val {result.metric}", justify="right")
    table.add_column("epochs", justify="right")
    styles = {"COMPLETE": "green", "PRUNED": "yellow", "FAIL": "red", "RUNNING": "dim"}
    for row in result.trials:
        mark = " *" if row.number == result.best_trial else ""
        table.add_row(
            f"{row.number}{mark}",
            f"[{styles.get(row.state.value, 'dim')}]{row.state.value.lower()}[/]"
            + (" (yours)" if row.baseline else ""),
            *(_fmt(row.params.get(n)) for n in names),
            _fmt(row.value),
            _fmt(row.epochs),
        )
    console_.print(table)
    if result.importances:
        ranked = ", ".join(f"{k} {v:.2f}" for k, v in result.importances.items())
        console_.print(f"[bold]parameter importance[/] {ranked}")
    if result.best_value is None:
        console_.print("[bold red]no trial completed[/]; see the states above")
        return
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in result.best_params.items())
    console_.print(f"[bold green]best[/] trial {result.best_trial}: val {result.metric} "
                   f"[bold]{result.best_value:.4f}[/] with {params}")
    if result.baseline_value is not None:
        console_.print(f"your configuration: val {result.metric} {result.baseline_value:.4f}")
    if result.model_path:
        console_.print(f"best model saved to {result.model_path}")


def trial_line(event) -> str:
    """One line about a finished trial: its state, score, the best so far and the time left."""
    from fitdoctor.cli.progress import format_seconds
    from fitdoctor.tune import TrialStatus

    trial = event.trial
    name = f"trial {trial.number}" + (" (yours)" if trial.baseline else "")
    params = " ".join(f"{k}={_fmt(v)}" for k, v in trial.params.items())
    if trial.state is TrialStatus.COMPLETE:
        what = (f"[green]complete[/] val {event.metric} [bold]{trial.value:.4f}[/] "
                f"({trial.epochs} epochs, {format_seconds(trial.seconds)})")
    elif trial.state is TrialStatus.PRUNED:
        what = f"[yellow]pruned[/] after {trial.epochs} epochs"
    else:
        what = f"[red]failed[/] ({escape(trial.error or 'no reason recorded')})"
    best = ("no trial complete yet" if event.best_value is None
            else f"best {event.best_value:.4f} (trial {event.best_trial})")
    return (f"{name} {what} {escape(params)} | {best} | {event.done}/{event.total} done, "
            f"~{format_seconds(event.time_left)} left")


_FLAGS = {"json_path": "--json", "html_path": "--html"}


def resume_command(setup_file: Path, stop, options: dict[str, Any]) -> str:
    """The `fitdoctor tune` command that resumes an interrupted study with the same options.

    Options equal to their default are left out; a database password shows as `***`.
    """
    from fitdoctor.tune.storage import redact

    defaults = inspect.signature(tune).parameters
    args = ["fitdoctor", "tune", str(setup_file), "--study", stop.study,
            "--storage", redact(stop.storage), "--trials", str(max(stop.remaining, 1))]
    for key, value in options.items():
        if value == defaults[key].default:
            continue
        flag = _FLAGS.get(key, "--" + key.replace("_", "-"))
        args += [flag] if value is True else [flag, str(value)]
    return shlex.join(args)


@app.command()
def tune(
    setup_file: Annotated[Path, typer.Argument(
        metavar="SETUP.py",
        help="Setup file: load_data(), build_model(), FIT, optional SEARCH_SPACE.")],
    strategy: Annotated[str, typer.Option(help="grid | random | qmc | bayes (TPE)")] = "bayes",
    trials: Annotated[int, typer.Option(
        help="Trials to run now, over all workers; added to the study.")] = 20,
    timeout: Annotated[float | None, typer.Option(
        help="Stop starting trials after this many seconds.")] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes sharing the trials.")] = 1,
    storage: Annotated[str | None, typer.Option(
        help="Journal file or postgresql://user:pw@host/db "
             "(default .fitdoctor/tune.journal).")] = None,
    study: Annotated[str | None, typer.Option(
        help="Study name; resumed when it exists (default: the setup file's name).")] = None,
    pruner: Annotated[str, typer.Option(help="median | hyperband | none")] = "median",
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Write the whole study as JSON here.")] = None,
    html_path: Annotated[Path | None, typer.Option(
        "--html", help="Also write a self-contained HTML page with plots here.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the best model.keras.")] = Path(
        "fitdoctor-tune"),
    seed: Annotated[int, typer.Option(help="Seed for samplers and trial models.")] = 0,
    quiet: Annotated[bool, typer.Option(
        "--quiet", help="No progress bar or per-trial lines; only the result.")] = False,
    load_timeout: Annotated[float | None, typer.Option(help=TIMEOUT_HELP)] = None,
    debug: Annotated[bool, typer.Option("--debug", help=DEBUG_HELP)] = False,
) -> None:
    """Search learning rate, batch size, regularization (or your SEARCH_SPACE) with Optuna."""
    import optuna

    import fitdoctor
    from fitdoctor.cli.progress import Progress, interrupt_once
    from fitdoctor.tune import TrialStatus, TuneInterrupted

    # Failed trials are shown by the per-trial lines; --debug adds Optuna's tracebacks.
    optuna.logging.set_verbosity(optuna.logging.WARNING if debug else optuna.logging.ERROR)
    with user_errors(debug):
        with load_time_limit(load_timeout, setup_file, option="--load-timeout"):
            setup = fitdoctor.load_setup(setup_file, seed=seed)
        try:
            with interrupt_once(), Progress(err_console, quiet=quiet,
                                            lines_when_piped=True) as bar:
                bar.start("tuning", total=trials, unit="trials")

                def show(event) -> None:
                    if event.trial.state is TrialStatus.RUNNING:
                        bar.update(current=f"trial {event.trial.number} running")
                        return
                    bar.line(trial_line(event))
                    bar.update(completed=event.done, time_left=event.time_left, current="")

                result = fitdoctor.tune(
                    setup, strategy=strategy, trials=trials, timeout=timeout, workers=workers,
                    storage=storage, study=study, pruner=pruner, seed=seed, out=out,
                    progress=show,
                )
        except TuneInterrupted as stop:
            options = {"strategy": strategy, "timeout": timeout, "workers": workers,
                       "pruner": pruner, "json_path": json_path, "html_path": html_path,
                       "out": out, "seed": seed, "quiet": quiet}
            failed = "" if not stop.failed else (
                f"trial{'s' if len(stop.failed) > 1 else ''} "
                f"{', '.join(map(str, stop.failed))} marked failed; ")
            err_console.print(
                f"interrupted: {failed}study {escape(stop.study)!r} keeps every finished trial. "
                f"Resume with: {escape(resume_command(setup_file, stop, options))}",
                highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
        render_result(result, console)
        if json_path is not None:
            write_json(result.to_json(), str(json_path))
            err_console.print(f"study written to {json_path}")
        if html_path is not None:
            from fitdoctor.report.html import tune_to_html

            tune_to_html(result, html_path)
            err_console.print(f"HTML tune report written to {html_path}")
