"""Time and peak memory of the data audit on 1,000,000 rows x 50 features.

Generates a classification table (float32, a linear label rule plus noise, 1 % missing values
in one column and 2,000 duplicated rows), then runs only the data checks through
`fitdoctor.diagnose` with a trivial model. The budget is "standard" (data checks read at most
`max_audit_rows` = 50,000 sampled rows; exact counts of missing values, classes and duplicates
read every row in chunks) with the learning curve turned off, so nothing trains.

    python bench/data_audit_scale.py [--rows 1000000] [--features 50]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DATA_CHECKS = [
    "missing_values", "unscaled_inputs", "class_imbalance", "label_noise", "outliers",
    "duplicate_samples", "train_val_leakage", "train_val_shift", "irrelevant_features",
    "insufficient_data",
]


def make_data(rows: int, features: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features), dtype="float32")
    weights = rng.normal(size=features).astype("float32")
    weights[features // 2:] = 0  # half the features carry no signal
    y = ((x @ weights + rng.normal(scale=0.5, size=rows)) > 0).astype("int64")
    x[rng.random(rows) < 0.01, 3] = np.nan
    x[-2000:] = x[:2000]
    y[-2000:] = y[:2000]
    n_val = rows // 10
    return (x[n_val:], y[n_val:]), (x[:n_val].copy(), y[:n_val].copy())


def trivial_model(features: int):
    def build_model():
        import keras

        model = keras.Sequential([keras.Input((features,)),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    return build_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    args = parser.parse_args()

    import fitdoctor
    from fitdoctor.budget import get_budget

    start = time.perf_counter()
    train, val = make_data(args.rows, args.features)
    generated = time.perf_counter() - start
    budget = dataclasses.replace(get_budget("standard"), learning_curve=False)
    start = time.perf_counter()
    setup = fitdoctor.Setup.from_arrays(trivial_model(args.features), train, val,
                                        {"epochs": 1, "batch_size": 1024})
    report = fitdoctor.diagnose(setup=setup, budget=budget, checks=DATA_CHECKS)
    audit = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows: {args.rows:,} x {args.features} features "
          f"({len(train[0]):,} train / {len(val[0]):,} val), budget standard, "
          f"max_audit_rows {budget.max_audit_rows:,}")
    print(f"data generated in {generated:.1f} s (not counted)")
    print(f"audit: {audit:.1f} s, peak RSS {peak_mb:,.0f} MB")
    for name, seconds in report.timings.items():
        print(f"  {name}: {seconds:.2f} s")
    for finding in report.findings:
        print(f"  {finding.severity.value:8s} {finding.id}: {finding.title}")


if __name__ == "__main__":
    main()
