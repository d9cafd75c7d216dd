"""Whether measuring fewer batches per epoch in the probe run's `Monitor` changes a diagnosis.

`quick` measures one batch an epoch (`Budget.monitor_samples`), where it measured two. For
every case in `bench/cases/`, this diagnoses the setup on `quick` as it is and on `quick`
with two batches an epoch, and compares the ranked findings' ids and severities (the
numbers the Monitor measures differ; `fix` reads none of them, so equal findings mean equal
remedies tried in the same order). Writes `bench/out/monitor_samples.json` and prints one
line a case, then how many are the same.

Usage:
    python bench/monitor_samples.py
    python bench/monitor_samples.py --only dead_relu --only batch_too_small
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="part of a case's name")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import fitdoctor
    from fitdoctor.budget import get_budget

    quick = get_budget("quick")
    budgets = {"one": quick, "two": dataclasses.replace(quick, monitor_samples=2)}
    rows = []
    for path in sorted((HERE / "cases").glob("*.py")):
        if path.name.startswith("_") or (args.only and not any(o in path.stem for o in args.only)):
            continue
        row: dict = {"case": path.stem}
        try:
            for label, budget in budgets.items():
                start = time.perf_counter()
                report = fitdoctor.diagnose(setup=fitdoctor.load_setup(path, seed=0),
                                            budget=budget, seed=0)
                row[label] = [[f.id, f.severity.value] for f in report.findings]
                row[f"{label}_s"] = round(time.perf_counter() - start, 2)
            row["same"] = row["one"] == row["two"]
        except Exception as exc:  # one broken case never stops the comparison
            row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
        print(f"{row['case']}: {'same' if row.get('same') else row.get('error', 'DIFFERENT')}",
              flush=True)
    out = HERE / "out" / "monitor_samples.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    print(f"same findings: {sum(bool(r.get('same')) for r in rows)} of {len(rows)} cases")


if __name__ == "__main__":
    main()
