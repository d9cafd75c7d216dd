"""Bad input of every kind: a one-line error naming what was wrong and exit code 2, or a finding.

Never a traceback or a hang. Each case has its fixture generated here, small, and a twin that
shows the healthy input still goes through. The last test runs the real `fitdoctor` command on
every case and holds it to exactly one line on stderr.
"""

from __future__ import annotations

import io
import logging
import signal
import textwrap
import time
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.cli.app import load_time_limit
from fitdoctor.errors import SetupError
from fitdoctor.loaders import read_image_folder, read_table, setup_from_table
from tests.cli_process import run_fitdoctor, stderr_lines

runner = CliRunner()


@pytest.fixture
def one_line_exit_2(capfd):
    """Run the CLI in-process; assert exit code 2, a one-line message and nothing written to
    the file descriptors by native code (TensorFlow, libjpeg); return the message."""

    def run(args: list[str]) -> str:
        capfd.readouterr()
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert capfd.readouterr() == ("", "")
        return lines[0]

    return run


def small_table(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).round(3)
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2],
                         "y": np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")})


# --- tables


def write_truncated(path):
    path.write_text(small_table(12).to_csv(index=False) + "0.25,-1.5")  # cut in row 13
    return path


def test_a_csv_cut_mid_row_is_one_line_naming_the_line(tmp_path, one_line_exit_2):
    path = write_truncated(tmp_path / "cut.csv")
    message = one_line_exit_2(["diagnose", "--data", str(path), "--target", "y"])
    assert f"{path} ends mid-row: its last line (line 14) has 2 of 4 fields" in message


def test_a_complete_csv_without_a_final_line_end_is_read(tmp_path):
    path = tmp_path / "whole.csv"
    path.write_text(small_table(12).to_csv(index=False).rstrip("\n"))
    assert read_table(path).shape == (12, 4)


def test_a_latin_1_csv_is_read_with_a_warning(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    frame = small_table().assign(city=["Zürich", "Málaga", "Besançon", "Köln"] * 10)
    path = tmp_path / "latin1.csv"
    path.write_bytes(frame.to_csv(index=False).encode("latin-1"))
    read = read_table(path)
    assert set(read["city"]) == {"Zürich", "Málaga", "Besançon", "Köln"}
    assert [r.getMessage() for r in caplog.records] == [f"{path} is not UTF-8; read it as Latin-1"]


def test_a_utf_8_csv_is_read_without_a_warning(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    frame = small_table().assign(city=["Zürich", "Köln"] * 20)
    path = tmp_path / "utf8.csv"
    path.write_text(frame.to_csv(index=False), encoding="utf-8")
    assert set(read_table(path)["city"]) == {"Zürich", "Köln"}
    assert caplog.records == []


def test_a_nan_only_column_is_left_out_with_a_warning_naming_it(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    path = tmp_path / "empty_column.csv"
    small_table().assign(d="").to_csv(path, index=False)
    setup = setup_from_table(path, "y", fit={"epochs": 1})
    assert setup.feature_names == ("a", "b", "c")
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: column 'd' is empty in every row; left out of the features"]


def test_a_table_whose_columns_all_have_values_keeps_them(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fitdoctor")
    path = tmp_path / "full.csv"
    small_table().assign(d=[np.nan] * 39 + [1.0]).to_csv(path, index=False)
    setup = setup_from_table(path, "y", fit={"epochs": 1})
    assert setup.feature_names == ("a", "b", "c", "d")
    assert not any("left out" in r.getMessage() for r in caplog.records)


def test_a_table_of_nothing_but_an_empty_column_is_one_line(tmp_path, one_line_exit_2):
    path = tmp_path / "nothing.csv"
    path.write_text("d,y\n" + ",yes\n,no\n" * 20)
    message = one_line_exit_2(["diagnose", "--data", str(path), "--target", "y"])
    assert message == (f"error: {path} has no usable feature columns besides the target 'y'")


def test_ten_thousand_classes_in_as_many_rows_is_one_line(tmp_path, one_line_exit_2):
    path = tmp_path / "classes.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=10_000).round(3),
                  "label": [f"c{i}" for i in range(10_000)]}).to_csv(path, index=False)
    message = one_line_exit_2(["diagnose", "--data", str(path), "--target", "label"])
    assert "target column 'label' has 10000 classes in 10000 rows (1.0 rows per class)" in message
    assert "Is 'label' the label column?" in message


def test_sixty_classes_with_enough_rows_each_are_a_classification(tmp_path):
    path = tmp_path / "classes.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=600).round(3),
                  "label": [f"c{i % 60}" for i in range(600)]}).to_csv(path, index=False)
    setup = setup_from_table(path, "label", fit={"epochs": 1})
    assert setup.task.kind == "multiclass" and setup.task.n_classes == 60


