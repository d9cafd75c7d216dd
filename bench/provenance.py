"""Where a benchmark figure came from: the commit and the machine, for every table's first line."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def commit() -> str:
    """The checkout's short commit, with `+dirty` when tracked files have uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE, text=True, capture_output=True,
                              check=True, timeout=10).stdout.strip()

    try:
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> str:
    """The processor, its cores and the Python that ran the figure."""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")


def table_head(meta: dict, columns: list[str]) -> list[str]:
    """A figure's provenance line, then a Markdown table header; numeric columns end in ':'."""
    cells = [c.rstrip(":") for c in columns]
    rules = ["---:" if c.endswith(":") else "---" for c in columns]
    return [f"Commit {meta['commit']}, {meta['repeats']} repeat(s) per case (medians), "
            f"{meta['machine']}.", "",
            "| " + " | ".join(cells) + " |", "|" + "|".join(rules) + "|"]
