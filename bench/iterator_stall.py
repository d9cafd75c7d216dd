"""How long freeing a tf.data iterator of Keras' array pipeline takes, autotuned or not.

The stall behind fix's slowest runs (`bench/results/stalls/`): freeing an iterator wakes
tf.data's autotuning thread and waits for it to end, and the wake-up can be lost, so the
freeing waits out the rest of the thread's optimization period (`fitdoctor.tf_data`). This
builds the very pipeline Keras builds for `fit(x, y)` on arrays (`ArrayDataAdapter`), draws
batches from it for `--hold` seconds, frees the iterator and times the freeing; alternately
as Keras builds it and inside `fitdoctor.tf_data.keras_pipelines_without_autotune()`, as fitdoctor's
runs do. `--busy N` keeps N other processes spinning, as a training run keeps a 2-core
machine busy: the lost wake-up needs the freeing thread to be held up between the two steps
of the cancellation.

Usage:
    python bench/iterator_stall.py --trials 300 --hold 0.4 --busy 2 \
        --out bench/results/iterator_stall.md
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from provenance import commit, machine  # noqa: E402  (bench/provenance.py)

#: A freeing slower than this counts as a stall (a healthy one takes well under a millisecond).
STALL_SECONDS = 0.05


def free_seconds(x, y, hold: float, autotune: bool) -> float:
    """Draw batches for `hold` seconds from Keras' pipeline over `(x, y)`, then time the freeing."""
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    from fitdoctor.tf_data import keras_pipelines_without_autotune

    adapter = ArrayDataAdapter(x, y, batch_size=32, shuffle=True)
    if autotune:
        dataset = adapter.get_tf_dataset()
    else:
        with keras_pipelines_without_autotune():
            dataset = adapter.get_tf_dataset()
    iterator = iter(dataset.repeat())
    end = time.perf_counter() + hold
    while time.perf_counter() < end:
        next(iterator)
    start = time.perf_counter()
    del iterator  # the last reference: freed here
    seconds = time.perf_counter() - start
    gc.collect()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300, help="pairs of iterators")
    parser.add_argument("--hold", type=float, default=0.4, help="seconds each is drawn from")
    parser.add_argument("--busy", type=int, default=2, help="spinning processes beside")
    parser.add_argument("--out", type=Path, default=None, help="Markdown file to write")
    args = parser.parse_args()

    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((2000, 30), dtype=np.float32)
    y = rng.integers(0, 2, 2000)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(args.busy)]
    seconds: dict[str, list[float]] = {"as Keras builds it": [], "fitdoctor's runs": []}
    began = time.perf_counter()
    try:
        for _ in range(args.trials):
            seconds["as Keras builds it"].append(free_seconds(x, y, args.hold, autotune=True))
            seconds["fitdoctor's runs"].append(free_seconds(x, y, args.hold, autotune=False))
    finally:
        for spinner in spinners:
            spinner.kill()
    lines = [f"Commit {commit()}, {machine()}, `python bench/iterator_stall.py --trials "
             f"{args.trials} --hold {args.hold} --busy {args.busy}` "
             f"({time.perf_counter() - began:.0f} s).", "",
             "| pipeline | iterators freed | stalls (> 50 ms) | median free ms | max free ms |",
             "|---|---:|---:|---:|---:|"]
    for name, values in seconds.items():
        stalls = sum(v > STALL_SECONDS for v in values)
        lines.append(f"| {name} | {len(values)} | {stalls} | "
                     f"{1000 * statistics.median(values):.2f} | {1000 * max(values):.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
