#!/bin/sh
# Run every benchmark from a fresh clone: ./benchmarks/run_all.sh [--quick]
# Creates .venv with the package and its dev extras if it is missing, then runs each script in turn.
# Exit status: 0 if every target printed was met.
set -u
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' || exit 2
fi
status=0
for bench in benchmarks/bench_*.py; do
    echo "== $bench"
    .venv/bin/python "$bench" "$@" || status=1
    echo
done
exit $status
