#!/usr/bin/env bash
# Issue 14's stress check: run the duplicate-trial test (two `tune` workers starting one fresh
# PostgreSQL study at the same instant, four rounds) N times in a row while H busy processes
# load the CPU. Prints one line per run and the count that passed.
#
#   scripts/race_loop.sh [N=20] [H=2]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
hogs=${2:-2}
pids=()
for _ in $(seq 1 "$hogs"); do
    python3 -c "while True: pass" &
    pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
passed=0
for i in $(seq 1 "$runs"); do
    start=$(date +%s)
    if .venv/bin/python -m pytest -q -p no:cacheprovider \
        "tests/test_tune_postgres.py::test_two_workers_lose_and_duplicate_no_trial" \
        > "/tmp/race_loop_$i.log" 2>&1; then
        passed=$((passed + 1)); verdict=passed
    else
        verdict="FAILED (see /tmp/race_loop_$i.log)"
    fi
    echo "run $i: $verdict in $(( $(date +%s) - start )) s, load $(cut -d' ' -f1 /proc/loadavg)"
done
echo "$passed/$runs passed with $hogs busy processes"
[ "$passed" = "$runs" ]
