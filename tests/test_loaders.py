"""Data given as files: CSV/Parquet tables and image folders, their errors and the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.datasets import load_iris
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.errors import DataError
from fitdoctor.loaders import read_image_folder, setup_from_images, setup_from_table


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
    assert [type(layer).__name__ for layer in model.layers][0] == "Normalization"


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
    frame["ticket"] = np.where(frame.index % 3 == 0, "A/5 " + frame.index.astype(str),
                               (1000 + frame.index).astype(str))
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
def test_cli_bad_data_exits_2_with_one_line(tmp_path, args, message):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "ok.csv").write_text("a,y\n1,0\n2,1\n")
    (tmp_path / "one.csv").write_text("a,y\n1,0\n2,0\n")
    (tmp_path / "mixed.csv").write_text("a,y\n" + "1,0\n2,1\n" * 5 + "foo,1\n")
    write_images(tmp_path / "imgs", n=2)
    (tmp_path / "imgs" / "dog" / "bad.jpg").write_bytes(b"\x00\x01")
    result = CliRunner().invoke(app, ["diagnose", *[a.format(tmp=tmp_path) for a in args]])
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.slow
def test_cli_diagnoses_a_csv_with_missing_values(tmp_path):
    frame = iris_frame()
    frame.loc[::9, "sepal length (cm)"] = np.nan
    frame.to_csv(tmp_path / "iris.csv", index=False)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["diagnose", "--data", str(tmp_path / "iris.csv"),
                                      "--target", "species", "--epochs", "3",
                                      "--budget", "quick", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = pd.read_json(out, typ="series")
    ids = [f["id"] for f in report["findings"]]
    assert "missing_values" in ids
    missing = next(f for f in report["findings"] if f["id"] == "missing_values")
    assert "sepal length (cm)" in missing["evidence"]["by_column"]
