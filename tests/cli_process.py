"""Run the real `fitdoctor` command in a child process, as a user's shell would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: The console script beside the interpreter running the tests (`.venv/bin/fitdoctor`).
SCRIPT = Path(sys.executable).with_name("fitdoctor")


def run_fitdoctor(*args: str, cwd: Path | None = None, timeout: float = 300
                  ) -> subprocess.CompletedProcess:
    """Run `fitdoctor ARGS` in a fresh process with a user's environment; return its result.

    TensorFlow's log variables are removed from the environment: a user has not set them. Falls
    back to `python -m fitdoctor.cli` where the console script is not installed.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "fitdoctor.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout, check=False)


def stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    """The non-empty lines the command wrote to stderr."""
    return [line for line in result.stderr.splitlines() if line.strip()]
