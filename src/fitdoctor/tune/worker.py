"""A local tune worker process: `python -m fitdoctor.tune.worker PLAN.json`.

`tune(workers=N)` starts N-1 of these beside itself; each loads the setup file and runs its share
of trials on the shared study.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Run the trials of the worker plan whose JSON file is the only argument."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m fitdoctor.tune.worker PLAN.json\n")
        return 2
    import optuna

    from fitdoctor.setup import load_setup
    from fitdoctor.tune.run import WorkerPlan, run_worker

    logging.basicConfig(level=logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    plan = WorkerPlan.from_json(Path(args[0]).read_text(encoding="utf-8"))
    setup = load_setup(plan.setup_path, seed=plan.setup_seed)
    run_worker(setup, plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
