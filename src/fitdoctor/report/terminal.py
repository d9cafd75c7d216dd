"""Render a report to the terminal with Rich."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from fitdoctor.findings import Finding, Report

_STYLE = {"critical": "bold red", "warning": "bold yellow", "info": "cyan"}


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3g}"
        return f"{value:.4g}"
    if isinstance(value, list):
        shown = ", ".join(_format_value(v) for v in value[:8])
        return f"[{shown}{', …' if len(value) > 8 else ''}]"
    if isinstance(value, dict):
        items = list(value.items())[:6]
        shown = ", ".join(f"{k}={_format_value(v)}" for k, v in items)
        return "{" + shown + (", …" if len(value) > 6 else "") + "}"
    return str(value)


def render_finding(finding: Finding, position: int) -> Panel:
    """One finding as a panel: title, evidence table, advice and code."""
    evidence = Table.grid(padding=(0, 2))
    evidence.add_column(style="dim")
    evidence.add_column()
    for key, value in finding.evidence.items():
        evidence.add_row(str(key), Text(_format_value(value)))
    parts: list[Any] = [evidence]
    if finding.fix.advice:
        parts.append(Text.assemble(("fix: ", "bold green"), finding.fix.advice))
    if finding.fix.code:
        parts.append(Syntax(finding.fix.code, "python", theme="ansi_dark", word_wrap=True))
    style = _STYLE[finding.severity.value]
    title = Text.assemble(
        (f"{position}. ", "bold"), (f"{finding.severity.value.upper()} ", style),
        (finding.id, "bold"), f"  {finding.title}",
    )
    return Panel(Group(*parts), title=title, title_align="left", border_style=style.split()[-1])


def render_report(
    report: Report, console: Console | None = None, *, show_info: bool = True
) -> None:
    """Print a ranked report."""
    console = console or Console()
    s = report.setup
    console.print(
        f"[bold]fitdoctor[/] {report.version} · {s.get('task', '?')} · "
        f"{s.get('n_train', '?')} train / {s.get('n_val', '?')} val rows · "
        f"{s.get('n_params', '?')} parameters · budget {report.budget} · seed {report.seed}"
    )
    if s.get("validation") == "held_out":
        console.print("[dim]no validation data given: 20 % of the training rows were held out[/]")
    shown = [f for f in report.findings if show_info or f.is_problem]
    if not report.problems:
        console.print(
            "[bold green]No problems found:[/] nothing measured here is hurting training."
        )
    for i, finding in enumerate(shown, 1):
        console.print(render_finding(finding, i))
    total = report.timings.get("total")
    if total is not None:
        console.print(f"[dim]diagnosed in {total:.1f} s[/]")
