"""The HTML entry points: the report, `fix` and `tune` pages, each one self-contained file.

Each page lives in its own module over the typed result the Python API returns:
`html_report` (a `Report`), `html_fix` (a `FixResult`) and `html_tune` (a `TuneResult`), with
the page shell, style, escaping and tables in `html_common`. This module keeps the names the
CLI, `Report.to_html` and Jupyter import.
"""

from __future__ import annotations

from fitdoctor.report.html_fix import fix_body, fix_to_html
from fitdoctor.report.html_report import notebook_html, plots_for, render_report_html, report_body
from fitdoctor.report.html_tune import tune_body, tune_to_html

__all__ = ["fix_body", "fix_to_html", "notebook_html", "plots_for", "render_report_html",
           "report_body", "tune_body", "tune_to_html"]
