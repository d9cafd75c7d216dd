"""What `fitdoctor fix --workers N` saves against one process, as whole processes, side by side.

For each case it runs, alternating, `python -m fitdoctor.cli fix CASE --budget B --out DIR
--json fix.json` with one process and with `--workers N` (a fresh journal file each time), and
reports the median wall time of each, their ratio, and whether both kept the same remedies from
the same runs (the decisions must not depend on the number of workers).

Writes `bench/out/fix_workers.md` and `bench/out/fix_workers.json`.

Usage:
    python bench/fix_workers.py                                   # the default cases, 2 workers
    python bench/fix_workers.py --only lr_too_high_sgd_digits --workers 2 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from provenance import commit, machine, table_head  # noqa: E402  (bench/provenance.py)

CASES_DIR = HERE / "cases"
OUT_DIR = HERE / "out"
#: Setups with several remedies to screen, where helpers have runs to take.
DEFAULT_CASES = ("lr_too_high_sgd_digits", "unscaled_inputs_breast_cancer_raw")


def run_fix(case: Path, budget: str, workers: int, folder: Path) -> tuple[float, dict]:
    """Wall seconds of one `fitdoctor fix` process on `case`, and its fix.json."""
    out = folder / f"out-{workers}"
    args = [sys.executable, "-m", "fitdoctor.cli", "fix", str(case), "--budget", budget,
            "--out", str(out), "--quiet"]
    if workers > 1:
        args += ["--workers", str(workers), "--storage", str(folder / f"runs-{workers}.journal")]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, json.loads((out / "fix.json").read_text())


def decisions(data: dict) -> tuple:
    """What a fix decided, from its fix.json: the remedies kept and each record's verdict."""
    return (tuple(data["applied"]),
            tuple((r["label"], r["stage"], r["status"]) for r in data["remedies"]))


def run_case(name: str, *, budget: str, workers: int, repeats: int) -> dict[str, Any]:
    case = CASES_DIR / f"{name}.py"
    times: dict[int, list[float]] = {1: [], workers: []}
    same = True
    for _ in range(repeats):
        made = {}
        for n in (1, workers):
            with tempfile.TemporaryDirectory(prefix="fitdoctor-fix-workers-") as folder:
                seconds, data = run_fix(case, budget, n, Path(folder))
            times[n].append(seconds)
            made[n] = decisions(data)
            sys.stderr.write(f"  {name}, {n} worker(s): {seconds:.1f} s, kept "
                             f"{list(data['applied'])}\n")
        same = same and made[1] == made[workers]
    one, many = statistics.median(times[1]), statistics.median(times[workers])
    return {"case": name, "budget": budget, "workers": workers, "seconds_one": times[1],
            "seconds_many": times[workers], "median_one_s": one, "median_many_s": many,
            "speed_up": one / many, "same_decisions": same}


def markdown(rows: list[dict], meta: dict) -> str:
    lines = table_head(meta, ["case", "budget", "1 process s:", "N processes s:", "N:",
                              "speed-up:", "same decisions"])
    for r in rows:
        lines.append(f"| {r['case']} | {r['budget']} | {r['median_one_s']:.1f} | "
                     f"{r['median_many_s']:.1f} | {r['workers']} | {r['speed_up']:.2f}x | "
                     f"{'yes' if r['same_decisions'] else 'NO'} |")
    return "\n".join(lines) + "\n"



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="case name (repeatable)")
    parser.add_argument("--budget", default="quick", choices=("quick", "standard", "thorough"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.workers < 2 or args.repeats < 1:
        parser.error(f"--workers must be at least 2 and --repeats at least 1. Received: "
                     f"--workers={args.workers}, --repeats={args.repeats}")
    names = args.only or list(DEFAULT_CASES)
    missing = [n for n in names if not (CASES_DIR / f"{n}.py").exists()]
    if missing:
        parser.error(f"no such case in {CASES_DIR}: {', '.join(missing)}")
    meta = {"commit": commit(), "repeats": args.repeats, "machine": machine()}
    OUT_DIR.mkdir(exist_ok=True)
    rows = []
    for name in names:
        sys.stderr.write(f"{name}...\n")
        rows.append(run_case(name, budget=args.budget, workers=args.workers,
                             repeats=args.repeats))
        (OUT_DIR / "fix_workers.json").write_text(json.dumps({"meta": meta, "cases": rows},
                                                             indent=2))
        table = markdown(rows, meta)
        (OUT_DIR / "fix_workers.md").write_text(table)
    sys.stdout.write(table)


if __name__ == "__main__":
    main()
