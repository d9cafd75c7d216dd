"""`fitdoctor tune SETUP.py`: search hyperparameters with Optuna, keep the best model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
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
        mark = " *" if row["number"] == result.best_trial else ""
        table.add_row(
            f"{row['number']}{mark}",
            f"[{styles.get(row['state'], 'dim')}]{row['state'].lower()}[/]"
            + (" (yours)" if row["baseline"] else ""),
            *(_fmt(row["params"].get(n)) for n in names),
            _fmt(row["value"]),
            _fmt(row["epochs"]),
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
    load_timeout: Annotated[float | None, typer.Option(help=TIMEOUT_HELP)] = None,
    debug: Annotated[bool, typer.Option("--debug", help=DEBUG_HELP)] = False,
) -> None:
    """Search learning rate, batch size, regularization (or your SEARCH_SPACE) with Optuna."""
    import optuna
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    import fitdoctor

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with user_errors(debug):
        with load_time_limit(load_timeout, setup_file, option="--load-timeout"):
            setup = fitdoctor.load_setup(setup_file, seed=seed)
        columns = (TextColumn("[bold]tuning[/]"), BarColumn(),
                   TextColumn("{task.completed}/{task.total} trials"),
                   TextColumn("{task.fields[best]}"), TimeElapsedColumn(),
                   TextColumn("{task.fields[left]}"))
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task("tune", total=trials, best="", left="")

            def show(p) -> None:
                best = "" if p.best_value is None else f"best {p.best_value:.4f}"
                left = "" if p.time_left is None else f"~{p.time_left:.0f}s left"
                bar.update(task, completed=p.done, best=best, left=left)

            result = fitdoctor.tune(
                setup, strategy=strategy, trials=trials, timeout=timeout, workers=workers,
                storage=storage, study=study, pruner=pruner, seed=seed, out=out, progress=show,
            )
        render_result(result, console)
        if json_path is not None:
            write_json(result.to_json(), str(json_path))
            err_console.print(f"study written to {json_path}")
        if html_path is not None:
            from fitdoctor.report.html import tune_to_html

            tune_to_html(result.to_dict(), html_path)
            err_console.print(f"HTML tune report written to {html_path}")
