"""The repair benchmark: does `fitdoctor fix` bring each faulty setup back to its healthy twin?

For every `bench/cases/*.py` with a non-empty `EXPECTED` and a `TWIN = "healthy_case.py"`, it
runs `fitdoctor.fix` on the faulty setup and trains the twin over the same seeds, then prints
before / after / twin validation accuracy (validation R² for regression), whether the fixed
setup is within 3 points of the twin, what was applied, and the fix's wall time divided by one
plain fit of the faulty setup: the median of three fits timed right before the fix, in the same
process, as `bench/run.py` times them (one untimed warm-up fit at start-up, then a fresh model
through `Setup.train`, validating every epoch as the user's `fit` does). Regression cases are
compared on R² = 1 - MSE / Var(y_val), each setup on its own validation targets: a twin that
standardizes its targets has its loss in other units than a faulty setup on raw targets, and R²
is the same number in either.
It also runs `fix` on every healthy case (`EXPECTED = []`) to show it comes out unchanged or
better, never worse.

Each case runs in a fresh Python process of its own (`--case`), as a user runs `fitdoctor
fix`: the plain fits and the fix are timed inside it, after its own warm-up fit. In one process
for every case (`--one-process`, the protocol before 2026-12-06), each case runs after the
hundreds of training runs of the cases before it. TensorFlow keeps every traced training graph
alive for the rest of a process (a custom gradient of `ReplicaContext.all_reduce` stays in its
global gradient registry, with its graph): about 5,000 Python objects and 3.6 MB per run of the
10-layer MLP of `vanishing_gradients_deep_sigmoid`. A fresh process per case also gives each
case the same history every time: a user's `tf.data` pipeline that reshuffles itself on every
pass gives each run an order that depends on the passes made over it before (the same seed-1 run
of `input_image_dataset_unscaled`, twice in a row in one process: 56.7 % then 60.0 %).

Writes `bench/out/fix_repair.md` and `bench/out/fix_repair.json`.

Usage:
    python bench/fix_repair.py                      # every case, budget "standard"
    python bench/fix_repair.py --only lr_too --budget quick
    python bench/fix_repair.py --no-healthy
    python bench/fix_repair.py --max-runs 6         # another bound on candidate runs
    python bench/fix_repair.py --one-process        # every case in this process, in turn
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import plain_fit, warm_up  # noqa: E402  (bench/run.py: one timing protocol)

CASES_DIR = HERE / "cases"
OUT_DIR = HERE / "out"
WITHIN_PP = 0.03
FIT_REPEATS = 3  # plain fits timed before each fix, their median the unit of its cost


def declared(path: Path) -> dict[str, Any]:
    """The `EXPECTED` and `TWIN` literals of a case file, read without running it."""
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in ("EXPECTED", "TWIN"):
                values[name] = ast.literal_eval(node.value)
    return values


def within(after: dict[str, Any], twin: dict[str, Any], regression: bool) -> bool:
    """Whether the fixed setup is as good as the twin, give or take 3 points (of R² for
    regression)."""
    key = "val_r2" if regression else "val_accuracy"
    return after[key] >= twin[key] - WITHIN_PP


def with_r2(scores: dict[str, Any], setup: Any, rows: Any = None) -> dict[str, Any]:
    """`scores` plus `val_r2` = 1 - MSE / Var(y_val) for a regression setup compiled with MSE,
    the variance taken over the validation `rows` the scores were measured on (all: None)."""
    import numpy as np

    from fitdoctor.fix.evaluate import original_loss
    from fitdoctor.keras_vocab import loss_name

    if setup.task.kind != "regression":
        return scores
    if loss_name(original_loss(setup)) not in ("mse", "mean_squared_error"):
        raise ValueError(f"{setup.source}: the regression benchmark compares R², so it needs MSE")
    y = np.asarray(setup.y_val, dtype="float64")
    variance = float(np.var(y if rows is None else y[rows]))
    return {**scores, "val_r2": 1.0 - scores["val_loss"] / variance}


def run_case(path: Path, budget: str, seed: int, max_runs: int | None = None) -> dict[str, Any]:
    import fitdoctor
    from fitdoctor.fix.evaluate import Halves, original_loss, split_validation, train_and_score

    info = declared(path)
    setup = fitdoctor.load_setup(path, seed=seed)
    # the fault benchmark's protocol, side by side; the median of three, as one fit in this
    # process can take twice another's
    fit_seconds, _ = plain_fit(setup, seed, repeats=FIT_REPEATS)
    start = time.perf_counter()
    result = fitdoctor.fix(setup=setup, budget=budget, seed=seed, max_runs=max_runs,
                           out=OUT_DIR / "fixes" / path.stem)
    seconds = time.perf_counter() - start
    # fix reports before/after on the validation rows no decision saw; the twin is scored there
    halves = split_validation(setup, seed)
    held = None if halves is None else halves.held_back
    row: dict[str, Any] = {
        "case": path.stem,
        "expected": info.get("EXPECTED", []),
        "diagnosis": result.report.ids(),
        "regression": setup.task.kind == "regression",
        "before": with_r2(dict(result.before), setup, held),
        "after": with_r2(dict(result.after), setup, held),
        "claimed_gain": result.validation.get("claimed_gain"),
        "held_back_gain": result.validation.get("held_back_gain"),
        "held_back_gain_se": result.validation.get("held_back_gain_se"),
        "held_back_rows": result.validation.get("rows_held_back"),
        "applied": list(result.applied),
        "fix_seconds": round(seconds, 1),
        "plain_fit_seconds": round(fit_seconds, 3),
    }
    row["fix_over_fit"] = round(seconds / max(row["plain_fit_seconds"], 1e-9), 1)
    row["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    twin_name = info.get("TWIN")
    if twin_name and (CASES_DIR / twin_name).exists():
        twin_setup = fitdoctor.load_setup(CASES_DIR / twin_name, seed=seed)
        same_rows = held is not None and len(twin_setup.y_val) == len(setup.y_val)
        # the twin's whole validation data reports: no decision was made on it
        twin_halves = Halves(held, held) if same_rows else None
        twin = train_and_score(twin_setup, result.seeds, original_loss(twin_setup), twin_halves)
        row["twin"] = with_r2(twin.summary(), twin_setup, held if same_rows else None)
        row["within"] = within(row["after"], row["twin"], row["regression"])
    else:
        score_key = "val_r2" if row["regression"] else "val_accuracy"
        better = row["after"][score_key] >= row["before"][score_key]
        row["not_worse"] = bool(better)
    return row


def _fmt(value: Any, regression: bool) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    if regression:
        return f"R² {value:.3f}" if value > -1e6 else "R² < -1e6"
    return f"{value:.1%}"


def _cost(row: dict[str, Any]) -> str:
    """The fix's time over one plain fit, with both in seconds."""
    return (f"{row['fix_over_fit']}x ({row['fix_seconds']:.1f} s, "
            f"{row['plain_fit_seconds']:.2f} s)")


