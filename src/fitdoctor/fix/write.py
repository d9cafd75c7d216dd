"""Write a fix to a folder: the fixed model, `fix.md` (changes as code) and `fix.json`."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from fitdoctor.errors import SetupError
from fitdoctor.fix.records import FixResult, points_text, points_unit
from fitdoctor.report.values import format_value

logger = logging.getLogger(__name__)


def write_outputs(result: FixResult, out: str | Path) -> dict[str, Path]:
    """Write `model.keras`, `fix.md` and `fix.json` into `out` (created if missing).

    Only these three files are written; the user's setup file and data are never touched.

    Returns:
        The paths written, by kind (`"model"` is absent when the model could not be saved).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SetupError(f"--out must be a folder; {out} is a file")
    source = Path(result.report.setup.get("source", "")) if result.report.setup else None
    if source is not None and source.suffix == ".py" and out.resolve() == source.resolve():
        raise SetupError(f"--out must be a folder, not the setup file {source}")
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    save_error = ""
    if result.model is not None:
        try:
            result.model.save(out / "model.keras")
            written["model"] = out / "model.keras"
        except Exception as exc:  # e.g. a subclassed model without get_config
            save_error = f"{type(exc).__name__}: {exc}"
            logger.warning("could not save the fixed model: %s", save_error)
    data = result.to_dict()
    if save_error:
        data["model_save_error"] = save_error
    (out / "fix.json").write_text(json.dumps(data, indent=2, allow_nan=False) + "\n",
                                  encoding="utf-8")
    written["json"] = out / "fix.json"
    (out / "fix.md").write_text(render_markdown(result, save_error=save_error),
                                encoding="utf-8")
    written["markdown"] = out / "fix.md"
    return written


def _fmt(value: Any, pct: bool = False) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–"
    return f"{value:.1%}" if pct else f"{value:.4g}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _seeds_text(result: FixResult, floor: str) -> str:
    """Which seeds the numbers are means over, and what a change had to beat."""
    if result.runs.get("unchanged_seeds", len(result.seeds)) < len(result.seeds):
        return (f"Your setup as given was trained on seed {result.seeds[0]} only: no change "
                f"tried gained more than {floor} over it on that seed, so none needed the other "
                "seeds to be judged against run-to-run noise, and none was kept.")
    return (f"Means over seeds {list(result.seeds)}. A change was kept only when its gain beat "
            f"run-to-run noise: more than {floor} over your setup as given, and more where the "
            "seeds disagree.")


def render_markdown(result: FixResult, *, save_error: str = "") -> str:
    """`fix.md`: before/after, each kept change as code, then every remedy tried and its verdict.

    Args:
        result: The fix to describe.
        save_error: Why the fixed model could not be saved, when it could not. Defaults to "".
    """
    before, after = result.before, result.after
    unit = points_unit(regression=result.regression)
    floor = points_text(result.threshold, float(before.get("score", math.nan)),
                        regression=result.regression, signed=False)
    lines = ["# What `fitdoctor fix` changed", ""]
    lines += [
        "| | val accuracy | val loss |",
        "|---|---|---|",
        f"| before | {_fmt(before['val_accuracy'], True)} | {_fmt(before['val_loss'])} |",
        f"| after | {_fmt(after['val_accuracy'], True)} | {_fmt(after['val_loss'])} |",
        "",
        _seeds_text(result, floor),
        "",
    ]
    if result.validation_text():
        lines += [result.validation_text(), ""]
    if result.runs_text():
        lines += [result.runs_text(), ""]
    diagnosis = result.report.ids()
    if diagnosis:
        lines += [f"Diagnosis: {', '.join(f'`{i}`' for i in diagnosis)}.", ""]
    if result.changes:
        lines += ["## Changes to make in your setup", ""]
        for i, change in enumerate(result.changes, 1):
            strength = "" if change.strength is None else f" ({format_value(change.strength)})"
            lines += [
                f"### {i}. `{change.remedy}`{strength}, for `{change.finding}`", "",
                change.description, "", "```python", change.code, "```", "",
            ]
    else:
        lines += ["No change beat run-to-run noise, so your setup is kept as it was.", ""]
    if result.advice:
        lines += ["## Changes fitdoctor could not make itself", ""]
        for item in result.advice:
            lines += [f"- `{item.remedy}` for `{item.finding}`: {item.reason}.", "",
                      "```python", item.code, "```", ""]
    groups = result.outcomes_by_finding()
    if groups:
        lines += ["## Remedies tried", "",
                  "One row per remedy: the setting its search chose, its gain alone over your "
                  f"setup as given and the gain it needed to beat run-to-run noise (in {unit}), "
                  "and the verdict. A remedy for a symptom of a cause already treated is "
                  "searched on top of the changes kept before it, and its gain is over those.",
                  ""]
        for finding, outcomes in groups:
            lines += [f"### For `{finding}`", "",
                      "| remedy | best setting | settings tried | gain | needs > | verdict |",
                      "|---|---|---|---|---|---|"]
            for outcome in outcomes:
                best = outcome.best
                tried = ", ".join(format_value(s) for s in outcome.strengths) or "–"
                setting = "–" if best.strength is None else format_value(best.strength)
                lines.append(
                    f"| `{outcome.remedy}` | {_cell(setting)} | {_cell(tried)} | "
                    f"{best.gain_text} | {best.threshold_text} | "
                    f"{_cell(outcome.verdict)} |"
                )
            lines.append("")
    if save_error:
        lines += [f"The fixed model could not be saved: {save_error}.", ""]
    return "\n".join(lines)
