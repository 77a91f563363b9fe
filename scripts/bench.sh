#!/usr/bin/env bash
# The main job: throughput benchmark on the built-in system and model.
# Builds the synthetic level-16, 6-species MTP from MLIP-3's template and the 1440-atom
# monoclinic Li2CO3 cell, then times mlpot (Serial, OpenMP 1 and 2 threads) against motep.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${MLPOT_CACHE:-$HOME/.cache/mlpot}"
"$root/scripts/build.sh"
work="$root/build/bench"
mkdir -p "$work"
mlpot="$root/build/bin/mlpot"
"$mlpot" make-model --template "$root/../shared/data/mtp-templates/16.almtp" --species 6 \
  --min-dist 0.92 --max-dist 5.0 --out "$work/synthetic-l16-6sp.mtp"
"$mlpot" build li2co3 --cells 3x5x4 --out "$work/li2co3-3x5x4.cfg"
"$cache/venv/bin/python" "$root/perf/bench_mtp.py" --mlpot "$mlpot" \
  --model "$work/synthetic-l16-6sp.mtp" --structure "$work/li2co3-3x5x4.cfg" --out "$root/perf/results"
