"""A local tune worker process: `python -m fitdoctor.tune.worker PLAN.json`.

`tune(workers=N)` starts N-1 of these beside itself; each loads the setup file and runs its share
of trials on the shared study. Ctrl-C (SIGINT, passed on by the parent) marks the running trial
failed and ends the worker with exit code 130; so does the death of the parent process.
"""

from __future__ import annotations

import _thread
import logging
import os
import sys
import threading
import time
from pathlib import Path


def stop_when_orphaned(parent: int, every: float = 1.0) -> None:
    """Interrupt the main thread once the parent process is gone (the worker is re-parented)."""
    while os.getppid() == parent:
        time.sleep(every)
    _thread.interrupt_main()


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
    threading.Thread(target=stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    try:
        setup = load_setup(plan.setup_path, seed=plan.setup_seed)
        run_worker(setup, plan)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
