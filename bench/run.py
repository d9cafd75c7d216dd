"""The fault benchmark: does `diagnose` name the injected fault, and what does it cost?

Every `bench/cases/*.py` is an ordinary fitdoctor setup file (`load_data()`, `build_model()`,
`FIT`) that also declares, as literals:

- `EXPECTED = ["finding_id", ...]`: the injected fault's ids. The fault counts as found when any
  of them is among the top 3 problem (critical or warning) findings. `EXPECTED = []` marks a
  healthy setup: any problem finding there is a false alarm.
- `TWIN = "healthy_case.py"` (faulty cases only): the healthy setup the fault was injected into.
- `NUMPY_TWIN = "case.py"` (optional, for cases that feed `fit` a stream, several inputs, a
  script or a model instance): the same setup as plain arrays. Its first finding must be the
  case's first finding (`same_first` in the table).

For each case the runner times one plain fit (a fresh model from `build_model()` under the same
seed, the user's `FIT`, the validation data, `verbose=0`) and then one `fitdoctor.diagnose` at
the chosen budget, side by side in the same process. Timing protocol: one untimed warm-up fit at
start-up pays TensorFlow's one-off start costs (runtime and kernel initialisation); after that
each timed fit, in the plain run as in diagnose's probes, pays its own model's graph tracing, as
a user's fit would. Cases run one after another: timings need a quiet machine.

Writes `bench/out/bench.md` (the Markdown table and summary, to paste into BENCHMARK.md),
`bench/out/bench.json` and one report per case under `bench/out/reports/`, rewritten after every
case so an interrupted run keeps what it measured. When
`bench/monitor_overhead.py` exists it is run last and its Markdown row is appended.

Usage:
    python bench/run.py                          # every case, budget "standard"
    python bench/run.py --only lr_too --only healthy_digits
    python bench/run.py --budget quick --no-monitor-overhead
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from provenance import commit  # noqa: E402  (bench/provenance.py)

CASES_DIR = HERE / "cases"
OUT_DIR = HERE / "out"
MONITOR_OVERHEAD = HERE / "monitor_overhead.py"
TOP_K = 3


@dataclasses.dataclass(frozen=True)
class Case:
    """One benchmark setup file and what it declares.

    Args:
        name: File stem, e.g. `"lr_too_high_sgd_digits"`.
        path: The setup file.
        expected: Ids of the injected fault; empty for a healthy setup.
        twin: File name of the healthy twin (faulty cases), else None.
        numpy_twin: File name of the same setup fed as arrays, else None.
    """

    name: str
    path: Path
    expected: tuple[str, ...]
    twin: str | None
    numpy_twin: str | None = None

    @property
    def healthy(self) -> bool:
        return not self.expected


def read_declarations(path: Path) -> dict[str, Any]:
    """Read the literal module-level `EXPECTED` and `TWIN` of a case file without running it.

    Raises:
        ValueError: `EXPECTED` is missing or either is not a literal of the right type.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("EXPECTED", "TWIN", "NUMPY_TWIN"):
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    raise ValueError(f"{path.name}: {target.id} must be a literal") from None
    if "EXPECTED" not in found:
        raise ValueError(f"{path.name}: no module-level EXPECTED = [...] list")
    expected = found["EXPECTED"]
    if not isinstance(expected, list) or not all(isinstance(e, str) for e in expected):
        raise ValueError(f"{path.name}: EXPECTED must be a list of finding ids. "
                         f"Received: EXPECTED={expected!r}")
    twin = found.get("TWIN")
    if twin is not None and not isinstance(twin, str):
        raise ValueError(f"{path.name}: TWIN must be a file name. Received: TWIN={twin!r}")
    numpy_twin = found.get("NUMPY_TWIN")
    if numpy_twin is not None and not isinstance(numpy_twin, str):
        raise ValueError(f"{path.name}: NUMPY_TWIN must be a file name. "
                         f"Received: NUMPY_TWIN={numpy_twin!r}")
    return {"EXPECTED": expected, "TWIN": twin, "NUMPY_TWIN": numpy_twin}