def _gains(row: dict[str, Any]) -> str:
    """`claimed | held back ± se`, in accuracy points or % of the loss (fix's own units)."""
    from fitdoctor.fix.records import points_text

    reference = row["before"].get("chosen_on", row["before"]).get("score", math.nan)

    def text(key: str, signed: bool = True) -> str:
        value = row.get(key)
        if value is None or not math.isfinite(value):
            return "–"
        return points_text(value, reference, regression=row["regression"], signed=signed)
    held = text("held_back_gain")
    if row.get("held_back_gain_se") is not None:
        held += f" ± {text('held_back_gain_se', signed=False)}"
    return f"{text('claimed_gain')} | {held}"


def markdown(rows: list[dict[str, Any]], budget: str, max_runs: int | None = None) -> str:
    bound = "" if max_runs is None else f", at most {max_runs} candidate runs"
    faulty = [r for r in rows if "twin" in r]
    healthy = [r for r in rows if "not_worse" in r]
    lines = [f"Budget `{budget}`{bound}. Score: val accuracy (val R² for regression).", "",
             "| case | diagnosis | before | after | twin | within 3 pp | applied "
             "| gain claimed | gain held back | fix time / fit (fix s, fit s) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in faulty:
        key = "val_r2" if r["regression"] else "val_accuracy"
        lines.append(
            f"| {r['case']} | {', '.join(r['diagnosis'][:3]) or '–'} | "
            f"{_fmt(r['before'][key], r['regression'])} | "
            f"{_fmt(r['after'][key], r['regression'])} | "
            f"{_fmt(r['twin'][key], r['regression'])} | {'yes' if r['within'] else 'no'} | "
            f"{', '.join(r['applied']) or '–'} | {_gains(r)} | {_cost(r)} |"
        )
    for r in healthy:
        key = "val_r2" if r["regression"] else "val_accuracy"
        lines.append(
            f"| {r['case']} (healthy) | {', '.join(r['diagnosis'][:3]) or '–'} | "
            f"{_fmt(r['before'][key], r['regression'])} | "
            f"{_fmt(r['after'][key], r['regression'])} | "
            f"– | {'not worse' if r['not_worse'] else 'WORSE'} | "
            f"{', '.join(r['applied']) or '–'} | {_gains(r)} | {_cost(r)} |"
        )
    if faulty:
        hit = sum(r["within"] for r in faulty)
        lines += ["", f"Faulty setups within 3 pp of their twin after fix: {hit}/{len(faulty)} "
                      f"({hit / len(faulty):.0%})."]
    if healthy:
        ok = sum(r["not_worse"] for r in healthy)
        lines.append(f"Healthy setups unchanged or better: {ok}/{len(healthy)}.")
    ratios = [r["fix_over_fit"] for r in rows]
    if ratios:
        lines.append(f"Fix time / plain fit: median {statistics.median(ratios):.1f}x, "
                     f"max {max(ratios):.1f}x over {len(ratios)} cases.")
    kept = [r for r in rows if r["applied"] and r.get("held_back_gain") is not None]
    if kept:
        gap = [r["claimed_gain"] - r["held_back_gain"] for r in kept if not r["regression"]]
        if gap:
            lines.append(f"Where fix kept a change (classification, {len(gap)} cases), the "
                         f"claimed gain exceeds the held-back gain by a median of "
                         f"{100 * statistics.median(gap):+.1f} points.")
    return "\n".join(lines) + "\n"


def in_own_process(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """`run_case` for `path` in a fresh Python process (this script with `--case`)."""
    with tempfile.TemporaryDirectory(prefix="fix-repair-") as tmp:
        row_out = Path(tmp) / "row.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--case", str(path),
                   "--row-out", str(row_out), "--budget", args.budget, "--seed", str(args.seed)]
        if args.max_runs is not None:
            command += ["--max-runs", str(args.max_runs)]
        done = subprocess.run(command, check=False)
        if done.returncode != 0 or not row_out.exists():
            raise RuntimeError(f"{path.stem}: the case's process exited with {done.returncode}")
        return json.loads(row_out.read_text(encoding="utf-8"))


def _write(rows: list[dict], budget: str, max_runs: int | None = None) -> str:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    text = markdown(rows, budget, max_runs)
    (OUT_DIR / "fix_repair.md").write_text(text, encoding="utf-8")
    (OUT_DIR / "fix_repair.json").write_text(json.dumps(rows, indent=2, default=str) + "\n",
                                             encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="standard")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", action="append", default=[],
                        help="run only cases whose name contains this (repeatable)")
    parser.add_argument("--no-healthy", action="store_true", help="skip the healthy cases")
    parser.add_argument("--max-runs", type=int, default=None,
                        help="bound on fix's candidate runs instead of the budget's")
    parser.add_argument("--one-process", action="store_true",
                        help="run every case in this process, one after another, instead of "
                             "each in a fresh process")
    parser.add_argument("--case", type=Path, help=argparse.SUPPRESS)  # a child: this case only
    parser.add_argument("--row-out", type=Path, help=argparse.SUPPRESS)  # ... its row, as JSON
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.case is not None:
        warm_up()
        row = run_case(args.case, args.budget, args.seed, args.max_runs)
        args.row_out.write_text(json.dumps(row, default=str), encoding="utf-8")
        return 0
    if args.one_process:
        warm_up()
    rows, failures = [], []
    text = _write(rows, args.budget, args.max_runs)
    for path in sorted(CASES_DIR.glob("*.py")):
        info = declared(path)
        if "EXPECTED" not in info or (args.only and not any(o in path.stem for o in args.only)):
            continue
        if not info["EXPECTED"] and args.no_healthy:
            continue
        if info["EXPECTED"] and not info.get("TWIN"):
            continue
        print(f"· {path.stem}", file=sys.stderr, flush=True)
        try:
            rows.append(run_case(path, args.budget, args.seed, args.max_runs)
                        if args.one_process else in_own_process(path, args))
        except Exception:
            failures.append(path.stem)
            traceback.print_exc()
        # after every case: an interrupted run keeps its rows
        text = _write(rows, args.budget, args.max_runs)
    print(text)
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
