#!/usr/bin/env bash
# The main job: throughput benchmarks on the built-in systems and models, on this machine's CPU
# (the GPU figures come from perf/device/ on a machine with a GPU).
#   1. MTP library: synthetic level-16 6-species MTP on Li2CO3 3x5x4 (1440 atoms), Kokkos Serial
#      and OpenMP 1/2 threads, against motep's C engine in the same run   -> perf/results/mtp_cpu.csv
#   2. MACE library: LibTorch runner against mace-torch's ASE calculator   -> perf/results/mace_cpu.csv
#   3. LAMMPS MD with mtp/kk and mace/kk (Kokkos-OpenMP)                  -> perf/results/lammps_cpu.csv
#   4. MTP extrapolation-grade overhead (configuration/neighbourhood mode) -> perf/results/grade_cpu.csv
# MLPOT_BENCH_QUICK=1 keeps only the fast cases (a few minutes in all).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${MLPOT_CACHE:-$HOME/.cache/mlpot}"
py="$cache/venv/bin/python"
"$root/scripts/build.sh"
work="$root/build/bench"
mkdir -p "$work"
mlpot="$root/build/bin/mlpot"
templates="$root/../shared/data/mtp-templates"
quick=()
[[ "${MLPOT_BENCH_QUICK:-0}" == 1 ]] && quick=(--quick)
echo "== 1/4 MTP (library, CPU)"
"$mlpot" make-model --template "$templates/16.almtp" --species 6 --min-dist 0.92 --max-dist 5.0 \
  --out "$work/synthetic-l16-6sp.mtp"
"$mlpot" build li2co3 --cells 3x5x4 --out "$work/li2co3-3x5x4.cfg"
"$py" "$root/perf/bench_mtp.py" --mlpot "$mlpot" --model "$work/synthetic-l16-6sp.mtp" \
  --structure "$work/li2co3-3x5x4.cfg" --out "$root/perf/results"
echo "== 2/4 MACE (library, CPU)"
"$py" "$root/perf/bench_mace.py" --mlpot "$mlpot" --models "$root/build/models" --threads "$(nproc)" \
  --out "$root/perf/results" 2>/dev/null
echo "== 3/4 LAMMPS MD (Kokkos-OpenMP)"
"$py" "$root/perf/bench_lammps.py" --lmp "$root/build/bin/lmp" --plugin-dir "$root/build/lib" --mlpot "$mlpot" \
  --templates "$templates" --models "$root/build/models" --out "$root/perf/results" "${quick[@]}"
echo "== 4/4 MTP extrapolation grade overhead (library, CPU)"
"$py" "$root/perf/bench_grade.py" --mlpot "$mlpot" --template "$templates/16.almtp" \
  --structure "$work/li2co3-3x5x4.cfg" --work "$work" --out "$root/perf/results"
