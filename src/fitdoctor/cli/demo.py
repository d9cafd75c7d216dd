"""`fitdoctor demo`: diagnose the bundled broken example."""

from __future__ import annotations

from pathlib import Path

import typer

from fitdoctor.cli.app import DEBUG_HELP, app, console, err_console, progress_shown, user_errors


@app.command()
def demo(
    out: Path = typer.Option(Path("fitdoctor-demo"), help="Folder for the demo's report files."),
    budget: str = typer.Option("standard", help="quick | standard | thorough"),
    debug: bool = typer.Option(False, "--debug", help=DEBUG_HELP),
) -> None:
    """Diagnose a bundled broken setup (scikit-learn's digits); write JSON and HTML reports."""
    import fitdoctor
    from fitdoctor.examples import demo_setup_path
    from fitdoctor.report.terminal import render_report

    with user_errors(debug):
        path = demo_setup_path()
        console.print(f"[bold]Diagnosing the bundled example[/] {path}")
        setup = fitdoctor.load_setup(path)
        with progress_shown("diagnosing the bundled example") as show:
            report = fitdoctor.diagnose(setup=setup, budget=budget, progress=show)
        render_report(report, console)
        out.mkdir(parents=True, exist_ok=True)
        json_path = out / "report.json"
        json_path.write_text(report.to_json() + "\n", encoding="utf-8")
        err_console.print(f"report written to {json_path}")
        html_path = out / "report.html"
        report.to_html(html_path)
        size_kb = html_path.stat().st_size / 1024
        err_console.print(f"HTML report written to {html_path} ({size_kb:.0f} KB, open it in a "
                          "browser; it works offline)")
