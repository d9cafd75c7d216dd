"""Time plain `fit` against `fit` with `fitdoctor.Monitor` on a small CNN.

Runs plain `fit` and two Monitor configurations interleaved (the order alternates every repeat)
on fresh, identically seeded models, and prints one Markdown row per configuration: median wall
times and the median of the paired ratios (each monitored fit against the plain fit of the same
repeat), which cancels most of a shared machine's drift:

    .venv/bin/python bench/monitor_overhead.py --repeats 7

Data: scikit-learn's digits, upscaled to 28x28x1 and doubled with pixel noise (3,594 images).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from fitdoctor.monitor import Monitor  # noqa: E402


def images() -> tuple[np.ndarray, np.ndarray]:
    """Digits as 28x28x1 floats in [0, 1], two noisy copies of each."""
    digits = load_digits()
    x = np.kron(digits.images / 16.0, np.ones((3, 3)))  # 8x8 -> 24x24
    x = np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None]
    rng = np.random.default_rng(0)
    x = np.concatenate([x, np.clip(x + rng.normal(0, 0.05, x.shape), 0, 1)]).astype("float32")
    return x, np.concatenate([digits.target, digits.target])


def build() -> keras.Model:
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def timed_fit(x, y, epochs: int, batch_size: int, monitor: Monitor | None) -> float:
    keras.utils.set_random_seed(0)
    model = build()
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0,
              callbacks=[monitor] if monitor is not None else [])
    return time.perf_counter() - start


CONFIGS = {
    # what users drop into their fit to get gradients, update ratios, dead/saturated units, NaN
    "Monitor(data=256 rows)": lambda x, y, bs: Monitor(data=(x, y)),
    # plus the gradient-noise estimate at the batch size (what `diagnose`'s probe run attaches)
    "Monitor(data=256 rows, batch_size=32)": lambda x, y, bs: Monitor(data=(x, y), batch_size=bs),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    x, y = images()
    idx = np.random.default_rng(1).choice(len(x), 256, replace=False)
    timed_fit(x, y, 1, args.batch_size, None)  # warm up TensorFlow once, untimed
    names = ["plain", *CONFIGS]
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(args.repeats):
        order = names if i % 2 == 0 else names[::-1]  # alternate so drift hits all alike
        for name in order:
            monitor = CONFIGS[name](x[idx], y[idx], args.batch_size) if name in CONFIGS else None
            times[name].append(timed_fit(x, y, args.epochs, args.batch_size, monitor))
    plain = times["plain"]
    print("| model | samples | epochs | batch | Monitor | plain fit (s) | with Monitor (s) "
          "| overhead (median of paired ratios) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in CONFIGS:
        paired = [m / p - 1 for m, p in zip(times[name], plain, strict=True)]
        print(f"| 2-conv CNN, 28x28x1 | {len(x)} | {args.epochs} | {args.batch_size} | `{name}` "
              f"| {statistics.median(plain):.2f} | {statistics.median(times[name]):.2f} "
              f"| {100 * statistics.median(paired):+.1f} % |")
    for name in names:
        print(f"{name}: {[round(t, 2) for t in times[name]]}")


if __name__ == "__main__":
    main()
