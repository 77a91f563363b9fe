#!/usr/bin/env bash
# One device call (< 8 minutes): correctness and throughput of mlpot's GPU paths.
# Prepared by perf/device/prepare.sh; see there for the exact device-tool call.
# Writes everything to $OUT/device.txt; record it in perf/results/ (device, date, commit).
set -uo pipefail
out="${OUT:-/tmp/mlpot-device-out}"
mkdir -p "$out"
in=build/device-inputs
cuda_bin=build-cuda/bin
log="$out/device.txt"
export LD_LIBRARY_PATH="$PWD/$in${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OMP_PROC_BIND=false
say() { echo "$*" | tee -a "$log"; }
say "date    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "commit  $(cat "$in/commit" 2>/dev/null || echo unknown)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu     /' | tee -a "$log"

say "== 1. MTP, Kokkos CUDA: device against Serial in one binary (FP64, 1e-10)"
timeout 120 "$cuda_bin/test_mtp_kernel" 2>&1 | tail -4 | tee -a "$log"
say "== 1b. Thrust graph builder on CUDA against the host builder (identical edge sets)"
timeout 60 "$cuda_bin/test_device_graph" 2>&1 | tail -3 | tee -a "$log"
say "== 2. MTP CLI on the GPU against host results (graph from the Thrust CUDA builder)"
timeout 60 "$cuda_bin/mlpot" eval --model "$in/synthetic-l16-6sp.mtp" --input "$in/check.cfg" --backend Cuda \
  --output "$out/check_mtp_gpu.cfg" 2>&1 | tee -a "$log"
python3 perf/device/compare_cfg.py "$in/check_mtp_host.cfg" "$out/check_mtp_gpu.cfg" 1e-10 "mtp gpu vs host" | tee -a "$log"
say "== 3. MTP throughput (li2co3 cells, level 16, 6 species, FP64)"
for cells in 3x5x4 6x10x8 12x20x16 24x40x32; do
  timeout 120 "$cuda_bin/mlpot" bench --model "$in/synthetic-l16-6sp.mtp" --system "li2co3:$cells" --backend Cuda \
    --steps 10 --warmup 2 2>&1 | grep -E "system|graph|us/atom|atom-steps|ms/step|rror" | tee -a "$log"
done
say "== 3a. the same 1440-atom cell with the host-built list copied to the GPU (graph builder cost is not timed)"
timeout 60 "$cuda_bin/mlpot" bench --model "$in/synthetic-l16-6sp.mtp" --system li2co3:3x5x4 --backend Cuda --graph host \
  --steps 10 --warmup 2 2>&1 | grep -E "graph|us/atom|rror" | tee -a "$log"

say "== 3b. MTP extrapolation-grade overhead (level 16, 1440 atoms; MLIP's initial state, n = 1250)"
for mode in cfg nbh; do
  "$cuda_bin/mlpot" make-model --template "$in/synthetic-l16-6sp.mtp" --out "/tmp/grade-$mode.almtp" --selection $mode >/dev/null
  for g in no yes; do
    timeout 60 "$cuda_bin/mlpot" bench --model "/tmp/grade-$mode.almtp" --system li2co3:3x5x4 --backend Cuda \
      --steps 20 --warmup 3 --grade $g 2>&1 | grep -E "grade|us/atom|rror" | sed "s/^/$mode grade=$g: /" | tee -a "$log"
  done
done

say "== 4. MACE: build the runner against this machine's torch"
torch_prefix="$(python3 -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null)"
say "torch   $(python3 -c 'import torch; print(torch.__version__, torch.version.cuda)' 2>&1)"
if [[ -n "$torch_prefix" ]] && timeout 240 cmake -S . -B /tmp/mlpot-dev -DCMAKE_BUILD_TYPE=Release \
     -DKokkos_ROOT="$PWD/$in/kokkos-openmp" -DMLPOT_TORCH_PREFIX="$torch_prefix" -DMLPOT_BUILD_TESTS=OFF \
     >"$out/cmake.log" 2>&1 && timeout 240 cmake --build /tmp/mlpot-dev -j 16 --target mlpot_cli >>"$out/cmake.log" 2>&1; then
  dev=/tmp/mlpot-dev/bin/mlpot
  for dt in float32 float64; do
    tol=$([[ $dt == float64 ]] && echo 1e-9 || echo 1e-5)
    timeout 60 "$dev" eval --model "$in/seed-$dt-lammps.pt" --input "$in/check.cfg" --device cuda \
      --output "$out/check_mace_${dt}_gpu.cfg" 2>&1 | tee -a "$log"
    python3 perf/device/compare_cfg.py "$in/check_mace_${dt}_host.cfg" "$out/check_mace_${dt}_gpu.cfg" "$tol" \
      "mace $dt gpu vs cpu" | tee -a "$log"
  done
  say "== 5. MACE throughput (seed architecture, float32, periodic graph)"
  for cells in 2x2x2 3x5x4 6x5x4; do
    for graph in device host; do
      timeout 90 "$dev" bench --model "$in/seed-float32-lammps.pt" --system "li2co3:$cells" --device cuda \
        --graph $graph --steps 10 --warmup 3 2>&1 | grep -E "system|graph|atom-steps|ms/step|rror" | tee -a "$log"
    done
  done
else
  say "MACE build failed; see cmake.log"
  tail -20 "$out/cmake.log" | tee -a "$log"
fi
say "done"
