"""What `fitdoctor diagnose` costs against the user's own fit, at real sizes, as whole processes.

For each case the runner writes an ordinary setup file (`load_data()`, `build_model()`, `FIT`)
and the user's own training script beside it, then times, side by side and alternating:

- the plain fit: `python train.py` (load the data, build the model, `model.fit(...)` with the
  setup's `FIT` and validation data, `verbose=0`), as the user runs it;
- the diagnosis: `python -m fitdoctor.cli diagnose setup.py --budget B --json report.json`.

Both are whole processes, so both pay Python's and TensorFlow's start-up and the data loading.
The ratio is diagnose ÷ plain fit, the median over `--repeats` paired runs; the per-probe
seconds are the medians of the report's timings (`probe:*`; probes run beside training overlap
the probe run, so they do not add up to the total).

Cases (`--only` picks some by name; `--list` shows them):

- `tabular_1k`, `tabular_10k`, `tabular_100k`, `tabular_1m`: a synthetic binary table of 30
  features (a linear rule with a non-linear term and logistic noise, 20 % more rows held out for
  validation), an MLP 64-64, 10 epochs, batch size growing with the rows (32 to 1024);
- `mnist_10k`: the 10,000 MNIST test digits from `/work/shared/data/mnist-t10k` (8,000 train,
  2,000 validation), 784 pixels into an MLP of 128 units, 10 epochs, batch 32;
- `catsdogs`: the cats/dogs photos through `--data` (`/work/shared/data/catsdogs64`, 64x64),
  fitdoctor's default small CNN, 10 epochs; the plain fit trains the same model on the same
  arrays.

Writes `bench/out/scaling.md` (the Markdown table, to paste into BENCHMARK.md) and
`bench/out/scaling.json`, rewritten after every case.

Usage:
    python bench/scaling.py                                   # every case, standard, 3 repeats
    python bench/scaling.py --only tabular_1k --only tabular_10k --repeats 1
    python bench/scaling.py --budget quick --budget standard
    python bench/scaling.py --only mnist_10k --budget quick --thread-too   # forked vs thread
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from provenance import commit, machine, table_head  # noqa: E402  (bench/provenance.py)

OUT_DIR = HERE / "out"
DATA = Path(os.environ.get("FITDOCTOR_BENCH_DATA", "/work/shared/data"))

_TABULAR = """
import keras
import numpy as np

ROWS = {rows}
FIT = {{"epochs": 10, "batch_size": {batch}}}


