"""What fix's own runs skip, side by side: a second trace of the training step, per-epoch
validation, and Python between the steps.

Every run through `Setup.train` creates the optimizer's and metrics' variables before `fit`
(`keras_vocab.build_training_state`), where Keras alone creates them inside the first trace of
the training step and so traces it twice. fix scores each run's model on the validation rows
once it ends, so its runs validate every epoch only when a callback acts on a validation
metric, and, on arrays with no callback, take an epoch's steps in one compiled call
(`Setup.train(batched=True)`). This times the same run of the same setup six ways,
interleaved, on fresh identically seeded models through `Setup.train`: as Keras alone runs
the user's `fit`, with the training state built first, then also without validation, batched,
and both (the last with and without the state built first). It also checks that every way
ends on the same weights.

The setup: scikit-learn's digits (1,347 rows to train, 450 to validate, scaled to [0, 1]), an
MLP 64-10 with dropout 0.2, SGD, batch 32 (43 steps an epoch); 15 epochs, and a 5-epoch
screening run.

Writes `bench/out/fit_overheads.md`.

Usage:
    python bench/fit_overheads.py --repeats 5
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from provenance import commit, machine, table_head  # noqa: E402  (bench/provenance.py)
from run import as_keras_alone  # noqa: E402  (bench/run.py: the user's fit, as Keras runs it)

OUT_DIR = HERE / "out"
WAYS = {  # name: Setup.train arguments, and whether the training state is built first
    "as your fit runs it (validating every epoch, step traced twice)": ({}, False),
    "training state built first (step traced once)": ({}, True),
    "no per-epoch validation": ({"validate": False}, True),
    "batched, validating": ({"batched": True}, True),
    "no validation, batched, step traced twice": ({"validate": False, "batched": True}, False),
    "no validation, batched (fix's runs)": ({"validate": False, "batched": True}, True),
}


def digits_setup():
    import keras
    import numpy as np
    from sklearn.datasets import load_digits

    import fitdoctor

    x, y = load_digits(return_X_y=True)
    x, y = (x / 16).astype("float32"), y.astype("int32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]

    def build():
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                                  keras.layers.Dropout(0.2),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return fitdoctor.Setup.from_arrays(build, (x[:1347], y[:1347]), (x[1347:], y[1347:]),
                                       {"epochs": 15, "batch_size": 32})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import numpy as np

    setup = digits_setup()
    setup.train(0, epochs=2)  # TensorFlow's one-off start-up, untimed
    seconds: dict[tuple[str, int | None], list[float]] = {}
    weights: dict[tuple[str, int | None], list] = {}
    for _ in range(args.repeats):
        for epochs in (None, 5):
            for name, (kwargs, built_first) in WAYS.items():
                with contextlib.nullcontext() if built_first else as_keras_alone():
                    run = setup.train(0, **kwargs,
                                      **({} if epochs is None else {"epochs": epochs}))
                seconds.setdefault((name, epochs), []).append(run.seconds)
                weights.setdefault((name, epochs), run.model.get_weights())
    meta = {"commit": commit(), "repeats": args.repeats, "machine": machine()}
    lines = table_head(meta, ["run", "epochs:", "seconds:", "÷ your fit's way:",
                              "same weights"])
    for epochs in (None, 5):
        first = next(iter(WAYS))
        reference = statistics.median(seconds[(first, epochs)])
        for name in WAYS:
            median = statistics.median(seconds[(name, epochs)])
            same = all(np.array_equal(a, b) for a, b in
                       zip(weights[(first, epochs)], weights[(name, epochs)], strict=True))
            lines.append(f"| {name} | {epochs or setup.epochs} | {median:.2f} | "
                         f"{median / reference:.2f} | {'yes' if same else 'NO'} |")
    text = "\n".join(lines) + "\n"
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "fit_overheads.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
