"""`fitdoctor fix SETUP.py --out DIR`."""

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
from fitdoctor.cli.diagnose import FIT_CALL_HELP, QUIET_HELP, SCRIPT, SETUP_HELP


def _pct(value: float) -> str:
    return f"{value:.1%}" if isinstance(value, float) and value == value else "–"


@app.command(context_settings=SCRIPT)
def fix(
    ctx: typer.Context,
    setup_file: Annotated[Path, typer.Argument(metavar="SETUP.py", help=SETUP_HELP)],
    out: Annotated[Path, typer.Option(
        "--out", help="Folder for model.keras, fix.md and fix.json (created).")],
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Also write the fix JSON here.")] = None,
    html_path: Annotated[Path | None, typer.Option(
        "--html", help="Also write a self-contained HTML page with plots here.")] = None,
    budget: Annotated[str, typer.Option(
        help="quick (2 seeds per variant, at most 9 candidate runs) | standard (2 seeds, 30 "
             "runs) | thorough (3 seeds, no bound)")] = "standard",
    max_runs: Annotated[int | None, typer.Option(
        "--max-runs",
        help="The most candidate runs (one remedy setting on one seed; a shortened screening "
             "run counts its share of the epochs) instead of the budget's; what comes after "
             "is reported as skipped.")] = None,
    seed: Annotated[int, typer.Option(
        help="First seed; each variant trains on seed, seed+1, ...")] = 0,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", "--load-timeout", help=TIMEOUT_HELP)] = None,
    fit_call: Annotated[int, typer.Option("--fit-call", help=FIT_CALL_HELP)] = 1,
    storage: Annotated[str | None, typer.Option(
        help="Keep every finished run here (a journal file, or a postgresql:// URL), so a fix "
             "started again after a crash retrains none of them, and fixes on other machines "
             "share them (default with --workers: .fitdoctor/fix.journal).")] = None,
    study: Annotated[str, typer.Option(
        help="Name of the study in --storage holding this fix's runs.")] = "fix",
    workers: Annotated[int, typer.Option(
        help="Local processes sharing the runs (through --storage); the decisions stay "
             "those of one.")] = 1,
    helper: Annotated[bool, typer.Option(
        "--helper",
        help="Only train runs for the fix on --study (say, on another machine beside it), "
             "deciding and writing nothing.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help=QUIET_HELP)] = False,
    debug: Annotated[bool, typer.Option("--debug", help=DEBUG_HELP)] = False,
) -> None:
    """Diagnose your setup, try the remedies for what hurts it, keep those that beat noise."""
    import fitdoctor

    with user_errors(debug):
        if workers < 1:
            raise fitdoctor.SetupError(f"--workers must be at least 1. Received: {workers}")
        if workers > 1 and storage is None:
            storage = str(Path(".fitdoctor") / "fix.journal")
        if helper and storage is None:
            raise fitdoctor.SetupError("--helper needs --storage")
        with load_time_limit(timeout, setup_file), warnings_if_it_works():
            setup = fitdoctor.load_setup(setup_file, seed=seed, script_args=tuple(ctx.args),
                                         fit_call=fit_call)
        if helper:
            import os
            import threading

            from fitdoctor.fix.run import help_fix
            from fitdoctor.tune.worker import stop_when_orphaned

            threading.Thread(target=stop_when_orphaned, args=(os.getppid(),),
                             daemon=True).start()
            help_fix(setup, storage=storage, study=study, budget=budget, seed=seed,
                     max_runs=max_runs)
            return
        limits = {} if max_runs is None else {"max_runs": max_runs}
        helpers = _start_helpers(workers - 1, setup_file, ctx.args, out=out, storage=storage,
                                 study=study, budget=budget, seed=seed, fit_call=fit_call,
                                 **limits)
        try:
            with progress_shown("fixing", quiet) as show:
                result = fitdoctor.fix(setup=setup, out=out, budget=budget, seed=seed,
                                       progress=show, storage=storage, study=study,
                                       max_runs=max_runs)
        finally:
            _stop_helpers(helpers)
        before, after = result.before, result.after
        metric = "val loss" if setup.task.kind == "regression" else "val accuracy"
        key = "val_loss" if setup.task.kind == "regression" else "val_accuracy"
        fmt = (lambda v: f"{v:.4g}") if key == "val_loss" else _pct
        console.print(f"[bold]{metric}[/]: {fmt(before[key])} → [bold]{fmt(after[key])}[/]")
        if result.validation_text():
            console.print(f"[dim]{result.validation_text()}[/]")
        if result.applied:
            console.print(f"applied: {', '.join(result.applied)}")
        else:
            console.print("applied: nothing (no remedy beat run-to-run noise)")
        from fitdoctor.fix.records import CandidateStatus

        rejected = sorted({r.remedy for r in result.rejected
                           if r.status is not CandidateStatus.SKIPPED})
        if rejected:
            console.print(f"[dim]rejected: {', '.join(rejected)}[/]")
        if result.runs.get("skipped"):
            console.print(f"[dim]{result.runs_text()}[/]")
        for item in result.advice:
            console.print(f"[yellow]advice only[/] {item.remedy}: {item.reason}")
        console.print(f"written to {out}/ (model.keras, fix.md, fix.json)")
        if json_path is not None:
            write_json(result.to_dict(), str(json_path))
            err_console.print(f"fix JSON written to {json_path}")
        if html_path is not None:
            from fitdoctor.report.html import fix_to_html

            fix_to_html(result, html_path)
            err_console.print(f"HTML fix report written to {html_path}")


def _start_helpers(n: int, setup_file: Path, script_args: list[str], **options: object) -> list:
    """Start `n` helper processes (`fitdoctor fix ... --helper`) training runs for this fix.

    Each runs in its own session, so a terminal's Ctrl-C reaches this process only, and stops
    by itself when this process dies. Their output goes to a log file each, shown on failure.
    """
    import os
    import subprocess
    import sys
    import tempfile

    if n == 0:
        return []
    logdir = Path(tempfile.mkdtemp(prefix="fitdoctor-fix-workers-"))
    args = [sys.executable, "-m", "fitdoctor.cli", "fix", str(setup_file), "--helper", "--quiet"]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    if script_args:
        args += ["--", *script_args]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    helpers = []
    for i in range(1, n + 1):
        log_path = logdir / f"helper-{i}.log"
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
        helpers.append((proc, log_path))
    return helpers


def _stop_helpers(helpers: list, grace: float = 30.0) -> None:
    """Interrupt the helpers still running (each gives up its claim) and wait for them."""
    import signal
    import subprocess

    for proc, _ in helpers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc, log_path in helpers:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.returncode not in (0, 130, -2):
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip()[-600:]
            err_console.print(f"[yellow]a fix helper exited with code {proc.returncode}:[/] "
                              f"{tail}", highlight=False)
