"""Write the finding catalogue (`docs/findings.md`) from the registered checks.

Run `python -m fitdoctor.catalogue > docs/findings.md` (or `make docs`); a test fails when the
committed file is out of date, so the docs cannot drift from the code.
"""

from __future__ import annotations

import inspect

from fitdoctor.checks import registered_checks

_HEADER = """# Finding catalogue

Every finding fitdoctor can report, by its stable id. Generated from the checks' own
descriptions and default thresholds by `make docs` (`python -m fitdoctor.catalogue`);
do not edit by hand. Thresholds are keyword arguments of each check's constructor, so
`fitdoctor.checks.registered_checks()["lr_too_high"](divergence_ratio=5.0)` changes one.

Severities: `critical` and `warning` mean "this is hurting you"; `info` is a note. A healthy
setup gets no `critical` or `warning` finding.

Ranking (`fitdoctor.findings.rank_findings`, the one place that decides rank 1): causes above
symptoms, always. A finding listed in another present problem's `explains` ranks below that
finding and carries `explained_by` with its id. A cause weighs as much as the worst finding it
explains, directly or through others. Among findings nothing explains: critical, warning, info;
then causes before symptoms; then the check's `rank`.

`check_failed` (info) stands in for any check that could not run, with the reason.
"""


def render() -> str:
    """The catalogue as Markdown."""
    parts = [_HEADER]
    by_category: dict[str, list] = {}
    for cls in sorted(registered_checks().values(), key=lambda c: c.id):
        by_category.setdefault(cls.category, []).append(cls)
    for category in ("data", "model", "training"):
        checks = by_category.pop(category, [])
        if not checks:
            continue
        parts.append(f"\n## {category.capitalize()}\n")
        for cls in checks:
            parts.append(_render_check(cls))
    for category, checks in by_category.items():
        parts.append(f"\n## {category.capitalize()}\n")
        parts.extend(_render_check(cls) for cls in checks)
    return "\n".join(parts).rstrip() + "\n"


def _render_check(cls) -> str:
    lines = [f"### `{cls.id}`\n", inspect.cleandoc(cls.description), ""]
    lines.append(f"- role: {cls.role.value}; rank: {cls.rank}; "
                 f"applies to: {', '.join(cls.tasks)}")
    if cls.requires:
        lines.append(f"- evidence: {', '.join(f'`{r}`' for r in cls.requires)}")
    if cls.explains:
        lines.append(f"- explains: {', '.join(f'`{e}`' for e in cls.explains)}")
    thresholds = cls.thresholds()
    if thresholds:
        lines.append("- thresholds (defaults): " + ", ".join(
            f"`{k}={v!r}`" for k, v in thresholds.items()))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
