"""The fault benchmark's real-data part: is `diagnose` right on real data, prepared as people do?

The project's fault cases are scikit-learn toy sets with one injected fault each. These cases are
public data sets as they are published (`../shared/data`: Titanic, UCI Adult, Pima; and
scikit-learn's real diabetes set), each prepared the way a new user would, and each aimed at one
way fitdoctor was once wrong on real data (the `problem` column). A case declares:

- `expected`: finding ids that must be among the top 3 problem findings;
- `forbidden`: ids that must not be a problem finding (critical or warning) at all;
- `first`: the root cause: the first problem finding must be one of these ids, or, when
  `first=()`, there must be no problem finding at all;
- `verify`: an extra check on the setup or the report (the columns `--data` left out, the
  header hint, the labels' encoding), returning what went wrong or None.

A case passes when every one of its conditions holds. Every case is diagnosed at the
`standard` budget, seed 0, one after another. Writes `bench/out/real_data.md` (the table for
BENCHMARK.md) and `bench/out/real_data.json`.

Usage:
    python bench/real_data.py                    # every case
    python bench/real_data.py --only titanic
    python bench/real_data.py --data ../shared/data --out bench/out
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from provenance import commit  # noqa: E402  (bench/provenance.py)

DATA = HERE.parent.parent / "shared" / "data"
TOP_K = 3
ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
                 "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
                 "hours-per-week", "native-country", "income"]
PIMA_COLUMNS = ["pregnancies", "glucose", "blood_pressure", "skin_thickness", "insulin", "bmi",
                "pedigree", "age", "outcome"]


@dataclasses.dataclass(frozen=True)
class RealCase:
    """One real-data case: how to build its setup and what a right diagnosis says."""

    name: str
    problem: str
    make: Callable[[Path, Path], Any]  # (data folder, scratch folder) -> Setup
    expected: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    first: tuple[str, ...] | None = None
    verify: Callable[[Any, Any, list[str]], str | None] | None = None  # (setup, report, logs)


# --- data, read as a user would --------------------------------------------------------------

def _titanic_frame(data: Path):
    import pandas as pd

    return pd.read_csv(data / "titanic" / "train.csv")


def _titanic_usual(data: Path) -> tuple[np.ndarray, np.ndarray]:
    """Titanic the usual way: Sex coded, Age filled with the median, Embarked/Pclass dummies;
    Name, Ticket, Cabin and PassengerId dropped."""
    import pandas as pd

    frame = _titanic_frame(data)
    frame["Sex"] = (frame["Sex"] == "female").astype(float)
    frame["Age"] = frame["Age"].fillna(frame["Age"].median())
    frame["Embarked"] = frame["Embarked"].fillna("S")
    frame = pd.get_dummies(frame, columns=["Pclass", "Embarked"], dtype=float)
    y = frame.pop("Survived").to_numpy("int64")
    x = frame.drop(columns=["Name", "Ticket", "Cabin", "PassengerId"]).to_numpy("float32")
    return x, y


def _adult_frame(data: Path):
    import pandas as pd

    return pd.read_csv(data / "adult" / "adult.data", header=None, names=ADULT_COLUMNS,
                       skipinitialspace=True)


def _pima(data: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = np.loadtxt(data / "pima" / "pima-indians-diabetes.data", delimiter=",")
    return raw[:, :-1].astype("float32"), raw[:, -1].astype("int64")


def _split(x, y, stratify=True):
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=0.2, random_state=0,
                            stratify=y if stratify else None)


def _standardize(x_train, x_val):
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train).astype("float32"), scaler.transform(x_val).astype("float32")


def _mlp(n_features: int, *, n_out: int = 1, first: Any = None, loss: str | None = None,
         lr: float = 1e-3) -> Callable[[], Any]:
    def build():
        import keras

        layers = [keras.Input(shape=(n_features,))]
        if first is not None:
            layers.append(first())
        layers += [keras.layers.Dense(32, activation="relu"),
                   keras.layers.Dense(n_out, activation=None if loss == "mse" else
                                      ("sigmoid" if n_out == 1 else "softmax"))]
        model = keras.Sequential(layers)
        chosen = loss or ("binary_crossentropy" if n_out == 1 else
                          "sparse_categorical_crossentropy")
        model.compile(optimizer=keras.optimizers.Adam(lr), loss=chosen,
                      metrics=["mae"] if chosen == "mse" else ["accuracy"])
        return model
    return build


def _from_arrays(build, train, val, epochs=30, batch_size=32):
    import fitdoctor

    return fitdoctor.Setup.from_arrays(build, train, val,
                                       {"epochs": epochs, "batch_size": batch_size})


# --- the cases ----------------------------------------------------------------------------------

def titanic_usual(data: Path, scratch: Path):
    x, y = _titanic_usual(data)
    xt, xv, yt, yv = _split(x, y)
    xt, xv = _standardize(xt, xv)
    return _from_arrays(_mlp(x.shape[1]), (xt, yt), (xv, yv))


def adult_data_mode(data: Path, scratch: Path):
    from fitdoctor.loaders import setup_from_table

    path = scratch / "adult.csv"
    _adult_frame(data).to_csv(path, index=False)  # the published file, with its header added
    return setup_from_table(path, "income", fit={"epochs": 10, "batch_size": 128})


def _adult_question_marks_read(setup, report, logs):
    named = set()
    for f in report.findings:
        if f.id == "missing_values":
            named |= {str(c).split("=")[0] for c in f.evidence.get("by_column", {})}
    wanted = {"workclass", "occupation", "native-country"}
    if not wanted <= named:
        return f"the '?' columns {sorted(wanted - named)} are not named as missing"
    return None


def wide_200k(data: Path, scratch: Path):
    """200,000 x 30, every feature with a true nonzero weight (the issue's example)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200_000, 30)).astype("float32")
    w = rng.uniform(0.1, 1.0, 30) * rng.choice([-1, 1], 30)
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-(x @ w)))).astype("int64")
    xt, xv, yt, yv = _split(x, y)
    return _from_arrays(_mlp(30), (xt, yt), (xv, yv), epochs=5, batch_size=256)


