"""What the report, fix and tune pages share: the page shell, style, escaping and tables.

Every page is one self-contained HTML file: its style, its few lines of script and every plot
(inline SVG) are inside it, and nothing in it points at a network address. Everything that came
from the user or from a measurement (titles, evidence, class, column, layer and file names,
exception text) goes through `esc`, so a class named `<img src=x onerror=alert(1)>` shows as
text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fitdoctor.report import plots as plotting
from fitdoctor.report.values import format_value

CSS = """
.fd{--crit:#c62828;--warn:#b26a00;--info:#1565c0;--ok:#2e7d32;--fg:#1d1d1f;--muted:#5f6368;
--line:#e0e0e0;--code:#f6f8fa;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);max-width:980px;margin:0 auto;padding:24px 20px 60px}
.fd h1{font-size:1.6em;margin:0 0 4px}.fd h2{font-size:1.25em;margin:32px 0 8px}
.fd h3{font-size:1.05em;margin:0;display:flex;flex-wrap:wrap;gap:8px;align-items:baseline}
.fd .meta{color:var(--muted);margin:0 0 12px}.fd .note{color:var(--muted);font-style:italic}
.fd .headline{font-weight:600;margin:0 0 12px}
.fd .summary{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}
.fd .pill{border-radius:999px;padding:2px 12px;font-weight:600;font-size:.9em;color:#fff}
.fd .pill.critical{background:var(--crit)}.fd .pill.warning{background:var(--warn)}
.fd .pill.info{background:var(--info)}.fd .pill.ok{background:var(--ok)}
.fd .finding{border:1px solid var(--line);border-left:6px solid var(--info);border-radius:8px;
padding:14px 18px;margin:14px 0;background:#fff}
.fd .finding.critical{border-left-color:var(--crit)}
.fd .finding.warning{border-left-color:var(--warn)}
.fd .sev{font-weight:700;font-size:.8em;letter-spacing:.05em}.fd .critical .sev{color:var(--crit)}
.fd .warning .sev{color:var(--warn)}.fd .info .sev{color:var(--info)}
.fd .fid{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.fd .role{border:1px solid var(--line);border-radius:4px;padding:0 6px;font-size:.8em;
color:var(--muted)}.fd .role.cause{color:var(--fg);font-weight:600}
.fd .tags{color:var(--muted);font-size:.85em;margin:2px 0 8px}
.fd table{border-collapse:collapse;margin:8px 0;font-size:.9em}
.fd td,.fd th{padding:3px 14px 3px 0;vertical-align:top;text-align:left}
.fd th{color:var(--muted);font-weight:500}.fd td{font-family:ui-monospace,Menlo,Consolas,monospace;
word-break:break-word}
.fd table.grid td,.fd table.grid th{border-bottom:1px solid var(--line);padding:4px 10px}
.fd .advice{margin:8px 0}.fd .advice b{color:var(--ok)}
.fd .code{position:relative}.fd pre{background:var(--code);border:1px solid var(--line);
border-radius:6px;padding:10px 12px;overflow:auto;font-size:.85em;margin:6px 0}
.fd button.copy{position:absolute;top:6px;right:6px;font-size:.8em;padding:2px 10px;
border:1px solid var(--line);border-radius:4px;background:#fff;cursor:pointer}
.fd figure{margin:12px 0}.fd figure svg{width:100%;height:auto;max-width:760px;display:block}
.fd figcaption{color:var(--muted);font-size:.85em}.fd figcaption b{color:var(--fg)}
.fd details>summary{cursor:pointer}.fd summary h3{display:inline-flex}.fd a{color:var(--info)}
.fd footer{margin-top:40px;color:var(--muted);font-size:.85em}
"""

SCRIPT = """
document.querySelectorAll('.fd button.copy').forEach(function (button) {
  button.addEventListener('click', function () {
    var code = button.parentElement.querySelector('code').textContent;
    var done = function () { button.textContent = 'copied'; };
    var fallback = function () {
      var area = document.createElement('textarea');
      area.value = code; document.body.appendChild(area); area.select();
      document.execCommand('copy'); area.remove(); done();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code).then(done, fallback);
    } else {
      fallback();
    }
  });
});
"""


def esc(value: Any) -> str:
    """HTML-escape any value's text (quotes included, so it is safe in attributes too)."""
    return html.escape(str(value), quote=True)


def kv_table(mapping: Mapping[str, Any]) -> str:
    """A two-column table of keys and formatted values, escaped."""
    if not mapping:
        return ""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(format_value(v))}</td></tr>"
                   for k, v in mapping.items())
    return f"<table>{rows}</table>"


def grid_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A table with a header row; each cell is formatted and escaped."""
    rows = [list(r) for r in rows]
    if not rows:
        return ""
    head = "".join(f"<th>{esc(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(format_value(v))}</td>" for v in r) + "</tr>"
                   for r in rows)
    return f'<table class="grid"><tr>{head}</tr>{body}</table>'


def code_block(code: str) -> str:
    """Code in a `<pre>` with a copy button."""
    return (f'<div class="code"><button class="copy" type="button">copy</button>'
            f"<pre><code>{esc(code)}</code></pre></div>")


def figure(plot: plotting.Plot) -> str:
    """A plot with its title and caption, anchored at `#plot-<key>`."""
    return (f'<figure id="plot-{esc(plot.key)}">{plot.svg}<figcaption><b>{esc(plot.title)}.</b> '
            f"{esc(plot.caption)}</figcaption></figure>")


def fragment(parts: Iterable[str]) -> str:
    """A page body as a fragment (`<div class="fd">…</div>`) with its style scoped to `.fd`."""
    return f'<div class="fd"><style>{CSS}</style>{"".join(parts)}</div>'


def page(title: str, body: str) -> str:
    """A whole HTML document around a fragment, with the copy-button script."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title></head>"
        f'<body style="margin:0;background:#fafafa">{body}<script>{SCRIPT}</script></body></html>\n'
    )


def write(text: str, path: str | Path | None) -> str:
    """Write `text` to `path` (its folder created) when a path is given; return the text."""
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return text