# --- images


def save_image(path, mode: str, size: tuple[int, int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    rgba = rng.integers(0, 256, size=(size[1], size[0], 4)).astype("uint8")
    img = Image.fromarray(rgba, "RGBA")
    if mode == "P":
        img = img.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)
        img.info["transparency"] = 0
    elif mode != "RGBA":
        img = img.convert(mode)
    img.save(path)


def mixed_image_folder(root):
    kinds = [("RGB", (20, 24), "jpg"), ("L", (30, 30), "png"), ("RGBA", (16, 12), "png"),
             ("P", (10, 40), "png")]
    for c, name in enumerate(("cat", "dog")):
        (root / name).mkdir(parents=True)
        for i, (mode, size, ext) in enumerate(kinds):
            save_image(root / name / f"{i}.{ext}", mode, size, seed=10 * c + i)
    return root


def test_images_of_mixed_sizes_and_modes_are_converted_and_resized(tmp_path):
    folder = mixed_image_folder(tmp_path / "imgs")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no PIL warning about palettes or transparency
        x, y, classes = read_image_folder(folder, (16, 16))
    assert x.shape == (8, 16, 16, 3) and x.dtype == np.float32
    assert classes == ["cat", "dog"] and y.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert np.isfinite(x).all() and 0 <= x.min() and x.max() <= 255


def jpeg_bytes(seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(seed).integers(0, 256, size=(32, 32, 3)).astype("uint8")
    Image.fromarray(pixels).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("damage", ["truncated", "garbled"])
def test_a_corrupt_jpeg_is_one_line_naming_the_file(tmp_path, damage, one_line_exit_2):
    folder = mixed_image_folder(tmp_path / "imgs")
    data = bytearray(jpeg_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2: len(data) // 2 + 200] = b"\xff" * 200
    (folder / "dog" / "broken.jpg").write_bytes(bytes(data))
    message = one_line_exit_2(["diagnose", "--data", str(folder)])
    assert f"cannot read image {folder / 'dog' / 'broken.jpg'}" in message


# --- a saved model with a Lambda layer


def save_lambda_model(path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2.0),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.save(path)
    return path


def test_a_lambda_layer_is_refused_in_safe_mode_with_the_way_out(tmp_path, one_line_exit_2):
    path = tmp_path / "t.csv"
    small_table().to_csv(path, index=False)
    model = save_lambda_model(tmp_path / "lambda.keras")
    message = one_line_exit_2(["diagnose", "--data", str(path), "--target", "y",
                               "--model", str(model)])
    assert f"{model} holds a Lambda layer (Python code)" in message
    assert "if you trust the file, pass --unsafe-model" in message


def test_a_trusted_lambda_model_loads_with_safe_mode_off(tmp_path):
    path = tmp_path / "t.csv"
    small_table().to_csv(path, index=False)
    model_path = save_lambda_model(tmp_path / "lambda.keras")
    setup = setup_from_table(path, "y", model_path=model_path, fit={"epochs": 1},
                             safe_mode=False)
    first, second = setup.build_model(), setup.build_model()
    assert type(first.layers[0]).__name__ == "Lambda" and first.compiled
    assert first is not second
    assert np.allclose(first.predict(np.ones((2, 3)), verbose=0).shape, (2, 1))


# --- a setup whose load_data hangs

HANGING = textwrap.dedent(
    """
    import time

    import keras
    import numpy as np

    def load_data():
        time.sleep(600)

    def build_model():
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model
    """
)


@pytest.mark.parametrize("command, option", [
    ("diagnose", "--timeout"), ("fix", "--timeout"), ("tune", "--load-timeout"),
])
def test_a_hanging_load_data_stops_at_the_timeout(tmp_path, command, option, one_line_exit_2):
    setup = tmp_path / "hangs.py"
    setup.write_text(HANGING)
    extra = ["--out", str(tmp_path / "out")] if command == "fix" else []
    started = time.monotonic()
    message = one_line_exit_2([command, str(setup), option, "1", *extra])
    assert time.monotonic() - started < 60
    assert message == f"error: load_data() did not return within 1 s ({option})"


def test_a_hanging_module_is_named_as_such(tmp_path, one_line_exit_2):
    setup = tmp_path / "hangs.py"
    setup.write_text("import time\n\ntime.sleep(600)\n")
    message = one_line_exit_2(["diagnose", str(setup), "--timeout", "0.5"])
    assert message == f"error: {setup}'s module code did not return within 0.5 s (--timeout)"


def test_a_block_within_the_time_limit_runs_and_the_alarm_is_restored():
    before = signal.getsignal(signal.SIGALRM)
    with load_time_limit(30, None):
        total = sum(range(1000))
    assert total == 499500
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_non_positive_timeout_is_refused():
    with pytest.raises(SetupError, match=r"--timeout must be positive. Received: 0"), \
            load_time_limit(0, None):
        pass


# --- the real command: one line on stderr for every bad-input case

def bad_input_cases(tmp_path) -> dict[str, tuple[list[str], str]]:
    """Each bad input the CLI meets, as (arguments, a part of its one-line message)."""
    table = tmp_path / "t.csv"
    small_table().to_csv(table, index=False)
    classes = tmp_path / "classes.csv"
    pd.DataFrame({"x": np.linspace(0, 1, 200) ** 2,
                  "label": [f"c{i}" for i in range(200)]}).to_csv(classes, index=False)
    headerless = tmp_path / "headerless.csv"
    headerless.write_text(small_table().to_csv(index=False, header=False))
    images = mixed_image_folder(tmp_path / "imgs")
    (images / "cat" / "broken.jpg").write_bytes(jpeg_bytes()[:300])
    hangs = tmp_path / "hangs.py"
    hangs.write_text(HANGING)
    return {
        "missing setup": (["diagnose", str(tmp_path / "missing.py")], "setup file not found"),
        "missing data": (["diagnose", "--data", str(tmp_path / "no.csv"), "--target", "y"],
                         "data file not found"),
        "unknown target": (["diagnose", "--data", str(table), "--target", "label"],
                           "has no column 'label'"),
        "headerless": (["diagnose", "--data", str(headerless), "--target", "y"],
                       "has no header row? its first row looks like data"),
        "truncated": (["diagnose", "--data", str(write_truncated(tmp_path / "cut.csv")),
                       "--target", "y"], "ends mid-row"),
        "classes": (["diagnose", "--data", str(classes), "--target", "label"],
                    "200 classes in 200 rows"),
        "corrupt jpeg": (["diagnose", "--data", str(images)], "cannot read image"),
        "lambda": (["diagnose", "--data", str(table), "--target", "y", "--model",
                    str(save_lambda_model(tmp_path / "lambda.keras"))], "--unsafe-model"),
        "hangs": (["diagnose", str(hangs), "--timeout", "1"], "load_data() did not return"),
    }


#: The in-process tests above see every case's message and any native output after start-up;
#: these run the real command (start-up included) on the kinds of failure: a missing file, a
#: warning held back behind the error, reading data, native image decoding, Keras loading a
#: model, and the alarm.
CASES = ["missing data", "headerless", "classes", "corrupt jpeg", "lambda", "hangs"]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_the_real_command_prints_one_line_for_each_bad_input(tmp_path, case):
    args, expected = bad_input_cases(tmp_path)[case]
    result = run_fitdoctor(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = stderr_lines(result)
    assert line.startswith("error: ") and expected in line
    assert result.stdout == ""


def test_more_classes_than_held_out_rows_is_held_out_without_strata(tmp_path):
    path = tmp_path / "classes.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=180).round(3),
                  "label": [f"c{i % 60}" for i in range(180)]}).to_csv(path, index=False)
    setup = setup_from_table(path, "label", fit={"epochs": 1})  # 36 held-out rows, 60 classes
    assert setup.val_source == "held_out" and len(setup.x_val) == 36


# --- a load_data() that changes between calls

_DRIFTING = """
import keras, numpy as np
from sklearn.datasets import load_digits
CALLS = []
def load_data():
    CALLS.append(1)
    x, y = load_digits(return_X_y=True)
    x = (x / 16).astype("float32")
    n_val = 300 + 50 * len(CALLS)  # a different validation split on every call
    def batches():
        while True:
            yield x[n_val:n_val + 64], y[n_val:n_val + 64]
    return batches(), (x[:n_val], y[:n_val])
def build_model():
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m
FIT = {"epochs": 1, "steps_per_epoch": 3}
"""


def test_a_load_data_that_returns_other_data_on_a_second_call_is_one_line(tmp_path,
                                                                         one_line_exit_2):
    (tmp_path / "drifting.py").write_text(_DRIFTING)
    message = one_line_exit_2(["diagnose", str(tmp_path / "drifting.py"), "--budget", "quick"])
    assert "different validation data on its second call" in message


def test_a_load_data_that_returns_the_same_data_each_call_is_diagnosed(tmp_path):
    (tmp_path / "steady.py").write_text(_DRIFTING.replace("50 * len(CALLS)", "0"))
    result = runner.invoke(app, ["diagnose", str(tmp_path / "steady.py"), "--budget", "quick"])
    assert result.exit_code == 0, result.output
