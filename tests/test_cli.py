"""The command line: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
import os
import textwrap

import pytest
from typer.testing import CliRunner

from fitdoctor._startup import native_stderr_hidden, running_as_cli
from fitdoctor.cli import app
from tests.cli_process import run_fitdoctor, stderr_lines

runner = CliRunner()

TINY = textwrap.dedent(
    """
    import keras
    import numpy as np

    def load_data():
        rng = np.random.default_rng(0)
        x = rng.normal(size=(80, 4)).astype("float32")
        y = (x[:, 0] + x[:, 1] > 0).astype("int64")
        return (x[:60], y[:60]), (x[60:], y[60:])

    def build_model():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    FIT = {"epochs": 2, "batch_size": 16}
    """
)


def test_a_missing_setup_file_is_one_line_and_exit_code_2(tmp_path):
    result = runner.invoke(app, ["diagnose", str(tmp_path / "missing.py")])
    assert result.exit_code == 2
    assert "setup file not found" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path):
    result = runner.invoke(app, ["diagnose", str(tmp_path / "missing.py"), "--debug"])
    assert result.exit_code != 0
    assert result.exception is not None and "setup file not found" in str(result.exception)


def test_an_unknown_budget_is_refused(tmp_path):
    setup = tmp_path / "setup.py"
    setup.write_text(TINY)
    result = runner.invoke(app, ["diagnose", str(setup), "--budget", "huge"])
    assert result.exit_code == 2
    assert "budget must be one of quick, standard, thorough" in result.output


def test_diagnose_writes_json_and_leaves_the_setup_file_alone(tmp_path):
    setup = tmp_path / "setup.py"
    setup.write_text(TINY)
    before = setup.read_bytes()
    out = tmp_path / "out" / "report.json"
    result = runner.invoke(app, ["diagnose", str(setup), "--json", str(out), "--budget", "quick"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["setup"]["task"] == "binary" and data["setup"]["n_train"] == 60
    assert isinstance(data["findings"], list)
    for finding in data["findings"]:
        assert {"id", "severity", "title", "evidence", "fix"} <= finding.keys()
    assert setup.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "setup.py"]


@pytest.mark.slow
def test_the_real_command_prints_one_line_for_a_missing_setup_file(tmp_path):
    result = run_fitdoctor("diagnose", "missing.py", cwd=tmp_path)
    assert result.returncode == 2
    assert stderr_lines(result) == ["error: setup file not found: missing.py"]
    assert result.stdout == ""


@pytest.mark.slow
def test_the_real_command_with_debug_shows_the_traceback(tmp_path):
    result = run_fitdoctor("diagnose", "missing.py", "--debug", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "setup file not found" in result.stderr


@pytest.mark.parametrize("argv, orig_argv, expected", [
    (["/venv/bin/fitdoctor", "diagnose"], ["/venv/bin/python", "/venv/bin/fitdoctor"], True),
    (["-m", "diagnose"], ["python", "-m", "fitdoctor.cli", "diagnose"], True),
    (["/usr/bin/pytest", "-q"], ["python", "/usr/bin/pytest", "-q"], False),
    (["-m"], ["python", "-m", "pytest"], False),
    (["my_script.py"], ["python", "my_script.py"], False),
])
def test_only_the_command_line_counts_as_the_cli(argv, orig_argv, expected):
    assert running_as_cli(argv, orig_argv) is expected


def test_native_stderr_is_hidden_for_the_block_and_restored(capfd):
    with native_stderr_hidden():
        os.write(2, b"I0000 native start-up chatter\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_native_stderr_is_written_back_when_the_block_fails(capfd):
    with pytest.raises(ImportError), native_stderr_hidden():
        os.write(2, b"why the import failed\n")
        raise ImportError("broken")
    assert capfd.readouterr().err == "why the import failed\n"


@pytest.mark.slow
def test_a_training_script_gets_its_arguments_after_the_separator(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        "import argparse, sys\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--rows', type=int, required=True)\n"
        "args = parser.parse_args()\n"
        "print('no fit here', args.rows)\n")
    result = run_fitdoctor("diagnose", str(script), "--", "--rows", "5", cwd=tmp_path)
    assert result.returncode == 2
    assert stderr_lines(result) == [
        f"error: {script} never calls model.fit, and defines no load_data() and build_model(); "
        "see the README's setup contract"]
    missing_args = run_fitdoctor("diagnose", str(script), cwd=tmp_path)
    assert missing_args.returncode == 2 and "exited (code 2)" in missing_args.stderr


@pytest.mark.parametrize("debug", [False, True])
def test_deprecation_notes_stay_hidden_even_when_a_library_leaves_always_on(debug):
    """A `simplefilter("always")` leaked by overlapping `catch_warnings` blocks in two threads
    must not bring libraries' deprecation notes back; --debug shows them, and other warnings
    are always shown."""
    import warnings

    from fitdoctor.cli.app import user_errors

    shown = []
    with warnings.catch_warnings():  # the test's own: restores filters and showwarning
        warnings.showwarning = lambda message, *args, **kwargs: shown.append(str(message))
        with user_errors(debug):
            warnings.simplefilter("always")  # what the leaked block leaves behind
            warnings.warn("old API", DeprecationWarning, stacklevel=1)
            warnings.warn("odd values", RuntimeWarning, stacklevel=1)
    assert shown == (["old API", "odd values"] if debug else ["odd values"])
