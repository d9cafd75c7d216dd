"""Label-noise detection: recall at 10/20/30 % noise and false alarms on clean twins.

For several shapes of data (tabular binary and 10-class, digits, 1-D signals, images), the
training labels are corrupted at 10, 20 and 30 %: symmetric noise moves a label to one of the
other classes uniformly, asymmetric noise moves class c to class c+1 (for two classes both are
the same flip). The validation labels stay clean. Each case runs only the `label_noise` check,
with its default thresholds, on the quick budget's evidence (nothing trains: the check reads
cross-validated screening models). *Recall* is the share of noisy cases where `label_noise` is
raised (warning or critical); *false alarms* the share of clean twins where it is. Precision
is the median share of the 20 listed rows whose label was in fact corrupted; the screening
model's out-of-fold accuracy on the clean twin says how well the data can be judged at all.
Seeds are fixed.

    python bench/label_noise.py [--seeds 2] [--out bench/results/label_noise.md]

MNIST is read from ../shared/data/mnist-t10k when present (the project's tests never read it).
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MNIST = ROOT.parent / "shared" / "data" / "mnist-t10k"
CATSDOGS = ROOT / "tests" / "data" / "catsdogs"
RATES = (0.1, 0.2, 0.3)


def _signals(n: int = 1500, length: int = 64, seed: int = 0):
    """Sine, square and sawtooth waves of random frequency, phase and gain, plus noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length, endpoint=False)
    y = rng.integers(0, 3, n)
    cycles = rng.uniform(1, 4, (n, 1)) * t + rng.uniform(0, 1, (n, 1))
    sine = np.sin(2 * np.pi * cycles)
    waves = np.where(y[:, None] == 0, sine,
                     np.where(y[:, None] == 1, np.sign(sine), 2 * (cycles % 1) - 1))
    x = waves * rng.uniform(0.5, 1.5, (n, 1)) + rng.normal(0, 0.3, (n, length))
    return x[..., None].astype("float32"), y  # (rows, steps, 1 channel), as Conv1D reads it


def _mnist(n: int = 3000):
    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
    with gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return (x[:n] / 255.0).astype("float32"), y[:n].astype("int64")


def _catsdogs():
    from fitdoctor.loaders import read_image_folder

    x, y, _ = read_image_folder(CATSDOGS / "train", image_size=(32, 32))
    return (np.asarray(x, dtype="float32") / 255.0), np.asarray(y, dtype="int64")


def datasets():
    """(name, shape in words, x, y) for each data set the benchmark uses."""
    from sklearn.datasets import load_breast_cancer, load_digits, make_classification

    cancer = load_breast_cancer()
    x = (cancer.data - cancer.data.mean(axis=0)) / cancer.data.std(axis=0)
    out = [("breast cancer", "tabular, 2 classes, 30 features", x.astype("float32"),
            cancer.target)]
    x, y = make_classification(3000, 40, n_informative=20, n_redundant=10, n_classes=10,
                               n_clusters_per_class=1, class_sep=1.5, random_state=0)
    out.append(("make_classification", "tabular, 10 classes, 40 features", x.astype("float32"),
                y))
    x, y = make_classification(3000, 40, n_informative=20, n_redundant=10, n_classes=10,
                               random_state=0)
    out.append(("make_classification, hard", "tabular, 10 classes, 40 features, 2 clusters "
                "per class", x.astype("float32"), y))
    digits = load_digits()
    out.append(("digits", "8x8 digits as 64 features", (digits.data / 16).astype("float32"),
                digits.target))
    out.append(("signals", "1-D, 3 wave shapes, 64 steps x 1 channel", *_signals()))
    if MNIST.exists():
        out.append(("MNIST", "images 28x28, 3,000 rows", *_mnist()))
    if CATSDOGS.exists():
        out.append(("cats/dogs", "photos 32x32x3, 300 rows", *_catsdogs()))
    return out


def corrupt(y: np.ndarray, rate: float, kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels with `rate` of the rows moved to another class, and which rows were moved."""
    rng = np.random.default_rng(seed)
    k = int(y.max()) + 1
    rows = rng.choice(len(y), size=int(round(rate * len(y))), replace=False)
    noisy = y.copy()
    shift = rng.integers(1, k, len(rows)) if kind == "symmetric" else 1
    noisy[rows] = (noisy[rows] + shift) % k
    return noisy, rows


def builder(input_shape: tuple[int, ...], n_classes: int):
    def build_model():
        import keras

        model = keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(),
                                  keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(n_classes, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build_model


def run_case(x, y, noisy, rows, seed: int) -> dict:
    """Run `label_noise` on one split: whether it was raised, and the listed rows' precision."""
    from sklearn.model_selection import train_test_split

    import fitdoctor
    from fitdoctor.budget import get_budget
    from fitdoctor.checks.label_noise import LabelNoise
    from fitdoctor.evidence import Evidence

    idx_tr, idx_val = train_test_split(np.arange(len(y)), test_size=0.2, random_state=seed,
                                       stratify=y)
    corrupted = np.zeros(len(y), dtype=bool)
    corrupted[rows] = True
    setup = fitdoctor.Setup.from_arrays(
        builder(x.shape[1:], int(y.max()) + 1), (x[idx_tr], noisy[idx_tr]),
        (x[idx_val], y[idx_val]), {"epochs": 1})
    evidence = Evidence(setup, get_budget("quick"), seed=seed)
    found = LabelNoise().run(evidence)
    raised = any(f.is_problem for f in found)
    precision = None
    if raised:
        listed = np.asarray(found[0].evidence["row_indices"])
        precision = float(corrupted[idx_tr][listed].mean())
    return {"raised": raised, "precision": precision,
            "screening_accuracy": evidence.get("oof_probs").accuracy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    start = time.perf_counter()
    lines = ["| data | shape | noise | recall 10 % | recall 20 % | recall 30 % | "
             "false alarms (clean) | precision of listed rows | screening accuracy (clean) |",
             "|---|---|---|---|---|---|---|---|---|"]
    totals = {"noisy": 0, "raised": 0, "clean": 0, "false": 0}
    for name, shape, x, y in datasets():
        twins = [run_case(x, y, y, np.array([], dtype=int), s) for s in range(args.seeds)]
        clean = [t["raised"] for t in twins]
        screening = statistics.mean(t["screening_accuracy"] for t in twins)
        totals["clean"] += len(clean)
        totals["false"] += sum(clean)
        kinds = ("symmetric",) if int(y.max()) == 1 else ("symmetric", "asymmetric")
        for kind in kinds:
            recalls, precisions = [], []
            for rate in RATES:
                hits = []
                for s in range(args.seeds):
                    noisy, rows = corrupt(y, rate, kind, seed=100 + s)
                    case = run_case(x, y, noisy, rows, s)
                    hits.append(case["raised"])
                    if case["precision"] is not None:
                        precisions.append(case["precision"])
                recalls.append(f"{sum(hits)}/{len(hits)}")
                totals["noisy"] += len(hits)
                totals["raised"] += sum(hits)
            precision = f"{statistics.median(precisions):.2f}" if precisions else "-"
            lines.append(f"| {name} | {shape} | {kind} | {' | '.join(recalls)} | "
                         f"{sum(clean)}/{len(clean)} | {precision} | {screening:.2f} |")
            print(lines[-1], flush=True)
    lines.append("")
    lines.append(f"Overall: raised on {totals['raised']}/{totals['noisy']} noisy cases, "
                 f"false alarms on {totals['false']}/{totals['clean']} clean twins; "
                 f"{time.perf_counter() - start:.0f} s.")
    print(lines[-1])
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
