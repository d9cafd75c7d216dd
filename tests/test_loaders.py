"""Data given as files: CSV/Parquet tables and image folders, their errors and the CLI."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.datasets import load_iris
from typer.testing import CliRunner

import fitdoctor
from fitdoctor.budget import get_budget
from fitdoctor.checks.loss_output_mismatch import LossOutputMismatch
from fitdoctor.cli import app
from fitdoctor.errors import DataError
from fitdoctor.evidence import Evidence
from fitdoctor.loaders import (
    header_looks_like_data,
    read_image_folder,
    read_table,
    setup_from_images,
    setup_from_table,
    unusable_columns,
)

TITANIC = Path(__file__).parent / "data" / "titanic" / "train300.csv"


def iris_frame(n=None):
    data = load_iris(as_frame=True)
    frame = data.frame.rename(columns={"target": "species"})
    frame["species"] = frame["species"].map(dict(enumerate(data.target_names)))
    frame["colour"] = np.where(frame.index % 2 == 0, "red", "blue")
    return frame if n is None else frame.iloc[:n]


def test_table_setup_encodes_categories_and_keeps_missing_values(tmp_path):
    frame = iris_frame()
    frame.loc[[3, 10], "petal width (cm)"] = np.nan
    frame.loc[5, "colour"] = None
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    setup = setup_from_table(path, "species", fit={"epochs": 1})
    assert setup.task.kind == "multiclass" and setup.task.n_classes == 3
    assert setup.feature_names[-2:] == ("colour=blue", "colour=red")
    assert setup.val_source == "held_out"
    n_missing = np.isnan(setup.x_train).sum() + np.isnan(setup.x_val).sum()
    assert n_missing == 2 + 2  # two widths, and the missing colour in both one-hot columns
    model = setup.build_model()
    assert [type(layer).__name__ for layer in model.layers][:2] == ["FillMissing",
                                                                  "Normalization"]


def test_parquet_with_a_validation_file(tmp_path):
    frame = iris_frame()
    frame.iloc[::3].to_parquet(tmp_path / "val.parquet")
    frame.drop(index=frame.index[::3]).to_parquet(tmp_path / "train.parquet")
    setup = setup_from_table(tmp_path / "train.parquet", "species",
                             val_path=tmp_path / "val.parquet", fit={"epochs": 1})
    assert setup.val_source == "given" and len(setup.x_val) == 50


@pytest.mark.parametrize("content, target, message", [
    ("", "y", "is empty"),
    ("a,b,y\n1,2,0\n3,4,1\n", "label", "has no column 'label'"),
    ("a,b,y\n1,2,0\n3,4,0\n5,6,0\n", "y", "single value"),
    ("a,b,y\n" + "1,2,0\n3,4,1\n" * 5 + "3,x7,1\n", "y",
     "column 'b' mixes numbers and text (row 10"),
    ("a,b,y\n1,2,0\n3,4,\n", "y", "is empty in 1 row"),
])
def test_bad_tables_give_one_line_errors(tmp_path, content, target, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError) as info:
        setup_from_table(path, target)
    assert message in str(info.value) and "\n" not in str(info.value)


def write_images(folder, classes=("cat", "dog"), n=6, size=(20, 24)):
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (folder / name).mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(0, 120, size=(*size, 3)) + 100 * c
            Image.fromarray(pixels.astype("uint8")).save(folder / name / f"{i}.png")


def test_a_code_column_of_numbers_and_text_is_a_category(tmp_path):
    frame = iris_frame()
    codes = frame.index % 40
    frame["ticket"] = np.where(codes % 3 == 0, "A/5 " + codes.astype(str),
                               (1000 + codes).astype(str))
    frame.to_csv(tmp_path / "iris.csv", index=False)
    setup = setup_from_table(tmp_path / "iris.csv", "species", fit={"epochs": 1})
    assert "ticket" in setup.feature_names  # more than 20 codes: one ordinal column


def test_image_folder_reads_resizes_and_builds_a_cnn(tmp_path):
    write_images(tmp_path / "train")
    write_images(tmp_path / "val", n=3)
    setup = setup_from_images(tmp_path, image_size=(16, 16), fit={"epochs": 1})
    assert setup.x_train.shape == (12, 16, 16, 3) and setup.x_val.shape == (6, 16, 16, 3)
    assert setup.x_train.max() > 100  # pixels stay 0-255; the model rescales them
    assert type(setup.build_model().layers[0]).__name__ == "Rescaling"


def test_unreadable_image_and_single_class_folder(tmp_path):
    write_images(tmp_path / "imgs")
    (tmp_path / "imgs" / "cat" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="cannot read image .*broken.png"):
        read_image_folder(tmp_path / "imgs")
    write_images(tmp_path / "one", classes=("cat",))
    with pytest.raises(DataError, match="single class folder"):
        setup_from_images(tmp_path / "one")


@pytest.mark.parametrize("args, message", [
    (["--data", "{tmp}/missing.csv", "--target", "y"], "data file not found"),
    (["--data", "{tmp}/empty.csv", "--target", "y"], "is empty"),
    (["--data", "{tmp}/ok.csv", "--target", "nope"], "has no column 'nope'"),
    (["--data", "{tmp}/ok.csv"], "--target is required"),
    (["--data", "{tmp}/one.csv", "--target", "y"], "single value"),
    (["--data", "{tmp}/mixed.csv", "--target", "y"], "mixes numbers and text"),
    (["--data", "{tmp}/imgs"], "cannot read image"),
    ([], "give either a setup file"),
])
def test_cli_bad_data_exits_2_with_one_line(tmp_path, capfd, args, message):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "ok.csv").write_text("a,y\n1,0\n2,1\n")
    (tmp_path / "one.csv").write_text("a,y\n1,0\n2,0\n")
    (tmp_path / "mixed.csv").write_text("a,y\n" + "1,0\n2,1\n" * 5 + "foo,1\n")
    write_images(tmp_path / "imgs", n=2)
    (tmp_path / "imgs" / "dog" / "bad.jpg").write_bytes(b"\x00\x01")
    capfd.readouterr()
    result = CliRunner().invoke(app, ["diagnose", *[a.format(tmp=tmp_path) for a in args]])
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ") and message in line
    assert capfd.readouterr() == ("", "")  # nothing from native code either


@pytest.mark.slow
def test_cli_diagnoses_a_csv_with_missing_values_for_a_saved_model(tmp_path):
    frame = iris_frame()
    frame["sepal length (cm)"] = frame["sepal length (cm)"].astype(object)
    frame.loc[::9, "sepal length (cm)"] = "?"
    frame.to_csv(tmp_path / "iris.csv", index=False)
    model = save_classifier(tmp_path / "m.keras", "categorical_crossentropy")
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["diagnose", "--data", str(tmp_path / "iris.csv"),
                                      "--target", "species", "--model", str(model),
                                      "--epochs", "3", "--budget", "quick", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "read '?' as missing in 1 column(s): sepal length (cm) (17)" in result.output
    report = pd.read_json(out, typ="series")
    ids = [f["id"] for f in report["findings"]]
    assert "missing_values" in ids and "loss_output_mismatch" not in ids  # one-hot labels
    missing = next(f for f in report["findings"] if f["id"] == "missing_values")
    assert missing["severity"] == "critical"
    assert "sepal length (cm)" in missing["evidence"]["by_column"]


# --- --data mode: sentinel missing values, IDs and free text, the header, labels, imputation

ADULT = Path(__file__).parent / "data" / "adult" / "adult300.data"
ADULT_COLUMNS = ("age,workclass,fnlwgt,education,education-num,marital-status,occupation,"
                 "relationship,race,sex,capital-gain,capital-loss,hours-per-week,"
                 "native-country,income")


def adult_with_header(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(ADULT_COLUMNS + "\n" + ADULT.read_text())
    return path


def warnings_of(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_adults_question_marks_are_read_as_missing_and_named(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    frame = read_table(adult_with_header(tmp_path))
    assert frame["workclass"].isna().sum() == 16 and frame["native-country"].isna().sum() == 8
    assert "?" not in set(frame["occupation"].dropna())
    assert frame["workclass"].iloc[0] == "State-gov"  # the space after each comma is gone
    [message] = [m for m in warnings_of(caplog) if "as missing" in m]
    assert "read '?' as missing in 3 column(s): workclass (16), occupation (16)" in message
    assert "native-country (8)" in message


def test_missing_text_values_are_counted_per_column_of_the_table_not_per_one_hot_column(
        tmp_path):
    setup = setup_from_table(adult_with_header(tmp_path), "income", fit={"epochs": 1})
    report = fitdoctor.diagnose(setup=setup, checks=["missing_values"], budget="quick")
    [found] = [f for f in report.findings if f.id == "missing_values"]
    by_column = found.evidence["by_column"]
    # a '?' in occupation blanks every occupation=... column of the row: one missing value
    assert set(by_column) == {"workclass", "occupation", "native-country"}
    assert {c: n["train"] + n["val"] for c, n in by_column.items()} == {
        "workclass": 16, "occupation": 16, "native-country": 8}
    assert "40 values are missing (workclass, occupation, native-country)" in found.title


@pytest.mark.parametrize("marker", ["?", " ?", "NA", "N/A", "null", "None", "nan", ""])
def test_missing_value_markers_leave_a_numeric_column_numeric(tmp_path, caplog, marker):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    rows = [f"{i},{i % 3},{'a' if i % 2 else 'b'}" for i in range(10)]
    rows[4] = f"{marker},1,a"
    rows[6] = f"6,1,{marker}"
    path = tmp_path / "t.csv"
    path.write_text("x,y,c\n" + "\n".join(rows) + "\n")
    frame = read_table(path)
    assert pd.api.types.is_numeric_dtype(frame["x"]) and frame["x"].isna().sum() == 1
    assert frame["c"].isna().sum() == 1 and set(frame["c"].dropna()) == {"a", "b"}
    if marker.strip():
        [message] = warnings_of(caplog)
        assert f"read {marker.strip()!r} as missing in 2 column(s): x (1), c (1)" in message


def test_a_table_without_markers_is_read_without_a_warning(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    path = tmp_path / "iris.csv"
    iris_frame().to_csv(path, index=False)
    frame = read_table(path)
    assert frame.isna().sum().sum() == 0 and warnings_of(caplog) == []
    assert pd.api.types.is_numeric_dtype(frame["sepal length (cm)"])


def test_a_headerless_file_gets_a_hint(tmp_path, caplog):
    with pytest.raises(DataError) as info:
        setup_from_table(ADULT, "income")
    message = str(info.value)
    assert "has no column 'income'; its columns are: 39, State-gov, 77516" in message
    assert message.endswith("has no header row? its first row looks like data")
    pima = tmp_path / "pima.csv"
    rng = np.random.default_rng(0)
    rows = [",".join(str(v) for v in [*rng.integers(0, 200, 4), i % 2]) for i in range(60)]
    pima.write_text("\n".join(rows) + "\n")
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    setup_from_table(pima, rows[0].split(",")[-1], fit={"epochs": 1})
    assert any("has no header row?" in m for m in warnings_of(caplog))


def test_a_file_with_a_header_gets_no_hint(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    setup = setup_from_table(adult_with_header(tmp_path), "income", fit={"epochs": 1})
    assert setup.task.kind == "binary" and setup.n_train + len(setup.x_val) == 300
    assert not any("no header row" in m for m in warnings_of(caplog))
    assert header_looks_like_data(iris_frame()) is False


def test_ids_names_and_free_text_are_left_out_with_a_warning(caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    setup = setup_from_table(TITANIC, "Survived", fit={"epochs": 1})
    names = set(setup.feature_names)
    assert not names & {"PassengerId", "Name", "Ticket", "Cabin"}
    assert {"Pclass", "Age", "Fare", "Sex=male"} <= names
    shown = " ".join(warnings_of(caplog))
    assert "column 'PassengerId' is an ID: a different whole number in every row" in shown
    assert "column 'Name' is unique per row (an ID or a name)" in shown
    assert "column 'Ticket' is free text (268 distinct values in 300 rows)" in shown
    # and the report keeps them: the terminal's warnings scroll away
    assert [n for n in setup.notes if "'Name'" in n] == [
        f"{TITANIC}: column 'Name' is unique per row (an ID or a name); left out of the features"]
    assert setup.summary()["notes"] == list(setup.notes)
    from fitdoctor.report.summary import data_notes

    assert set(setup.notes) <= set(data_notes(setup.summary()))


def test_a_table_fitdoctor_left_whole_has_no_notes(tmp_path):
    path = tmp_path / "iris.csv"
    iris_frame().to_csv(path, index=False)
    setup = setup_from_table(path, "species", fit={"epochs": 1})
    assert setup.notes == () and "notes" not in setup.summary()


def test_measurements_and_categories_are_kept():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "weight": rng.normal(size=150),                        # unique floats: a measurement
        "fnlwgt": rng.choice(10**6, size=150, replace=False),  # unique whole numbers, wide span
        "city": [f"c{i % 30}" for i in range(150)],            # 30 categories in 150 rows
        "flag": rng.integers(0, 2, 150),
    })
    assert unusable_columns(frame) == {}
    assert unusable_columns(frame.iloc[:10].assign(id=range(10))) == {}  # too few rows to tell


def test_the_default_model_fills_missing_values_and_says_so(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    setup = setup_from_table(adult_with_header(tmp_path), "income", fit={"epochs": 1})
    assert np.isnan(setup.x_train).any()  # the audit still sees the missing values
    assert any("fills missing values with the training medians" in m
               for m in warnings_of(caplog))
    keras.utils.set_random_seed(0)
    model = setup.build_model()
    assert type(model.layers[0]).__name__ == "FillMissing"
    history = model.fit(setup.x_train, setup.y_train, epochs=2, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    report = fitdoctor.diagnose(setup=setup, budget="quick", checks=["missing_values"])
    finding = report.get("missing_values")  # filled by our model: still the user's finding
    assert finding is not None and finding.severity.value == "warning"
    assert "fitdoctor's own model fills them" in finding.title


def test_the_default_model_without_missing_values_has_no_filling_layer(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    path = tmp_path / "iris.csv"
    iris_frame().to_csv(path, index=False)
    setup = setup_from_table(path, "species", fit={"epochs": 1})
    assert type(setup.build_model().layers[0]).__name__ == "Normalization"
    assert warnings_of(caplog) == []


def save_classifier(path, loss, units=3, activation="softmax"):
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(units, activation=activation)])
    model.compile("adam", loss, metrics=["accuracy"])
    model.save(path)
    return path


@pytest.mark.parametrize("loss, units, activation, shape", [
    ("categorical_crossentropy", 3, "softmax", (3,)),
    (keras.losses.CategoricalCrossentropy(), 3, "softmax", (3,)),
    ("sparse_categorical_crossentropy", 3, "softmax", ()),
])
def test_labels_are_encoded_for_the_saved_models_loss(tmp_path, loss, units, activation, shape):
    path = tmp_path / "iris.csv"
    iris_frame().to_csv(path, index=False)
    model = save_classifier(tmp_path / "m.keras", loss, units, activation)
    setup = setup_from_table(path, "species", model_path=model, fit={"epochs": 1})
    assert setup.y_train.shape[1:] == shape and setup.y_val.shape[1:] == shape
    evidence = Evidence(setup, get_budget("quick"))
    assert LossOutputMismatch().run(evidence) == []


def test_binary_labels_for_a_sigmoid_model_are_zero_and_one(tmp_path):
    path = tmp_path / "two.csv"
    iris_frame(100).to_csv(path, index=False)  # setosa and versicolor
    model = save_classifier(tmp_path / "m.keras", "binary_crossentropy", 1, "sigmoid")
    setup = setup_from_table(path, "species", model_path=model, fit={"epochs": 1})
    assert setup.y_train.ndim == 1 and set(np.unique(setup.y_train)) == {0, 1}
    assert LossOutputMismatch().run(Evidence(setup, get_budget("quick"))) == []


def test_a_real_mismatch_is_still_reported(tmp_path):
    path = tmp_path / "iris.csv"
    iris_frame().to_csv(path, index=False)
    model = save_classifier(tmp_path / "m.keras", "binary_crossentropy", 3, "softmax")
    setup = setup_from_table(path, "species", model_path=model, fit={"epochs": 1})
    assert [f.id for f in LossOutputMismatch().run(Evidence(setup, get_budget("quick")))] == [
        "loss_output_mismatch"]


def test_markers_in_a_parquet_file_are_read_as_missing(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    frame = pd.DataFrame({"age": ["39", " ?", "41", "NA"] * 10, "job": ["a", "b", "?", "a"] * 10})
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    read = read_table(path)
    assert pd.api.types.is_numeric_dtype(read["age"]) and read["age"].isna().sum() == 20
    assert read["job"].isna().sum() == 10
    assert any("read '?' as missing in 2 column(s): age (10), job (10)" in m
               for m in warnings_of(caplog))
