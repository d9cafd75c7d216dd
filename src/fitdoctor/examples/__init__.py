"""Bundled example setups (data from scikit-learn, which ships it)."""

from pathlib import Path

HERE = Path(__file__).parent


def demo_setup_path() -> Path:
    """The setup file `fitdoctor demo` diagnoses."""
    return HERE / "digits_broken.py"
