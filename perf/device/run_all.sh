#!/usr/bin/env bash
# One device call (< 8 minutes): correctness and throughput of mlpot's GPU paths.
# Prepared by perf/device/prepare.sh; see there for the exact device-tool call.
# Writes everything to $OUT/device.txt; record it in perf/results/ (device, date, commit).
#
# MLPOT_DEVICE_REHEARSAL=1 runs the same steps on this machine's host build instead (Kokkos
# OpenMP for Cuda, the CPU for torch's cuda, build/bin/lmp with build/lib's plugin, no MACE
# rebuild), after perf/device/prepare.sh: it checks the script's plumbing without a GPU.
# Expect the large MACE cases to hit their timeouts there; they are sized for a GPU.
set -uo pipefail
rehearsal="${MLPOT_DEVICE_REHEARSAL:-0}"
out="${OUT:-/tmp/mlpot-device-out}"
mkdir -p "$out"
in=build/device-inputs
log="$out/device.txt"
# The device tool brings back at most 8 files and kills a call at its limit, so the sections run
# under a deadline of their own (MLPOT_DEVICE_DEADLINE s) and everything but device.txt is then
# packed into one tarball, also when a section hung.
if [[ -z "${MLPOT_DEVICE_INNER:-}" ]]; then
  rm -rf "${out:?}"/*
  MLPOT_DEVICE_INNER=1 timeout "${MLPOT_DEVICE_DEADLINE:-430}" bash "$0" "$@"
  rc=$?
  ((rc == 124)) && echo "DEADLINE: the sections were stopped after ${MLPOT_DEVICE_DEADLINE:-430} s" | tee -a "$log"
  (cd "$out" && find . -mindepth 1 -maxdepth 1 ! -name device.txt ! -name extra.tar.gz -print0 |
     xargs -0 -r tar -czf extra.tar.gz --remove-files)
  exit $rc
fi
export OMP_PROC_BIND=false
if [[ $rehearsal == 1 ]]; then
  cuda_bin=build/bin backend=OpenMP torch_device=cpu kokkos_args="t 2" lmp=build/bin/lmp plugin_dir=build/lib
  # The device's python3 holds numpy, matplotlib and torch; here the project's venv does.
  venv="${MLPOT_CACHE:-$HOME/.cache/mlpot}/venv/bin"
  [[ -x $venv/python3 ]] && export PATH="$venv:$PATH"
else
  [[ -f build/device.tar.xz ]] && tar -xJf build/device.tar.xz
  cuda_bin=build-cuda/bin backend=Cuda torch_device=cuda kokkos_args="g 1" lmp="$in/lmp" plugin_dir=build-cuda/lib
  # The fallback MACE runner built here links the host Kokkos (OpenMP) through its run path: it
  # must not see the CUDA Kokkos libraries carried in $in, so it keeps the original library path.
  base_ld="${LD_LIBRARY_PATH:-}"
  # The carried mlpot and plugin link LibTorch: this machine's own (the same version as the venv
  # they were built against, prepare.sh records it), found through the library path.
  torch_lib="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)"
  export LD_LIBRARY_PATH="$PWD/$in${torch_lib:+:$torch_lib}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # The tests read MLIP's templates from the ../shared/ they were built beside; it does not travel.
  [[ -d ../shared/data/mtp-templates ]] || { mkdir -p ../shared/data && cp -r "$in/mtp-templates" ../shared/data/; }
fi
say() { echo "$*" | tee -a "$log"; }
t0=$SECONDS
section() { say "== $* [t=$((SECONDS - t0)) s]"; }
say "date    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "commit  $(cat "$in/commit" 2>/dev/null || echo unknown)"
[[ $rehearsal == 1 ]] && say "REHEARSAL on the host build (no GPU): $backend for Cuda, $torch_device for cuda"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu     /' | tee -a "$log"

torch_here="$(python3 -c 'import torch; print(torch.__version__)' 2>&1 | tail -1)"
say "torch   here $torch_here, built against $(cat "$in/torch_version" 2>/dev/null)"
if [[ $rehearsal != 1 && "$torch_here" != "$(cat "$in/torch_version" 2>/dev/null)" ]]; then
  # The carried mlpot and plugin may then not start at all (MTP sections too): pin the venv's
  # torch to this version (scripts/python-requirements.txt) and rebuild before the next call.
  say "WARNING: this machine's torch is not the one the carried binaries were built against"
fi
# MACE on the GPU: the carried CUDA build (Kokkos CUDA, LibTorch, graphs from the Thrust CUDA
# builder, the plugin's mace/kk) when it starts here; otherwise a runner built here against this
# machine's torch (host Kokkos, host graphs; in the background, niced, while the MTP sections
# use the GPU and one core; section 4 waits for it).
carried_mace=0
if [[ $rehearsal != 1 ]] && "$cuda_bin/mlpot" info "$in/seed-float32-lammps.pt" >"$out/mace_info.txt" 2>&1; then
  carried_mace=1
fi
mkdir -p /tmp/cccl && tar -C /tmp/cccl -xzf "$in/cccl.tar.gz"
torch_prefix="$(python3 -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null)"
build_pid=""
if [[ $rehearsal != 1 && $carried_mace == 0 && -n "$torch_prefix" && ${MLPOT_DEVICE_CHECKS_ONLY:-0} != 1 ]]; then
  say "the carried mlpot cannot load a MACE model here ($(tail -1 "$out/mace_info.txt")): building a runner"

  (nice -n 19 cmake -S . -B /tmp/mlpot-dev -DCMAKE_BUILD_TYPE=Release -DKokkos_ROOT="$PWD/$in/kokkos-openmp" \
     -DMLPOT_TORCH_PREFIX="$torch_prefix" -DMLPOT_BUILD_TESTS=OFF -DMLPOT_CUDA_ROOT=/tmp/cccl >"$out/cmake.log" 2>&1 &&
   nice -n 19 cmake --build /tmp/mlpot-dev -j 12 --target mlpot_cli >>"$out/cmake.log" 2>&1) &
  build_pid=$!
fi
nvidia-smi -q -d CLOCK 2>/dev/null | grep -A4 -E "^ +(Clocks|Max Clocks)$" >"$out/clocks.txt"

section "1. MTP, Kokkos CUDA: device against Serial in one binary (FP64, 1e-10)"
timeout 120 "$cuda_bin/test_mtp_kernel" >"$out/test_mtp_kernel.log" 2>&1; say "exit $?"
grep -E "^\[  (FAILED|PASSED) |tests? ran|Failure|rror" "$out/test_mtp_kernel.log" | head -20 | tee -a "$log"
section "1b. Thrust graph builder on CUDA against the host builder (identical edge sets)"
timeout 60 "$cuda_bin/test_device_graph" >"$out/test_device_graph.log" 2>&1; say "exit $?"
grep -E "^\[  (FAILED|PASSED) |tests? ran|Failure|rror" "$out/test_device_graph.log" | head -20 | tee -a "$log"
section "2. MTP CLI on the GPU against host results (graph from the Thrust CUDA builder)"
timeout 60 "$cuda_bin/mlpot" eval --model "$in/synthetic-l16-6sp.mtp" --input "$in/check.cfg" --backend $backend \
  --output "$out/check_mtp_gpu.cfg" 2>&1 | tee -a "$log"
python3 perf/device/compare_cfg.py "$in/check_mtp_host.cfg" "$out/check_mtp_gpu.cfg" 1e-10 "mtp gpu vs host" | tee -a "$log"
if [[ -x "$lmp" && -f $plugin_dir/mlpotplugin.so ]]; then
  section "2b. LAMMPS mtp/kk on the GPU (the carried CUDA LAMMPS + plugin): run 0 against mlpot eval on the host (1e-10)"
  timeout 120 python3 perf/device/lammps_check.py --lmp "$lmp" --plugin-dir $plugin_dir \
    --model "$in/synthetic-l16-6sp.mtp" --cfg "$in/check.cfg" --ref "$in/check_mtp_host.cfg" --kokkos "$kokkos_args" 2>&1 | tee -a "$log"
fi
# MLPOT_DEVICE_CHECKS_ONLY=1: sections 1-2b alone (a short rerun of the GPU checks).
[[ ${MLPOT_DEVICE_CHECKS_ONLY:-0} == 1 ]] && { say "done (checks only)"; exit 0; }
if [[ ${MLPOT_DEVICE_SKIP_MTP_BENCH:-0} == 1 ]]; then say "sections 2c-5a skipped (MLPOT_DEVICE_SKIP_MTP_BENCH=1)"; else
section "2c. mlpot eval as a whole process (MTP): batches on host lists (--graph host) vs one by one on the Thrust builder (--graph device); results against the host (1e-10)"
# perf/bench_eval.py's inputs. Whole-process wall time, best of 3; the CPU figures of the same
# files: perf/results/eval_cpu.csv.
if [[ -d $in/eval ]]; then
  for f in 8x1440 1000x24-96; do
    for graph in host device; do
      best=""
      for round in 1 2 3; do
        t_start=$EPOCHREALTIME
        timeout 60 "$cuda_bin/mlpot" eval --model "$in/eval/synthetic-l16-6sp.mtp" --input "$in/eval/$f.cfg" \
          --backend $backend --graph $graph --output "/tmp/eval_${f}_$graph.cfg" 2>&1 | tail -2 | tee -a "$log"
        best=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" -v best="$best" \
          'BEGIN { t = b - a; printf "%.3f", (best == "" || t < best) ? t : best }')
      done
      say "eval $f --graph $graph: best of 3 ${best} s (whole process)"
      python3 perf/device/compare_cfg.py "$in/eval/${f}_host.cfg" "/tmp/eval_${f}_$graph.cfg" 1e-10 \
        "eval $f graph $graph vs host" | tee -a "$log"
    done
  done
fi

section "3. MTP on 1440 atoms: list from the Thrust CUDA builder vs the host builder (list built once, not timed)"
for graph in device host; do
  timeout 60 "$cuda_bin/mlpot" bench --model "$in/synthetic-l16-6sp.mtp" --system li2co3:3x5x4 --backend $backend \
    --graph $graph --steps 10 --warmup 2 2>&1 | grep -E "graph|list build|us/atom|rror" | tee -a "$log"
done

section "3a. Where an MTP step's time goes on the GPU: every Kokkos kernel fenced and timed (1440 and 92 160 atoms)"
for cells in 3x5x4 12x20x16; do
  timeout 90 "$cuda_bin/mlpot" bench --model "$in/synthetic-l16-6sp.mtp" --system li2co3:$cells --backend $backend \
    --graph device --steps 5 --warmup 2 --kernel-times yes 2>&1 | sed -n '/^system/p;/^us\/atom/p;/^kernel times/,$p;/rror/p' | tee -a "$log"
done

if [[ -x $in/baseline/mlpot ]]; then
  section "3c. The MTP force call against the baseline build $(cat "$in/baseline/commit") (prepare.sh MLPOT_DEVICE_BASELINE), interleaved, same inputs"
  # Three rounds of (this build, baseline) per size: compare the medians of each column.
  for cells in 3x5x4 12x20x16; do
    for round in 1 2 3; do
      for build in this baseline; do
        bin="$cuda_bin/mlpot"
        # (A rehearsal has no GPU for the baseline's CUDA binary: it times this build twice.)
        [[ $build == baseline && $rehearsal != 1 ]] && bin="$in/baseline/mlpot"
        timeout 60 "$bin" bench --model "$in/synthetic-l16-6sp.mtp" --system li2co3:$cells --backend $backend \
          --graph device --steps 10 --warmup 2 2>&1 | grep -E "^(us/atom-step|ms/step)|rror" |
          sed "s/^/$cells round $round $build: /" | tee -a "$log"
      done
    done
  done
fi

section "3d. MTP precision mixed (float arithmetic, double sums) against double: test, results against the host's mixed, force call interleaved at 1440, 92 160 and 1 032 192 atoms"
timeout 90 "$cuda_bin/test_mtp_mixed_precision" >"$out/test_mtp_mixed_precision.log" 2>&1; say "exit $?"
grep -E "^\[  (FAILED|PASSED) |tests? ran|Failure|rror|mixed vs double, .*(Cuda|OpenMP)|scratch" \
  "$out/test_mtp_mixed_precision.log" | head -20 | tee -a "$log"
if [[ -f $in/check_mtp_mixed_host.cfg ]]; then
  timeout 60 "$cuda_bin/mlpot" eval --model "$in/synthetic-l16-6sp.mtp" --input "$in/check.cfg" --backend $backend \
    --precision mixed --output "$out/check_mtp_mixed_gpu.cfg" 2>&1 | tee -a "$log"
  # The same float kernel in another launch shape and summation order: float round-off, 1e-5.
  python3 perf/device/compare_cfg.py "$in/check_mtp_mixed_host.cfg" "$out/check_mtp_mixed_gpu.cfg" 1e-5 \
    "mtp mixed gpu vs host mixed" | tee -a "$log"
fi
for cells in 3x5x4 12x20x16 28x48x32; do
  order="double mixed double mixed"
  [[ $cells == 28x48x32 ]] && order="double mixed"  # a host list build of 1 M atoms per run
  for precision in $order; do
    timeout 60 "$cuda_bin/mlpot" bench --model "$in/synthetic-l16-6sp.mtp" --system li2co3:$cells --backend $backend \
      --graph device --steps 10 --warmup 2 --precision $precision 2>&1 | grep -E "^(model|system|us/atom-step|ms/step)|rror" |
      sed "s/^/$cells $precision: /" | tee -a "$log"
  done
done

section "3b. MTP extrapolation-grade overhead (level 16, 1440 atoms; MLIP's initial state, n = 1250)"
for mode in cfg nbh; do
  "$cuda_bin/mlpot" make-model --template "$in/synthetic-l16-6sp.mtp" --out "/tmp/grade-$mode.almtp" --selection $mode >/dev/null
  for g in no yes; do
    timeout 60 "$cuda_bin/mlpot" bench --model "/tmp/grade-$mode.almtp" --system li2co3:3x5x4 --backend $backend \
      --steps 20 --warmup 3 --grade $g 2>&1 | grep -E "grade|us/atom|rror" | sed "s/^/$mode grade=$g: /" | tee -a "$log"
  done
done

section "5a. The main job on the GPU, MTP (size series cut at 4 s of timed steps or 1.6 M atoms)"
lammps_args=()
if [[ -x "$lmp" && -f $plugin_dir/mlpotplugin.so ]]; then
  # The carried CUDA LAMMPS and its plugin (MTP styles; MACE goes through mlpot bench).
  lammps_args=(--lmp "$lmp" --plugin-dir $plugin_dir --lammps-models mtp)
fi
timeout 200 python3 perf/main_job.py --only mtp --commit "$(cat "$in/commit")" --mlpot "$cuda_bin/mlpot" "${lammps_args[@]}" \
  --mtp-model "$in/synthetic-l16-6sp.mtp" --models "$in" --out "$out/results-mtp" --max-seconds 4 --max-atoms 1600000 \
  2>&1 | tee -a "$log"

fi
section "4. MACE: build the runner against this machine's torch"
mace_args=()
say "torch   $(python3 -c 'import torch; print(torch.__version__, torch.version.cuda)' 2>&1)"
dev=""
if [[ $rehearsal == 1 ]]; then
  dev=build/bin/mlpot
  say "rehearsal: the host build's mlpot stands in for the runner built here"
elif [[ $carried_mace == 1 ]]; then
  dev="$cuda_bin/mlpot"
  say "MACE: the carried CUDA build (graphs from the Thrust CUDA builder)"
elif [[ -n "$build_pid" ]] && wait "$build_pid"; then
  dev=/tmp/mlpot-dev/mlpot
  printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" exec /tmp/mlpot-dev/bin/mlpot "$@"\n' "$base_ld" >"$dev"
  chmod +x "$dev"
fi
if [[ -n "$dev" ]]; then
  # float32 to 1e-5 of each quantity's scale (compare_cfg.py). Once (2026-11-26) a CPU reference
  # written by prepare.sh differed from later CPU runs by 2.2e-5 (forces of 0.65 eV/A; the
  # energy is 652 eV), cause not found; later runs agree bit for bit. A failure here at that
  # level: regenerate the reference and compare again before suspecting the GPU.
  for model in seed-float32 seed-float64 variant-float64; do
    tol=$([[ $model == *float64 ]] && echo 1e-9 || echo 1e-5)
    timeout 60 "$dev" eval --model "$in/$model-lammps.pt" --input "$in/check.cfg" --device $torch_device \
      --output "$out/check_mace_${model}_gpu.cfg" 2>&1 | tee -a "$log"
    python3 perf/device/compare_cfg.py "$in/check_mace_${model}_host.cfg" "$out/check_mace_${model}_gpu.cfg" "$tol" \
      "mace $model gpu vs cpu" | tee -a "$log"
  done
  mace_args=(--mlpot-mace "$dev")
  if [[ ($carried_mace == 1 || $rehearsal == 1) && -x "$lmp" && -f $plugin_dir/mlpotplugin.so ]]; then
    section "4b. LAMMPS mace/kk on the GPU (periodic graph), run 0 against mlpot eval on the CPU, per-atom virials against LAMMPS on the CPU"
    for dt in float32 float64; do
      tol=$([[ $dt == float64 ]] && echo 1e-9 || echo 1e-5)
      timeout 120 python3 perf/device/lammps_check.py --lmp "$lmp" --plugin-dir $plugin_dir --device $torch_device \
        --model "$in/seed-$dt-lammps.pt" --cfg "$in/check.cfg" --ref "$in/check_mace_seed-${dt}_host.cfg" \
        --kokkos "$kokkos_args" --tol $tol --atom-virials-ref "$in/check_mace_seed-${dt}_atom_virials_host.txt" 2>&1 \
        | sed "s/^/$dt: /" | tee -a "$log"
    done
    # The main job then runs MACE through LAMMPS too.
    mace_args+=(--lmp "$lmp" --plugin-dir $plugin_dir --lammps-models mace)
  fi
else
  say "MACE build failed; see cmake.log"
  tail -20 "$out/cmake.log" | tee -a "$log"
fi
section "4c. Native MACE engine on CUDA: against the CPU references (float32 1e-5, float64 1e-9), then A/B against the LibTorch runner (seed float32, 1440 and 11 520 atoms)"
if [[ -n "$dev" ]]; then
  # Kernel by kernel: every native kernel on CUDA (a warp per node) against Kokkos Serial in
  # the same binary, on the tiny, seed and variant files.
  if [[ $carried_mace == 1 || $rehearsal == 1 ]]; then
    MLPOT_TEST_MODELS="$PWD/$in" timeout 90 "$cuda_bin/test_mace_kernels" >"$out/test_mace_kernels.log" 2>&1
    say "test_mace_kernels exit $?"
    grep -E "^\[  (FAILED|PASSED) |tests? ran|Failure|rror|vs Serial" "$out/test_mace_kernels.log" | head -20 | tee -a "$log"
  fi
  for model in seed-float32 seed-float64 tiny-float64 variant-float64; do
    tol=$([[ $model == *float64 ]] && echo 1e-9 || echo 1e-5)
    timeout 60 "$dev" eval --model "$in/$model-lammps.pt" --input "$in/check.cfg" --device $torch_device \
      --mace-engine native --output "$out/check_mace_${model}_native_gpu.cfg" 2>&1 | tee -a "$log"
    python3 perf/device/compare_cfg.py "$in/check_mace_${model}_host.cfg" "$out/check_mace_${model}_native_gpu.cfg" \
      "$tol" "mace $model native gpu vs cpu" | tee -a "$log"
  done
  # LAMMPS mace/kk with the native engine on the GPU (graph built, forces and virials formed
  # in GPU memory from the Kokkos views), run 0 against the CPU references.
  if [[ ($carried_mace == 1 || $rehearsal == 1) && -x "$lmp" && -f $plugin_dir/mlpotplugin.so ]]; then
    for dt in float32 float64; do
      tol=$([[ $dt == float64 ]] && echo 1e-9 || echo 1e-5)
      timeout 120 python3 perf/device/lammps_check.py --lmp "$lmp" --plugin-dir $plugin_dir --device $torch_device \
        --engine native --model "$in/seed-$dt-lammps.pt" --cfg "$in/check.cfg" --ref "$in/check_mace_seed-${dt}_host.cfg" \
        --kokkos "$kokkos_args" --tol $tol --atom-virials-ref "$in/check_mace_seed-${dt}_atom_virials_host.txt" 2>&1 \
        | sed "s/^/native $dt: /" | tee -a "$log"
    done
    # Message passing between layers (LAMMPS' default for the native engine): the engine's
    # exchange and mace/kk's pack/unpack on device buffers, on one rank, and on 2 ranks sharing
    # the GPU where the carried LAMMPS has MPI and the machine mpirun (the CUDA LAMMPS of
    # setup-deps.sh --lammps-cuda is serial: BUILD_MPI=no).
    mp_ranks=1
    if command -v mpirun >/dev/null && "$lmp" -h 2>/dev/null | grep "^MPI v" | grep -qv STUBS; then mp_ranks=2; fi
    for ranks in $(seq 1 $mp_ranks); do
      for dt in float32 float64; do
        tol=$([[ $dt == float64 ]] && echo 1e-9 || echo 1e-5)
        timeout 120 python3 perf/device/lammps_check.py --lmp "$lmp" --plugin-dir $plugin_dir --device $torch_device \
          --engine native --graph messages --ranks $ranks --model "$in/seed-$dt-lammps.pt" --cfg "$in/check.cfg" \
          --ref "$in/check_mace_seed-${dt}_host.cfg" --kokkos "$kokkos_args" --tol $tol 2>&1 \
          | sed "s/^/native $dt messages: /" | tee -a "$log"
      done
    done
    ((mp_ranks == 1)) && say "2 ranks sharing the GPU: skipped (no mpirun, or the carried LAMMPS is serial)"
    # Time per step: periodic against message passing on one rank, and mp_ranks ranks on the GPU.
    timeout 200 python3 perf/bench_mace_ranks.py $([[ $torch_device == cuda ]] && echo --gpu) --ranks $mp_ranks \
      --lmp "$lmp" --plugin-dir $plugin_dir --mlpot "$cuda_bin/mlpot" --models "$in" --cells 3x5x4,6x10x8 \
      --no-ghost-nodes --out "$out/results-ranks" 2>&1 | grep -v "Warning\|warn" | tee -a "$log"
  fi
  # One timed force call per line (energy, forces, virial), engines interleaved.
  for cells in 3x5x4 6x10x8; do
    for engine in native torch native torch; do
      timeout 60 "$dev" bench --model "$in/seed-float32-lammps.pt" --system li2co3:$cells --device $torch_device \
        --steps 10 --warmup 3 --mace-engine $engine 2>&1 | grep -E "ms/step|atoms|error" \
        | sed "s/^/native A\/B li2co3:$cells $engine: /" | tee -a "$log"
    done
  done
else
  say "skipped: no MACE runner"
fi
# The MACE main job before the profilers: when the deadline stops the script, it stops the
# sections at the end, and the profiles and the rewrite comparison are what a run can best lose.
section "5b. The main job on the GPU, MACE seed architecture float32 (LAMMPS mace/kk with the carried build, else mlpot bench; series cut at 4 s)"
if ((${#mace_args[@]})); then
  timeout 120 python3 perf/main_job.py --only mace --commit "$(cat "$in/commit")" --mlpot "$cuda_bin/mlpot" "${mace_args[@]}" \
    --models "$in" --out "$out/results-mace" --max-seconds 4 2>&1 | tee -a "$log"
else
  say "skipped: no MACE runner"
fi
section "5c. The main job on the GPU, MTP in precision mixed (LAMMPS mtp/kk ... precision mixed; series cut at 3 s or 1.6 M atoms)"
if [[ ${MLPOT_DEVICE_SKIP_MTP_BENCH:-0} != 1 ]]; then
  timeout 150 python3 perf/main_job.py --only mtp --mtp-precision mixed --commit "$(cat "$in/commit")" \
    --mlpot "$cuda_bin/mlpot" "${lammps_args[@]}" --mtp-model "$in/synthetic-l16-6sp.mtp" --models "$in" \
    --out "$out/results-mtp-mixed" --max-seconds 3 --max-atoms 1600000 2>&1 | tee -a "$log"
fi
section "6. MACE graph rewrites and TF32 on the GPU (seed float32, Li2CO3 1440 atoms; what is left of the time)"
if ((${#mace_args[@]})); then
  # One timed force call per line, labelled: `mace_bench_1440 LABEL [mlpot options]`.
  mace_bench_1440() {
    local label=$1; shift
    timeout 40 "$dev" bench --model "$in/seed-float32-lammps.pt" --system li2co3:3x5x4 --device $torch_device --steps 10 \
      --warmup 3 "$@" 2>&1 | grep -E "ms/step" | sed "s/^/$label: /" | tee -a "$log"
  }
  for rw in yes no yes no; do mace_bench_1440 "rewrite $rw" --mace-rewrite $rw; done
  # TF32 tensor cores for the float32 matrix products (off by default, as in mace-torch): what
  # they would buy, and how far the results then move from the CPU's (measurement only).
  for tf in yes no yes no; do mace_bench_1440 "tf32 $tf" --mace-tf32 $tf; done
  timeout 60 "$dev" eval --model "$in/seed-float32-lammps.pt" --input "$in/check.cfg" --device $torch_device \
    --mace-tf32 yes --output "$out/check_mace_seed-float32_tf32.cfg" 2>&1 | tee -a "$log"
  python3 perf/device/compare_cfg.py "$in/check_mace_seed-float32_host.cfg" "$out/check_mace_seed-float32_tf32.cfg" \
    1e-5 "mace seed-float32 tf32 gpu vs cpu (measurement; the check's limit for reference)" | tee -a "$log"
fi
section "4a. Where the time goes: Nsight Compute on the MTP kernel, LibTorch's profiler on a MACE step"
# The MTP force kernel (one launch after warm-up) at 92 160 and 1440 atoms: occupancy, issue
# stalls, throughput (ncu's text report, $out/ncu_mtp_*.txt; the summary lines go to the log).
# The filter names the ParallelFor: the cache-slot count before it takes the kernel as an
# argument, so "MtpKernel" alone matched that reduce (2026-11-26, the first try).
ncu_bin="$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)"
if [[ $rehearsal != 1 && -n "$ncu_bin" ]]; then
  for cells in 12x20x16 3x5x4; do
    timeout 90 "$ncu_bin" --clock-control none --kernel-name-base demangled -k 'regex:ParallelFor<mlpot::kokkos::MtpKernel' --launch-skip 2 \
      --launch-count 1 --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
      --section SchedulerStats --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
      --section InstructionStats --section SourceCounters --import-source yes --export "/tmp/ncu_mtp_$cells" --force-overwrite \
      "$cuda_bin/mlpot" bench --model "$in/synthetic-l16-6sp.mtp" --system li2co3:$cells \
      --backend $backend --graph device --steps 2 --warmup 1 >"$out/ncu_mtp_$cells.txt" 2>&1
    say "ncu li2co3:$cells (exit $?):"
    "$ncu_bin" --import "/tmp/ncu_mtp_$cells.ncu-rep" --page details >>"$out/ncu_mtp_$cells.txt" 2>&1
    grep -iE "Hit Rate|stalled|Duration|Achieved Occupancy|Theoretical Occupancy|Block Limit|Registers Per|Shared Memory Config|Dynamic Shared|Compute \(SM\) Throughput|Memory Throughput|DRAM Throughput|Issue Slots Busy|Warp Cycles Per Issued|Executed Ipc A|No Eligible|Stall|Executed Instructions  " \
      "$out/ncu_mtp_$cells.txt" | head -60 | tee -a "$log"
    # Where the warps wait, by source line (the CUDA build has -lineinfo): the report's source
    # page as CSV, its lines with the most stall samples (best effort: the page's columns are
    # the tool's own and differ between versions; the script prints what it finds).
    timeout 60 "$ncu_bin" --import "/tmp/ncu_mtp_$cells.ncu-rep" --page source --csv --print-source cuda \
      >"$out/ncu_mtp_${cells}_source.csv" 2>&1
    python3 perf/device/ncu_source_lines.py "$out/ncu_mtp_${cells}_source.csv" 15 2>&1 | tee -a "$log"
  done
else
  say "ncu: not found or rehearsal"
fi
if ((${#mace_args[@]})); then
  timeout 90 "$dev" bench --model "$in/seed-float32-lammps.pt" --system li2co3:3x5x4 --device $torch_device --steps 5 \
    --warmup 3 --torch-profile yes >"$out/torch_profile_mace.txt" 2>&1
  say "LibTorch profile, seed float32, 1440 atoms (exit $?):"
  sed -n '/^ms\/step/p;/^torch profile/,$p' "$out/torch_profile_mace.txt" | head -40 | tee -a "$log"
fi
say "done"