def diabetes_raw_targets(data: Path, scratch: Path):
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    xt, xv, yt, yv = _split(d.data, d.target.astype("float32"), stratify=False)
    xt, xv = _standardize(xt, xv)
    return _from_arrays(_mlp(10, loss="mse"), (xt, yt), (xv, yv), epochs=30)


def adult_unadapted_normalization(data: Path, scratch: Path):
    """Adult's numeric columns raw (fnlwgt near 190,000) behind a Normalization() never adapted."""
    frame = _adult_frame(data)
    x = frame[["age", "fnlwgt", "education-num", "hours-per-week"]].to_numpy("float32")
    y = (frame["income"] == ">50K").to_numpy("int64")
    xt, xv, yt, yv = _split(x[:8000], y[:8000])

    def normalization():
        import keras

        return keras.layers.Normalization()  # never adapted: an identity
    return _from_arrays(_mlp(4, first=normalization), (xt, yt), (xv, yv), epochs=15)


def pima_zeros(data: Path, scratch: Path):
    """Pima as published (zeros for missing), scaled in the model by an adapted Normalization."""
    x, y = _pima(data)
    return _pima_normalized(*_split(x, y))


def _pima_normalized(xt, xv, yt, yv):
    """Pima's MLP with a Normalization layer adapted on the training rows."""
    def normalization():
        import keras

        layer = keras.layers.Normalization()
        layer.adapt(xt)
        return layer
    return _from_arrays(_mlp(8, first=normalization), (xt, yt), (xv, yv), epochs=40,
                        batch_size=16)


def pima_zeros_imputed(data: Path, scratch: Path):
    """The healthy twin: Pima's impossible zeros replaced by the training medians first."""
    x, y = _pima(data)
    xt, xv, yt, yv = _split(x, y)
    xt, xv = xt.copy(), xv.copy()
    for j in range(1, 6):
        median = np.median(xt[xt[:, j] > 0, j])
        xt[xt[:, j] == 0, j] = median
        xv[xv[:, j] == 0, j] = median
    return _pima_normalized(xt, xv, yt, yv)


