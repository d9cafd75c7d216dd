"""Compare search strategies at equal trial budgets: fitdoctor grid / random / bayes (TPE) and
KerasTuner's BayesianOptimization, then the speed-up of 2 local workers over 1.

Every method searches the same space (learning rate, log 1e-4..1e-1; units 16/32/64/128; dropout
0..0.5) on the same setups, with the same epochs, batch size and early stopping (patience 3 on
validation accuracy), and reports the best validation accuracy and wall time, median over seeds.
fitdoctor's strategies also prune with its default median pruner; KerasTuner has no pruning.

KerasTuner is a benchmark-only dependency, installed beside the project's venv, not into it:

    make bench-tune
    # or by hand:
    .venv/bin/pip install --target .venv/bench-deps --no-deps keras-tuner kt-legacy
    PYTHONPATH=.venv/bench-deps .venv/bin/python bench/tune_compare.py --trials 12 --seeds 3

Without KerasTuner the script still runs and leaves its row out.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

SETUPS = {
    "digits_mlp": textwrap.dedent('''
        import keras
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        def load_data():
            d = load_digits()
            x = d.data.astype("float32") / 16.0
            x_tr, x_val, y_tr, y_val = train_test_split(x, d.target, test_size=0.25,
                                                        random_state=0, stratify=d.target)
            return (x_tr, y_tr), (x_val, y_val)
    '''),
    "breast_cancer_mlp": textwrap.dedent('''
        import keras
        from sklearn.datasets import load_breast_cancer
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        def load_data():
            d = load_breast_cancer()
            x_tr, x_val, y_tr, y_val = train_test_split(d.data, d.target, test_size=0.25,
                                                        random_state=0, stratify=d.target)
            scaler = StandardScaler().fit(x_tr)
            return ((scaler.transform(x_tr).astype("float32"), y_tr),
                    (scaler.transform(x_val).astype("float32"), y_val))
    '''),
}

MODEL = textwrap.dedent('''
    N_CLASSES = {n_classes}

    def build_model(lr=1e-3, units=32, dropout=0.0):
        model = keras.Sequential([
            keras.Input(shape=({n_inputs},)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(N_CLASSES, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(lr),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    FIT = {{"epochs": {epochs}, "batch_size": 32}}
    SEARCH_SPACE = {{
        "lr": ("log", 1e-4, 1e-1),
        "units": [16, 32, 64, 128],
        "dropout": ("float", 0.0, 0.5),
    }}
''')

SHAPES = {"digits_mlp": (64, 10, 15), "breast_cancer_mlp": (30, 2, 20)}


def write_setups(folder: Path) -> dict[str, Path]:
    """Write each benchmark setup as a setup file (local workers load it from disk)."""
    paths = {}
    for name, data in SETUPS.items():
        n_inputs, n_classes, epochs = SHAPES[name]
        path = folder / f"{name}.py"
        path.write_text(data + MODEL.format(n_inputs=n_inputs, n_classes=n_classes,
                                            epochs=epochs), encoding="utf-8")
        paths[name] = path
    return paths


def run_fitdoctor(path: Path, strategy: str, trials: int, seed: int, workers: int = 1) -> dict:
    import fitdoctor

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = fitdoctor.tune(path, strategy=strategy, trials=trials, seed=seed,
                                workers=workers, storage=str(Path(tmp) / "study.journal"),
                                baseline=False)
        seconds = time.perf_counter() - start
    return {"best": result.best_value, "seconds": seconds, "pruned": result.count("PRUNED")}


def run_kerastuner(path: Path, trials: int, seed: int) -> dict:
    import keras
    import keras_tuner as kt

    import fitdoctor

    setup = fitdoctor.load_setup(path)
    space = setup.search_space

    def build(hp):
        return setup.build_model(
            lr=hp.Float("lr", space["lr"][1], space["lr"][2], sampling="log"),
            units=hp.Choice("units", space["units"]),
            dropout=hp.Float("dropout", space["dropout"][1], space["dropout"][2]),
        )

    class Tuner(kt.BayesianOptimization):
        def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
            """No TensorBoard here: skip KerasTuner's unconditional tensorboard import."""

    with tempfile.TemporaryDirectory() as tmp:
        keras.utils.set_random_seed(seed)
        tuner = Tuner(build, objective="val_accuracy", max_trials=trials,
                                        seed=seed, directory=tmp, project_name="bench",
                                        overwrite=True)
        start = time.perf_counter()
        tuner.search(setup.x_train, setup.y_train, validation_data=(setup.x_val, setup.y_val),
                     epochs=setup.epochs, batch_size=setup.batch_size, verbose=0,
                     callbacks=[keras.callbacks.EarlyStopping("val_accuracy", patience=3)])
        seconds = time.perf_counter() - start
        best = tuner.oracle.get_best_trials(1)[0].score
    return {"best": float(best), "seconds": seconds, "pruned": 0}


def main() -> None:
    """Run every method on every setup over the seeds; print a Markdown table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--setups", nargs="+", default=list(SETUPS))
    parser.add_argument("--out", type=Path, default=Path("bench/out/tune_compare.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        import keras_tuner  # noqa: F401

        have_kt = True
    except ImportError:
        have_kt = False
        logging.warning("keras-tuner not installed: its row is left out (see the docstring)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_setups(Path(tmp))
        for name in args.setups:
            methods = [("fitdoctor grid", lambda p, s: run_fitdoctor(p, "grid", args.trials, s)),
                       ("fitdoctor random",
                        lambda p, s: run_fitdoctor(p, "random", args.trials, s)),
                       ("fitdoctor bayes (TPE)",
                        lambda p, s: run_fitdoctor(p, "bayes", args.trials, s))]
            if have_kt:
                methods.append(("KerasTuner BayesianOptimization",
                                lambda p, s: run_kerastuner(p, args.trials, s)))
            for label, fn in methods:
                runs = [fn(paths[name], seed) for seed in range(args.seeds)]
                rows.append({
                    "setup": name, "method": label, "trials": args.trials, "seeds": args.seeds,
                    "best_val_accuracy": statistics.median(r["best"] for r in runs),
                    "seconds": statistics.median(r["seconds"] for r in runs),
                    "pruned": statistics.median(r["pruned"] for r in runs),
                    "runs": runs,
                })
                print(f"{name:18} {label:32} acc {rows[-1]['best_val_accuracy']:.4f} "
                      f"{rows[-1]['seconds']:7.1f}s", flush=True)
        first = args.setups[0]
        one = run_fitdoctor(paths[first], "bayes", args.trials, 0, workers=1)
        two = run_fitdoctor(paths[first], "bayes", args.trials, 0, workers=2)
    speedup = {"setup": first, "trials": args.trials, "one_worker_s": one["seconds"],
               "two_workers_s": two["seconds"], "speedup": one["seconds"] / two["seconds"],
               "cpu_count": os.cpu_count()}
    print("\n| setup | method | best val accuracy (median) | wall s (median) | pruned |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['setup']} | {r['method']} | {r['best_val_accuracy']:.4f} | "
              f"{r['seconds']:.1f} | {r['pruned']:g} |")
    print(f"\n2 local workers vs 1 ({first}, bayes, {args.trials} trials, "
          f"{os.cpu_count()} CPUs): {one['seconds']:.1f}s -> {two['seconds']:.1f}s, "
          f"speed-up x{speedup['speedup']:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "workers": speedup}, indent=2) + "\n",
                        encoding="utf-8")


if __name__ == "__main__":
    main()
