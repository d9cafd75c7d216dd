"""Write a fix to a folder: the fixed model, `fix.md` (changes as code) and `fix.json`."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from fitdoctor.errors import SetupError

logger = logging.getLogger(__name__)


def write_outputs(result: Any, out: str | Path) -> dict[str, Path]:
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
    (out / "fix.md").write_text(render_markdown(data), encoding="utf-8")
    written["markdown"] = out / "fix.md"
    return written


def _fmt(value: Any, pct: bool = False) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–"
    return f"{value:.1%}" if pct else f"{value:.4g}"


def render_markdown(data: dict[str, Any]) -> str:
    """`fix.md`: before/after, each kept change as code, then what was rejected and why."""
    before, after = data["before"], data["after"]
    lines = ["# What `fitdoctor fix` changed", ""]
    lines += [
        "| | val accuracy | val loss |",
        "|---|---|---|",
        f"| before | {_fmt(before['val_accuracy'], True)} | {_fmt(before['val_loss'])} |",
        f"| after | {_fmt(after['val_accuracy'], True)} | {_fmt(after['val_loss'])} |",
        "",
        f"Means over seeds {data['seeds']}. A change was kept only when it beat run-to-run noise "
        f"(gain above {_fmt(data['noise_threshold'])}).",
        "",
    ]
    if data["diagnosis"]:
        lines += [f"Diagnosis: {', '.join(f'`{i}`' for i in data['diagnosis'])}.", ""]
    if data["changes"]:
        lines += ["## Changes to make in your setup", ""]
        for i, change in enumerate(data["changes"], 1):
            strength = "" if change["strength"] is None else f" ({change['strength']})"
            lines += [
                f"### {i}. `{change['remedy']}`{strength}, for `{change['finding']}`", "",
                change["description"], "", "```python", change["code"], "```", "",
            ]
    else:
        lines += ["No change beat run-to-run noise, so your setup is kept as it was.", ""]
    if data["advice"]:
        lines += ["## Changes fitdoctor could not make itself", ""]
        for item in data["advice"]:
            lines += [f"- `{item['remedy']}` for `{item['finding']}`: {item['reason']}.", "",
                      "```python", item["code"], "```", ""]
    rejected = [t for t in data["remedies"] if t["status"] != "accepted"]
    if rejected:
        lines += ["## Tried and rejected", "",
                  "| remedy | setting | for | val accuracy | val loss | gain | why |",
                  "|---|---|---|---|---|---|---|"]
        for t in rejected:
            setting = "" if t["strength"] is None else str(t["strength"])
            lines.append(
                f"| `{t['remedy']}` | {setting} | `{t['finding']}` | "
                f"{_fmt(t.get('val_accuracy'), True)} | {_fmt(t.get('val_loss'))} | "
                f"{_fmt(t.get('gain'))} | {t['reason']} |"
            )
        lines.append("")
    if data.get("model_save_error"):
        lines += [f"The fixed model could not be saved: {data['model_save_error']}.", ""]
    return "\n".join(lines)
