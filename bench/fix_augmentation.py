"""Image augmentation on real photos: does `fix` find a strength that helps, and back off?

Reads the 64x64 cats-and-dogs photos in `/work/shared/data/catsdogs64/train` (2,000 photos; pass
`--data` to point elsewhere, e.g. the 420-image copy in `tests/data/catsdogs`) and splits them,
seeded and stratified, into `--train` photos to learn from and the rest to validate on: a small
training set is where augmentation matters, and a large validation set keeps the standard error
of validation accuracy near 1 point, so a real gain can beat run-to-run noise. A small CNN
overfits the training photos; `fitdoctor.fix` is restricted to the `image_augmentation` remedy,
searching `--grid` (weakest first, up to settings strong enough to hurt, to show the
over-augmentation guard). The overfitting finding comes from the `overfitting` check when it
fires, otherwise it is given (the table says which). Prints each strength with its validation
accuracy, gain and verdict, and writes `bench/out/fix_augmentation.md`.

Usage:
    python bench/fix_augmentation.py          # 500 train / 1,500 val photos, 64x64, 40 epochs
    python bench/fix_augmentation.py --size 32 --train 1000 --epochs 60 --budget standard
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = Path("/work/shared/data/catsdogs64")


def load_folder(root: Path, size: int):
    """Images under `root/{cats,dogs}` as float32 in [0, 1], resized to `size`, and 0/1 labels."""
    import numpy as np
    import tensorflow as tf

    xs, ys = [], []
    for label, name in enumerate(("cats", "dogs")):
        for path in sorted((root / name).glob("*.jpg")):
            image = tf.io.decode_jpeg(tf.io.read_file(str(path)), channels=3)
            xs.append(tf.image.resize(image, (size, size)).numpy())
            ys.append(label)
    return np.stack(xs).astype("float32") / 255.0, np.asarray(ys)


def cnn(size: int):
    """A small CNN builder: two conv blocks and a dense head, Adam 1e-3."""
    import keras

    def build():
        model = keras.Sequential([
            keras.Input(shape=(size, size, 3)),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                      metrics=["accuracy"])
        return model

    return build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--train", type=int, default=500,
                        help="photos to train on; the rest of the folder validates")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--grid", default="0.05,0.1,0.2,0.4,0.6",
                        help="augmentation strengths to search, weakest first")
    parser.add_argument("--budget", default="quick")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no data at {args.data}; nothing to do", file=sys.stderr)
        return 0
    from sklearn.model_selection import train_test_split

    import fitdoctor
    from fitdoctor.findings import Finding, Report

    x, y = load_folder(args.data / "train", args.size)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, train_size=args.train, random_state=0, stratify=y)
    train, val = (x_train, y_train), (x_val, y_val)
    grid = tuple(float(s) for s in args.grid.split(","))
    setup = fitdoctor.Setup.from_arrays(cnn(args.size), train, val,
                                        {"epochs": args.epochs, "batch_size": 32})
    report = fitdoctor.diagnose(setup=setup, budget="quick", checks=["overfitting"])
    source = "the overfitting check"
    if "overfitting" not in report.ids():
        report, source = Report(findings=(Finding("overfitting", "warning", "given"),)), "given"
    start = time.perf_counter()
    result = fitdoctor.fix(setup=setup, report=report, budget=args.budget,
                           remedies=["image_augmentation"], grids={"image_augmentation": grid},
                           out=HERE / "out" / "fix_augmentation")
    seconds = time.perf_counter() - start
    lines = [
        f"{len(train[1])} training / {len(val[1])} validation photos from {args.data}, "
        f"{args.size}x{args.size}, {args.epochs} epochs, budget `{args.budget}` "
        f"(seeds {list(result.seeds)}); overfitting finding: {source}.", "",
        "| strength | val accuracy | per seed | gain | verdict |", "|---|---|---|---|---|",
        f"| none (as given) | {result.before['val_accuracy']:.1%} | "
        f"{[round(v, 3) for v in result.before['per_seed']['val_accuracy']]} | – | – |",
    ]
    for t in result.to_dict()["remedies"]:
        if "val_accuracy" not in t:
            continue
        lines.append(
            f"| {t['strength']} | {t['val_accuracy']:.1%} | "
            f"{[round(v, 3) for v in t['per_seed']['val_accuracy']]} | {t['gain']:+.3f} | "
            f"{t['status']}: {t['reason']} |"
        )
    lines += ["", f"Applied: {', '.join(result.applied) or 'nothing'}; val accuracy "
                  f"{result.before['val_accuracy']:.1%} -> {result.after['val_accuracy']:.1%}; "
                  f"fix took {seconds:.0f} s."]
    text = "\n".join(lines) + "\n"
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "fix_augmentation.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
