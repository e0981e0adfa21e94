#!/bin/sh
# Run the example grids and copy their figures into docs/_static/grid/ (the pages docs/grid.rst and
# docs/grid_examples.rst show them). From the repository root:  sh examples/grids/make_figures.sh [WORKERS]
# Each grid resumes where a previous run stopped (its output directory is $GRID_OUT/NAME, by default
# /tmp/fastmf-grid-examples/NAME); the time printed is that of the run (all tasks when the directory was empty).
set -e
workers=${1:-2}
out=${GRID_OUT:-${TMPDIR:-/tmp}/fastmf-grid-examples}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/docs/_static/grid" "$out"
for name in hopfield_readoff capacity_curie_weiss capacity_maier_saupe binder_cumulant; do
    start=$(date +%s)
    PYTHONPATH="$root/examples/grids${PYTHONPATH:+:$PYTHONPATH}" \
        fastmf grid "$root/examples/grids/$name.toml" --out "$out/$name" --workers "$workers" \
        --no-progress
    echo "$name: $(( $(date +%s) - start )) s on $workers workers"
    cp "$out/$name/grid.png" "$root/docs/_static/grid/$name.png"
done