def _pima_zero_columns_named(setup, report, logs):
    wanted = {"x[1]", "x[2]", "x[3]", "x[4]", "x[5]"}  # glucose .. BMI
    named = set()
    for f in report.findings:
        if f.id == "missing_values":
            named |= {key.split("=")[0] for key in f.evidence.get("written_as_numbers", {})}
    if len(wanted & named) < 3:
        return f"{len(wanted & named)} of the 5 impossible-zero columns named ({sorted(named)})"
    return None


def pima_nan_inputs(data: Path, scratch: Path):
    """Pima with its impossible zeros turned into NaN, fed to the network as they are."""
    x, y = _pima(data)
    x = x.copy()
    x[:, 1:6] = np.where(x[:, 1:6] == 0, np.nan, x[:, 1:6])
    xt, xv, yt, yv = _split(x, y)
    mean, std = np.nanmean(xt, axis=0), np.nanstd(xt, axis=0)
    xt, xv = ((xt - mean) / std).astype("float32"), ((xv - mean) / std).astype("float32")
    return _from_arrays(_mlp(8), (xt, yt), (xv, yv), epochs=20)


def titanic_data_mode(data: Path, scratch: Path):
    from fitdoctor.loaders import setup_from_table

    return setup_from_table(data / "titanic" / "train.csv", "Survived")


def _titanic_columns_left_out(setup, report, logs):
    names = set(map(str, setup.feature_names or ()))
    kept = [c for c in ("PassengerId", "Name", "Ticket") if any(n.startswith(c) for n in names)]
    if kept:
        return f"ID-like or text columns used as features: {kept}"
    return None