def load_data():
    rng = np.random.default_rng(0)
    n = ROWS + ROWS // 5
    x = rng.normal(size=(n, 30)).astype("float32")
    logits = x @ rng.normal(size=30) + 2.0 * np.sin(3.0 * x[:, 0]) + rng.logistic(size=n)
    y = (logits > 0).astype("int64")
    return (x[:ROWS], y[:ROWS]), (x[ROWS:], y[ROWS:])


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(30,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model
"""

_MNIST = """
import gzip

import keras
import numpy as np

FOLDER = {folder!r}
FIT = {{"epochs": 10, "batch_size": 32}}


def load_data():
    with gzip.open(FOLDER + "/t10k-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(FOLDER + "/t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype("int64")
    x = x.astype("float32") / 255.0
    return (x[:8000], y[:8000]), (x[8000:], y[8000:])


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
"""

_TRAIN = """
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from setup import FIT, build_model, load_data

(x, y), (x_val, y_val) = load_data()
build_model().fit(x, y, validation_data=(x_val, y_val), verbose=0, **FIT)
"""

_TRAIN_PHOTOS = """
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from fitdoctor.loaders import setup_from_images

setup = setup_from_images({folder!r}, image_size=(64, 64), fit={fit!r})
setup.build_model().fit(setup.x_train, setup.y_train, validation_data=(setup.x_val, setup.y_val),
                        verbose=0, **setup.fit_kwargs())
"""

PHOTO_FIT = {"epochs": 10, "batch_size": 32}


def cases() -> dict[str, dict[str, Any]]:
    """Each case: what it is, the files to write, and the diagnose arguments."""
    out: dict[str, dict[str, Any]] = {}
    for label, rows, batch in (("1k", 1_000, 32), ("10k", 10_000, 64), ("100k", 100_000, 256),
                               ("1m", 1_000_000, 1024)):
        out[f"tabular_{label}"] = {
            "what": f"{rows:,} x 30 synthetic table, MLP 64-64, 10 epochs, batch {batch}",
            "files": {"setup.py": _TABULAR.format(rows=rows, batch=batch), "train.py": _TRAIN},
            "diagnose": ["setup.py"],
        }
    out["mnist_10k"] = {
        "what": "10,000 MNIST digits (784 pixels), MLP 128, 10 epochs, batch 32",
        "files": {"setup.py": _MNIST.format(folder=str(DATA / "mnist-t10k")), "train.py": _TRAIN},
        "diagnose": ["setup.py"],
    }
    photos = str(DATA / "catsdogs64")
    out["catsdogs"] = {
        "what": "2,199 cats/dogs photos 64x64 through --data, default CNN, 10 epochs, batch 32",
        "files": {"train.py": _TRAIN_PHOTOS.format(folder=photos, fit=PHOTO_FIT)},
        "diagnose": ["--data", photos, "--image-size", "64", "--epochs",
                     str(PHOTO_FIT["epochs"])],
    }
    return out


#: The label of a budget run with the CPU-only probes in a thread (`--thread-too`).
IN_A_THREAD = " (probes in a thread)"


def _run(args: list[str], cwd: Path, extra_env: dict[str, str] | None = None) -> float:
    """Wall seconds of one whole process; raises with its stderr's tail when it fails."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0", **(extra_env or {}))
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds


def run_case(name: str, case: dict[str, Any], *, budgets: list[str], repeats: int) -> dict:
    """Time the plain fit and each budget's diagnosis `repeats` times, alternating."""
    with tempfile.TemporaryDirectory(prefix=f"scaling-{name}-") as tmp:
        folder = Path(tmp)
        for file, text in case["files"].items():
            (folder / file).write_text(textwrap.dedent(text).lstrip())
        plain: list[float] = []
        diagnosed: dict[str, list[float]] = {b: [] for b in budgets}
        probes: dict[str, dict[str, list[float]]] = {b: {} for b in budgets}
        for _ in range(repeats):
            plain.append(_run([sys.executable, "train.py"], folder))
            for budget in budgets:
                report = folder / "report.json"
                threaded = budget.endswith(IN_A_THREAD)
                diagnosed[budget].append(_run(
                    [sys.executable, "-m", "fitdoctor.cli", "diagnose", *case["diagnose"],
                     "--budget", budget.removesuffix(IN_A_THREAD), "--seed", "0",
                     "--json", str(report)], folder,
                    {"FITDOCTOR_FORK_PROBES": "0"} if threaded else None))
                timings = json.loads(report.read_text()).get("timings", {})
                for key, seconds in timings.items():
                    probes[budget].setdefault(key, []).append(float(seconds))
    plain_s = statistics.median(plain)
    result: dict[str, Any] = {"name": name, "what": case["what"], "plain_s": plain,
                              "plain_median_s": plain_s, "budgets": {}}
    for budget in budgets:
        ratios = [d / p for d, p in zip(diagnosed[budget], plain, strict=True)]
        result["budgets"][budget] = {
            "diagnose_s": diagnosed[budget],
            "diagnose_median_s": statistics.median(diagnosed[budget]),
            "ratio_median": statistics.median(ratios),
            "probe_median_s": {k: statistics.median(v) for k, v in probes[budget].items()},
        }
    return result


def markdown(rows: list[dict], meta: dict) -> str:
    """The scaling table: one line per case and budget, with per-probe seconds."""
    lines = table_head(meta, ["case", "budget", "plain fit s:", "diagnose s:",
                              "diagnose ÷ fit:", "probes (s)"])
    for row in rows:
        for budget, b in row["budgets"].items():
            probes = ", ".join(
                f"{k.removeprefix('probe:')} {v:.1f}"
                for k, v in sorted(b["probe_median_s"].items(), key=lambda kv: -kv[1])
                if k.startswith("probe:") and v >= 0.05)
            lines.append(f"| {row['name']} ({row['what']}) | {budget} | "
                         f"{row['plain_median_s']:.1f} | {b['diagnose_median_s']:.1f} | "
                         f"{b['ratio_median']:.2f}x | {probes} |")
    by_budget: dict[str, list[float]] = {}
    for row in rows:
        for budget, b in row["budgets"].items():
            by_budget.setdefault(budget, []).append(b["ratio_median"])
    lines.append("")
    for budget, ratios in by_budget.items():
        lines.append(f"- `{budget}`: median {statistics.median(ratios):.2f}x, "
                     f"max {max(ratios):.2f}x over {len(ratios)} case(s)")
    return "\n".join(lines) + "\n"



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="case name (repeatable)")
    parser.add_argument("--budget", action="append", default=[],
                        choices=("quick", "standard", "thorough"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--thread-too", action="store_true",
                        help="also run each budget with the CPU-only probes in a thread "
                             "(FITDOCTOR_FORK_PROBES=0), alternating with the forked ones")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be positive. Received: --repeats={args.repeats}")
    known = cases()
    if args.list:
        for name, case in known.items():
            sys.stdout.write(f"{name}: {case['what']}\n")
        return
    unknown = [n for n in args.only if n not in known]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = {n: c for n, c in known.items() if not args.only or n in args.only}
    budgets = args.budget or ["standard"]
    if args.thread_too:
        budgets = [b + suffix for b in budgets for suffix in ("", IN_A_THREAD)]
    meta = {"commit": commit(), "repeats": args.repeats, "budgets": budgets,
            "machine": machine()}
    OUT_DIR.mkdir(exist_ok=True)
    rows: list[dict] = []
    for name, case in chosen.items():
        sys.stderr.write(f"{name}...\n")
        rows.append(run_case(name, case, budgets=budgets, repeats=args.repeats))
        (OUT_DIR / "scaling.json").write_text(json.dumps({"meta": meta, "cases": rows}, indent=2))
        table = markdown(rows, meta)
        (OUT_DIR / "scaling.md").write_text(table)
    sys.stdout.write(table)


if __name__ == "__main__":
    main()
