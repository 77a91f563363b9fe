#!/usr/bin/env bash
# The main job: throughput benchmarks on the built-in systems and models, on this machine.
#   1. MD throughput (perf/main_job.py): the synthetic level-16 MTP and the seed-architecture MACE
#      (float32) on Li2CO3 1440 atoms, amorphous Li2EDC 1152 atoms and a Li2CO3 size series, with
#      LAMMPS (mtp/kk, mace/kk) on Kokkos OpenMP, all cores; on a machine with a GPU, Kokkos CUDA
#      through mlpot bench (no CUDA LAMMPS is built by this script). Table on stdout,
#      perf/results/main_job.csv and main_job_<backend>.png.
#   2-4. Library comparisons on the CPU: MTP against motep, MACE (the native engine against the
#      LibTorch runner and against mace-torch), and the extrapolation-grade overhead
#      -> perf/results/{mtp,mace_native,grade}_cpu.csv
#   5. `mlpot eval` as a whole process (start-up, reading, lists, writing) against motep's, one
#      thread, and against MLIP-3's `mlp calculate_efs` where MLPOT_MLP names an mlp binary
#      -> perf/results/eval_cpu.csv
# MLPOT_BENCH_QUICK=1: step 1 with the MTP only and its size series cut at 10 s per cell.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${MLPOT_CACHE:-$HOME/.cache/mlpot}"
py="$cache/venv/bin/python"
gpu=0
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 && gpu=1
if ((gpu)); then "$root/scripts/build.sh" --cuda; else "$root/scripts/build.sh"; fi
work="$root/build/bench"
mkdir -p "$work"
mlpot="$root/build/bin/mlpot"
templates="$root/../shared/data/mtp-templates"
quick=()
[[ "${MLPOT_BENCH_QUICK:-0}" == 1 ]] && quick=(--quick)
echo "== 1/5 MD throughput on the built-in SEI systems (the main job)"
if ((gpu)); then
  "$py" "$root/perf/main_job.py" --mlpot "$root/build-cuda/bin/mlpot" --mlpot-mace "$mlpot" \
    --templates "$templates" --models "$root/build/models" --out "$root/perf/results" "${quick[@]}"
else
  "$py" "$root/perf/main_job.py" --mlpot "$mlpot" --lmp "$root/build/bin/lmp" --plugin-dir "$root/build/lib" \
    --templates "$templates" --models "$root/build/models" --out "$root/perf/results" "${quick[@]}"
fi
echo "== 2/5 MTP library against motep (CPU)"
"$mlpot" make-model --template "$templates/16.almtp" --species 6 --min-dist 0.92 --max-dist 5.0 \
  --out "$work/synthetic-l16-6sp.mtp"
"$mlpot" build li2co3 --cells 3x5x4 --out "$work/li2co3-3x5x4.cfg"
"$py" "$root/perf/bench_mtp.py" --mlpot "$mlpot" --model "$work/synthetic-l16-6sp.mtp" \
  --structure "$work/li2co3-3x5x4.cfg" --out "$root/perf/results"
echo "== 3/5 MACE: the native engine against the LibTorch runner and mace-torch (CPU)"
"$py" "$root/perf/bench_mace_native.py" --mlpot "$mlpot" --models "$root/build/models" --threads "$(nproc)" \
  --lmp "$root/build/bin/lmp" --plugin-dir "$root/build/lib" --out "$root/perf/results" 2>/dev/null
echo "== 4/5 MTP extrapolation grade overhead (library, CPU)"
"$py" "$root/perf/bench_grade.py" --mlpot "$mlpot" --template "$templates/16.almtp" \
  --structure "$work/li2co3-3x5x4.cfg" --work "$work" --out "$root/perf/results"
echo "== 5/5 mlpot eval as a whole process against motep (and MLIP-3 with MLPOT_MLP), CPU"
"$py" "$root/perf/bench_eval.py" --mlpot "$mlpot" --templates "$templates" --out "$root/perf/results" \
  ${MLPOT_MLP:+--mlp "$MLPOT_MLP"}
