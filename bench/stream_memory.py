"""Peak memory and time of `diagnose` on a stream against the same data as arrays.

Each measurement is a whole child process (`python bench/stream_memory.py --one KIND FORM`),
as a user would run it; its peak resident memory is the child's `ru_maxrss`. Two data sets:

- `table`: N rows x 20 features, a seeded logistic model's labels (default 1,000,000 rows);
- `images`: 28x28 grey digits, the 10,000 MNIST test digits of `../shared/data` twice over
  (the second copy shifted by one pixel), 20,000 in all: 18,000 to train, the last 2,000 to
  validate.

`arrays` hands `diagnose` the NumPy arrays; `stream` a `tf.data` pipeline built from a generator
that makes each batch when asked, so the data set never exists in memory. Both run the same model
for one epoch at batch 1024 (tables) or 128 (images), budget `quick`.

Usage:
    python bench/stream_memory.py                 # both data sets, both forms
    python bench/stream_memory.py --rows 200000   # a smaller table
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = Path(__file__).resolve().parent
MNIST = HERE.parents[1] / "shared" / "data" / "mnist-t10k"
FEATURES = 20


def _table_batch(start: int, stop: int):
    import numpy as np

    rng = np.random.default_rng(start)
    x = rng.normal(size=(stop - start, FEATURES)).astype("float32")
    weights = np.linspace(-1.0, 1.0, FEATURES, dtype="float32")
    y = (x @ weights + rng.normal(scale=0.5, size=stop - start) > 0).astype("float32")
    return x, y


def _digits():
    import numpy as np

    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return x, y


def _image_batch(base, labels, start: int, stop: int):
    import numpy as np

    rows = np.arange(start, stop)
    x = base[rows % len(base)].astype("float32") / 255.0
    shifted = rows >= len(base)
    x[shifted] = np.roll(x[shifted], 1, axis=2)
    return x[..., None], labels[rows % len(base)].astype("int64")


def _model(kind: str):
    import keras

    if kind == "table":
        model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(32, "relu"),
                                  keras.layers.Dense(1, "sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    else:
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(128, "relu"),
                                  keras.layers.Dense(10, "softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def one(kind: str, form: str, rows: int) -> dict:
    """Diagnose one data set in one form in this process; return time and peak memory."""
    import numpy as np
    import tensorflow as tf

    import fitdoctor

    start = time.perf_counter()
    if kind == "table":
        n_val, batch = 20_000, 1024

        def make(lo, hi):
            return _table_batch(lo, hi)
    else:
        base, labels = _digits()
        rows, n_val, batch = 2 * len(base) - 2_000, 2_000, 128  # validation: the last 2,000

        def make(lo, hi):
            return _image_batch(base, labels, lo, hi)

    val = make(rows, rows + n_val)
    if form == "arrays":
        parts = [make(lo, min(rows, lo + 65_536)) for lo in range(0, rows, 65_536)]
        train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        del parts
        fit = {"epochs": 1, "batch_size": batch}
    else:
        x0, y0 = make(0, batch)

        def batches():
            for lo in range(0, rows, batch):
                yield make(lo, min(rows, lo + batch))

        spec = (tf.TensorSpec((None, *x0.shape[1:]), tf.float32),
                tf.TensorSpec((None,), tf.as_dtype(y0.dtype)))
        train = tf.data.Dataset.from_generator(batches, output_signature=spec).prefetch(2)
        train = train.apply(tf.data.experimental.assert_cardinality(int(np.ceil(rows / batch))))
        fit = {"epochs": 1}
    setup = fitdoctor.Setup.from_arrays(lambda: _model(kind), train, val, fit)
    report = fitdoctor.diagnose(setup=setup, budget="quick")
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"kind": kind, "form": form, "rows": rows, "seconds": round(seconds, 1),
            "peak_mb": round(peak_mb), "rows_audited": setup.n_train,
            "problems": report.ids()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=2, metavar=("KIND", "FORM"))
    parser.add_argument("--rows", type=int, default=1_000_000, help="table rows")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "stream_memory.md")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(*args.one, args.rows)))
        return 0
    results = []
    for kind in ("table", "images"):
        for form in ("arrays", "stream"):
            done = subprocess.run([sys.executable, __file__, "--one", kind, form, "--rows",
                                   str(args.rows)], capture_output=True, text=True, check=False)
            line = (done.stdout.strip().splitlines() or ["{}"])[-1]
            try:
                results.append(json.loads(line))
            except json.JSONDecodeError:
                results.append({"kind": kind, "form": form, "error": done.stderr[-300:]})
            print(results[-1], flush=True)
    lines = ["| data | form | rows | rows the checks read | diagnose s (whole process) "
             "| peak memory MB |", "|---|---|---:|---:|---:|---:|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['kind']} | {r['form']} | error: {r['error'][:80]} | | | |")
            continue
        lines.append(f"| {r['kind']} | {r['form']} | {r['rows']:,} | {r['rows_audited']:,} "
                     f"| {r['seconds']} | {r['peak_mb']:,} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