def discover(only: list[str] | None = None, cases_dir: Path = CASES_DIR) -> list[Case]:
    """The benchmark cases, sorted by name; files starting with `_` are helpers, not cases.

    Args:
        only: Keep cases whose name contains any of these substrings. Defaults to all.
        cases_dir: Folder of case files. Defaults to `bench/cases`.
    """
    cases = []
    for path in sorted(cases_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        if only and not any(part in path.stem for part in only):
            continue
        declared = read_declarations(path)
        cases.append(Case(path.stem, path, tuple(declared["EXPECTED"]), declared["TWIN"],
                          declared["NUMPY_TWIN"]))
    return cases


def warm_up() -> None:
    """Fit a throwaway model once so TensorFlow's one-off start-up costs are not timed."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, validation_data=(x, y), epochs=2, batch_size=16, verbose=0)


@contextlib.contextmanager
def as_keras_alone() -> Iterator[None]:
    """Runs through `Setup.train`, inside this block, train as Keras alone runs the user's
    `fit`: Keras creates the optimizer's and metrics' variables inside the first trace of the
    training step, and so traces it twice, where `Setup.train` creates them first
    (`keras_vocab.build_training_state`). That saving is fitdoctor's, not the user's."""
    import fitdoctor.setup

    with mock.patch.object(fitdoctor.setup, "build_training_state", lambda *args: False):
        yield


def plain_fit(setup: Any, seed: int, repeats: int = 1) -> tuple[float, dict[str, float]]:
    """Time a fit of a fresh model as the user runs it (their data as they feed it, through
    `Setup.train`, as Keras alone runs it: `as_keras_alone`), `repeats` times on the same
    seed. Returns (median seconds, the first run's last-epoch logs). The unit of cost is the
    user's own fit."""
    with as_keras_alone():
        runs = [setup.train(seed) for _ in range(repeats)]
    final = {k: float(v[-1]) for k, v in runs[0].history.items() if v}
    return statistics.median(run.seconds for run in runs), final


def run_case(case: Case, *, budget: str, seed: int, reports_dir: Path | None) -> dict[str, Any]:
    """Fit and diagnose one case; never raises (an error becomes the row's `error`)."""
    import fitdoctor

    row: dict[str, Any] = {
        "case": case.name, "expected": list(case.expected), "twin": case.twin,
        "healthy": case.healthy, "top3": [], "problems": [], "found": None,
        "false_alarms": [], "check_failed": [], "plain_fit_s": None, "diagnose_s": None,
        "ratio": None, "plain_fit_final": {}, "error": None, "first": None, "hit1": None,
        "numpy_twin": case.numpy_twin, "twin_first": None, "same_first": None,
    }
    try:
        setup = fitdoctor.load_setup(case.path, seed=seed)
        row["plain_fit_s"], row["plain_fit_final"] = plain_fit(setup, seed)
        start = time.perf_counter()
        report = fitdoctor.diagnose(setup=setup, budget=budget, seed=seed)
        row["diagnose_s"] = time.perf_counter() - start
    except Exception as exc:  # one broken case never stops the benchmark
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc()
        return row
    problems = report.ids()
    row["problems"] = problems
    row["top3"] = problems[:TOP_K]
    row["findings"] = [
        {"id": f.id, "severity": f.severity.value, "role": f.role.value, "title": f.title}
        for f in report.findings
    ]
    row["check_failed"] = [
        f"{f.evidence.get('check')}: {f.evidence.get('reason')}"
        for f in report.findings if f.id == "check_failed"
    ]
    if case.healthy:
        row["false_alarms"] = problems
    else:
        row["found"] = any(e in row["top3"] for e in case.expected)
        row["first"] = problems[0] if problems else None
        row["hit1"] = row["first"] in case.expected
    if case.numpy_twin:
        try:
            twin = fitdoctor.load_setup(case.path.parent / case.numpy_twin, seed=seed)
            twin_ids = fitdoctor.diagnose(setup=twin, budget=budget, seed=seed).ids()
            row["twin_first"] = twin_ids[0] if twin_ids else None
            row["same_first"] = row["twin_first"] == (problems[0] if problems else None)
        except Exception as exc:
            row["twin_first"] = f"error: {type(exc).__name__}: {exc}"
            row["same_first"] = False
    row["ratio"] = row["diagnose_s"] / row["plain_fit_s"] if row["plain_fit_s"] else None
    row["timings"] = dict(report.timings)
    if reports_dir is not None:
        reports_dir.mkdir(parents=True, exist_ok=True)
        report.to_json(reports_dir / f"{case.name}.json")
    return row


def run_monitor_overhead(timeout_s: int = 900) -> dict[str, Any] | None:
    """Run `bench/monitor_overhead.py` when it exists; return its Markdown rows and output."""
    if not MONITOR_OVERHEAD.exists():
        return None
    try:
        done = subprocess.run([sys.executable, str(MONITOR_OVERHEAD)], capture_output=True,
                              text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return {"rows": [], "returncode": None, "error": f"timed out after {timeout_s} s"}
    rows = [line for line in done.stdout.splitlines() if line.lstrip().startswith("|")]
    error = None if done.returncode == 0 else done.stderr.strip().splitlines()[-1:] or ["failed"]
    return {"rows": rows, "returncode": done.returncode, "stdout": done.stdout,
            "error": error[0] if error else None}


def _fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _fmt_ids(ids: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids) if ids else "—"


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and ratios over the rows (errors excluded from the ratios, counted apart)."""
    faulty = [r for r in rows if not r["healthy"]]
    healthy = [r for r in rows if r["healthy"]]
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None and math.isfinite(r["ratio"])]
    return {
        "faults": len(faulty),
        "faults_found": sum(1 for r in faulty if r["found"]),
        "faults_first": sum(1 for r in faulty if r.get("hit1")),
        "numpy_twins": sum(1 for r in rows if r.get("numpy_twin")),
        "numpy_twins_same_first": sum(1 for r in rows if r.get("same_first")),
        "healthy": len(healthy),
        "healthy_with_false_alarms": sum(1 for r in healthy if r["false_alarms"]),
        "false_alarm_findings": sum(len(r["false_alarms"]) for r in healthy),
        "errors": sum(1 for r in rows if r["error"]),
        "ratio_median": statistics.median(ratios) if ratios else None,
        "ratio_max": max(ratios) if ratios else None,
    }


def render_markdown(rows: list[dict[str, Any]], summary: dict[str, Any], meta: dict[str, Any],
                    monitor: dict[str, Any] | None) -> str:
    """The benchmark as Markdown: one row per case, then the summary (and Monitor overhead)."""
    lines = [
        f"Commit {meta.get('commit', 'unknown')}, budget `{meta['budget']}`, seed {meta['seed']}; "
        f"{meta['machine']}; "
        f"TensorFlow {meta['tensorflow']}, Keras {meta['keras']}; "
        f"load average {meta['load_before']} before, {meta['load_after']} after.",
        "",
        "| case | expected | top 3 problem findings | found | first | false alarms "
        "| NumPy twin first | plain fit s | diagnose s | diagnose / fit |",
        "|---|---|---|---|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        if r["error"]:
            found = "error"
            top3 = f"error: {r['error'][:120]}"
        else:
            found = "—" if r["healthy"] else ("yes" if r["found"] else "**no**")
            top3 = _fmt_ids(r["top3"])
        alarms = _fmt_ids(r["false_alarms"]) if r["healthy"] else "n/a"
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.1f}x"
        expected = _fmt_ids(r["expected"]) if r["expected"] else "healthy"
        first = "—" if r["healthy"] or r["error"] else ("yes" if r.get("hit1") else "no")
        same = "same" if r.get("same_first") else "differs"
        twin = ("—" if not r.get("numpy_twin")
                else f"{_fmt_ids([str(r.get('twin_first'))])} ({same})")
        lines.append(f"| {r['case']} | {expected} | {top3} | {found} | {first} | {alarms} "
                     f"| {twin} | {_fmt_s(r['plain_fit_s'])} | {_fmt_s(r['diagnose_s'])} "
                     f"| {ratio} |")
    s = summary
    ratio_text = ("—" if s["ratio_median"] is None
                  else f"median {s['ratio_median']:.1f}x, max {s['ratio_max']:.1f}x")
    lines += [
        "",
        f"- Faults found in the top {TOP_K} (hit@3): **{s['faults_found']}/{s['faults']}**; "
        f"first (hit@1): **{s['faults_first']}/{s['faults']}**",
        f"- Stream / script / instance cases whose NumPy twin gives the same first finding: "
        f"**{s['numpy_twins_same_first']}/{s['numpy_twins']}**",
        f"- Healthy setups with a false alarm: **{s['healthy_with_false_alarms']}/{s['healthy']}** "
        f"({s['false_alarm_findings']} problem findings in all)",
        f"- Diagnose time / plain fit time: {ratio_text}",
        f"- Cases that raised: {s['errors']}",
    ]
    if monitor is not None:
        lines += ["", "Monitor overhead (`bench/monitor_overhead.py`):", ""]
        lines += monitor["rows"] or [f"(no Markdown row; {monitor.get('error') or 'no output'})"]
    return "\n".join(lines) + "\n"


def _machine() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark from the command line. Returns the exit code (0 unless nothing ran)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only cases whose name contains NAME (repeatable)")
    parser.add_argument("--budget", default="standard", choices=("quick", "standard", "thorough"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (bench/out)")
    parser.add_argument("--no-monitor-overhead", action="store_true",
                        help="skip bench/monitor_overhead.py")
    args = parser.parse_args(argv)

    cases = discover(args.only)
    if not cases:
        print(f"no cases match {args.only} in {CASES_DIR}", file=sys.stderr)
        return 1
    import keras
    import tensorflow as tf

    meta = {
        "budget": args.budget, "seed": args.seed, "machine": _machine(),
        "python": platform.python_version(), "tensorflow": tf.__version__,
        "keras": keras.__version__, "commit": commit(), "load_before": _load(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    warm_up()
    rows = []
    for i, case in enumerate(cases, 1):
        print(f"[{i}/{len(cases)}] {case.name} ...", file=sys.stderr, flush=True)
        row = run_case(case, budget=args.budget, seed=args.seed,
                       reports_dir=args.out / "reports")
        status = row["error"] or (f"top3={row['top3']} fit={_fmt_s(row['plain_fit_s'])}s "
                                  f"diagnose={_fmt_s(row['diagnose_s'])}s")
        print(f"    {status}", file=sys.stderr, flush=True)
        rows.append(row)
        write_outputs(args.out, rows, meta, None)  # an interrupted run keeps what it measured
    monitor = None
    if not args.no_monitor_overhead:
        print("monitor overhead ...", file=sys.stderr, flush=True)
        monitor = run_monitor_overhead()
    print(write_outputs(args.out, rows, meta, monitor))
    return 0


def write_outputs(out: Path, rows: list[dict[str, Any]], meta: dict[str, Any],
                  monitor: dict[str, Any] | None) -> str:
    """Write `bench.md` and `bench.json` for the rows so far; return the Markdown."""
    meta = {**meta, "load_after": _load()}
    summary = summarize(rows)
    markdown = render_markdown(rows, summary, meta, monitor)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.md").write_text(markdown, encoding="utf-8")
    payload = {"meta": meta, "summary": summary, "cases": rows, "monitor_overhead": monitor}
    (out / "bench.json").write_text(json.dumps(payload, indent=2, default=str) + "\n",
                                    encoding="utf-8")
    return markdown



def _load() -> str:
    try:
        return "/".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


if __name__ == "__main__":
    sys.exit(main())
