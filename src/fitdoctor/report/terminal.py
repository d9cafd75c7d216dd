"""Render a report to the terminal with Rich.

Findings come in the report's order (root causes first, each symptom below the cause that
explains it), each with its own severity and a label: `cause`, or `explained by <id>`. Titles
are part of the panel's body, so a long title wraps instead of being cut at the panel's width.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from fitdoctor.findings import Finding, Report
from fitdoctor.report.summary import data_notes, headline, role_label
from fitdoctor.report.values import format_value

_STYLE = {"critical": "bold red", "warning": "bold yellow", "info": "cyan"}


def render_finding(finding: Finding, position: int) -> Panel:
    """One finding as a panel: severity, id and role label, title, evidence, advice and code."""
    style = _STYLE[finding.severity.value]
    label = role_label(finding)
    head = Text.assemble(
        (f"{position}. ", "bold"), (f"{finding.severity.value.upper()} ", style),
        (finding.id, "bold"), "  ",
        (f"[{label}]", "bold magenta" if label == "cause" else "dim"),
    )
    evidence = Table.grid(padding=(0, 2))
    evidence.add_column(style="dim")
    evidence.add_column()
    for key, value in finding.evidence.items():
        evidence.add_row(Text(str(key)), Text(format_value(value)))
    parts: list[Any] = [head, Text(finding.title, style="bold"), evidence]
    if finding.fix.advice:
        parts.append(Text.assemble(("fix: ", "bold green"), finding.fix.advice))
    if finding.fix.code:
        parts.append(Syntax(finding.fix.code, "python", theme="ansi_dark", word_wrap=True))
    return Panel(Group(*parts), border_style=style.split()[-1])


def render_report(
    report: Report, console: Console | None = None, *, show_info: bool = True
) -> None:
    """Print a ranked report: the setup line, the headline, then each finding in rank order."""
    console = console or Console()
    s = report.setup
    console.print(Text.assemble(
        ("fitdoctor", "bold"),
        f" {report.version} · {s.get('task', '?')} · "
        f"{s.get('n_train', '?')} train / {s.get('n_val', '?')} val rows · "
        f"{s.get('n_params', '?')} parameters · budget {report.budget} · seed {report.seed}",
    ))
    for note in data_notes(s):
        console.print(Text(note, style="dim"))
    line = headline(report).text()
    if line:
        console.print(Text(line))
    if not report.problems:
        console.print(
            "[bold green]No problems found:[/] nothing measured here is hurting training."
        )
    shown = [f for f in report.findings if show_info or f.is_problem]
    for i, finding in enumerate(shown, 1):
        console.print(render_finding(finding, i))