def titanic_cce_model(data: Path, scratch: Path):
    """A user's saved two-unit softmax model compiled with categorical_crossentropy, via --model."""
    import keras

    from fitdoctor.loaders import setup_from_table

    frame = _titanic_frame(data)[["Survived", "Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]]
    frame = frame.assign(Sex=(frame["Sex"] == "female").astype(int))
    path = scratch / "titanic_numeric.csv"
    frame.to_csv(path, index=False)
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Normalization(),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model_path = scratch / "titanic_cce.keras"
    model.save(model_path)
    return setup_from_table(path, "Survived", model_path=model_path)


def _one_hot_labels(setup, report, logs):
    y = np.asarray(setup.y_train)
    if y.ndim != 2 or y.shape[1] != 2:
        return f"labels for categorical_crossentropy have shape {y.shape}, not (n, 2)"
    return None


def pima_data_mode_headerless(data: Path, scratch: Path):
    """Pima's published file has no header; the user names the last column as pandas read it."""
    from fitdoctor.loaders import setup_from_table

    path = scratch / "pima.csv"
    path.write_bytes((data / "pima" / "pima-indians-diabetes.data").read_bytes())
    return setup_from_table(path, "1")


def _header_hint(setup, report, logs):
    if not any("no header" in line for line in logs):
        return "no hint that the file has no header row"
    return None


CASES = [
    RealCase("titanic_usual_preprocessing",
             "leakage claimed for distinct passengers who share every remaining feature",
             titanic_usual, forbidden=("train_val_leakage", "label_noise"), first=()),
    RealCase("adult_data_mode",
             "`?` read as a category; leakage claimed from fitdoctor's own holdout",
             adult_data_mode, expected=("missing_values",),
             forbidden=("train_val_leakage",), verify=_adult_question_marks_read),
    RealCase("wide_200k_all_features_useful",
             "useful features called irrelevant on 200k rows x 30 features",
             wide_200k, forbidden=("irrelevant_features",)),
    RealCase("diabetes_raw_targets",
             "raw regression targets blamed on capacity",
             diabetes_raw_targets, expected=("unscaled_targets",), first=("unscaled_targets",)),
    RealCase("adult_unadapted_normalization",
             "an un-adapted Normalization layer taken for scaling",
             adult_unadapted_normalization, expected=("unscaled_inputs",),
             first=("unscaled_inputs",)),
    RealCase("pima_impossible_zeros",
             "zeros standing for missing glucose, blood pressure, skin, insulin, BMI unseen",
             pima_zeros, expected=("missing_values",), verify=_pima_zero_columns_named),
    RealCase("pima_zeros_imputed",
             "the healthy twin of the case above: nothing to report about missing values",
             pima_zeros_imputed, forbidden=("missing_values", "label_noise")),
    RealCase("pima_nan_inputs",
             "capacity advised where NaN inputs explain the underfit",
             pima_nan_inputs, expected=("missing_values",), first=("missing_values",)),
    RealCase("titanic_data_mode",
             "`--data`: ID-like and text columns used as numbers; the default model on NaNs",
             titanic_data_mode, forbidden=("nan_loss", "train_val_leakage"),
             verify=_titanic_columns_left_out),
    RealCase("titanic_data_mode_cce_model",
             "`--data` with a categorical_crossentropy model fed integer labels",
             titanic_cce_model, forbidden=("loss_output_mismatch",), verify=_one_hot_labels),
    RealCase("pima_data_mode_headerless",
             "`--data`: a headerless CSV gets no hint",
             pima_data_mode_headerless, verify=_header_hint),
]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def run_case(case: RealCase, data: Path, seed: int = 0) -> dict[str, Any]:
    """Build and diagnose one case; never raises (an error fails the row)."""
    import fitdoctor

    row: dict[str, Any] = {"case": case.name, "problem": case.problem,
                           "expected": list(case.expected), "forbidden": list(case.forbidden),
                           "first_should_be": None if case.first is None else list(case.first),
                           "problems": [], "why_not": [], "error": None}
    handler = _Lines()
    logging.getLogger("fitdoctor").addHandler(handler)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            setup = case.make(data, Path(scratch))
            report = fitdoctor.diagnose(setup=setup, budget="standard", seed=seed)
            row["seconds"] = round(time.perf_counter() - start, 1)
            extra = case.verify(setup, report, handler.lines) if case.verify else None
    except Exception as exc:
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc()
        row["passed"] = False
        return row
    finally:
        logging.getLogger("fitdoctor").removeHandler(handler)
    problems = report.ids()
    row["problems"] = problems
    row["infos"] = [f.id for f in report.findings if not f.is_problem]
    why = []
    top = problems[:TOP_K]
    why += [f"`{e}` not in the top {TOP_K}" for e in case.expected if e not in top]
    why += [f"`{f}` raised" for f in case.forbidden if f in problems]
    if case.first is not None:
        if not case.first and problems:
            why.append("a problem raised on a setup that should have none")
        elif case.first and (not problems or problems[0] not in case.first):
            why.append(f"first is `{problems[0] if problems else None}`, not the root cause")
    if extra:
        why.append(extra)
    row["why_not"] = why
    row["passed"] = not why
    return row


def render(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [f"Commit {meta['commit']}, budget `standard`, seed 0; {meta['started']}.", "",
             "| case | the problem it tests | problem findings, ranked | result |",
             "|---|---|---|---|"]
    for r in rows:
        found = ", ".join(f"`{p}`" for p in r["problems"]) or "none"
        result = "pass" if r["passed"] else "FAIL: " + (r["error"] or "; ".join(r["why_not"]))
        lines.append(f"| `{r['case']}` | {r['problem']} | {found} | {result} |")
    passed = sum(r["passed"] for r in rows)
    lines += ["", f"**{passed}/{len(rows)} cases right.**"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--only", action="append", metavar="NAME")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"error: no data folder {args.data} (pass --data)", file=sys.stderr)
        return 2
    cases = [c for c in CASES if not args.only or any(o in c.name for o in args.only)]
    meta = {"commit": commit(), "started": time.strftime("%Y-%m-%d %H:%M")}
    rows = []
    args.out.mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(cases, 1):
        print(f"[{i}/{len(cases)}] {case.name} ...", file=sys.stderr, flush=True)
        row = run_case(case, args.data)
        print(f"    {'pass' if row['passed'] else 'FAIL'} {row['problems']} "
              f"{row['error'] or row['why_not']}", file=sys.stderr, flush=True)
        rows.append(row)
        (args.out / "real_data.json").write_text(json.dumps({"meta": meta, "rows": rows},
                                                           indent=2, default=str))
    text = render(rows, meta)
    (args.out / "real_data.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
