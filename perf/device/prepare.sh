#!/usr/bin/env bash
# Inputs for perf/device/run_all.sh, prepared on this machine (no GPU needed):
#   build/device-inputs/  models, structures, host reference results, Kokkos (host) install,
#                         libcudart and the shared Kokkos CUDA libraries, commit id, and (when
#                         scripts/setup-deps.sh --lammps-cuda has built it) the CUDA LAMMPS `lmp`
#   build-cuda/bin/, build-cuda/lib/{mlpotplugin,libmlpot_mace}.so   the CUDA (sm_90) binaries
#                         (scripts/build.sh --cuda); libmlpot_mace.so, which mlpot and the plugin
#                         load for MACE, links LibTorch (the venv's), found on the device in its
#                         own torch of the same version
# all packed into build/device.tar.xz (under the device tool's 64 MiB carry limit).
# MLPOT_DEVICE_BASELINE=<commit> adds that commit's CUDA mlpot for an A/B of the MTP kernel.
# Then, with the device tool (one call, < 8 minutes):
#   run(command="bash perf/device/run_all.sh", carry=["build/device.tar.xz"], timeout_s=480)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${MLPOT_CACHE:-$HOME/.cache/mlpot}"
dir="$root/build/device-inputs"
rm -rf "$dir"
mkdir -p "$dir"
mlpot="$root/build/bin/mlpot"
[[ -x "$root/build-cuda/bin/mlpot" ]] || { echo "prepare: run scripts/build.sh --cuda first" >&2; exit 1; }
# MTP: synthetic level-16 model, a 192-atom check structure and its host (Serial) results.
"$mlpot" make-model --template "$root/../shared/data/mtp-templates/16.almtp" --out "$dir/synthetic-l16-6sp.mtp" >/dev/null
"$mlpot" build li2co3 --cells 2x2x2 --out "$dir/check.cfg" >/dev/null
"$mlpot" eval --model "$dir/synthetic-l16-6sp.mtp" --input "$dir/check.cfg" --backend Serial --output "$dir/check_mtp_host.cfg"
"$mlpot" eval --model "$dir/synthetic-l16-6sp.mtp" --input "$dir/check.cfg" --backend Serial --precision mixed \
  --output "$dir/check_mtp_mixed_host.cfg"
# mlpot eval as a whole process (run_all.sh section 2c): perf/bench_eval.py's model and two input
# files (8 x 1440 and 1000 x 24-96 atoms) with their host results.
"$cache/venv/bin/python" "$root/perf/bench_eval.py" --mlpot "$mlpot" --templates "$root/../shared/data/mtp-templates" \
  --inputs-only "$dir/eval" >/dev/null
for f in 8x1440 1000x24-96; do
  "$mlpot" eval --model "$dir/eval/synthetic-l16-6sp.mtp" --input "$dir/eval/$f.cfg" --output "$dir/eval/${f}_host.cfg"
done
# MACE: the seed-architecture models, the variant one (L = 2 features, 3 interactions, ZBL; its
# species 1-3 are Li, C, O as in the others), the tiny one, and CPU results of the LibTorch
# runner on the same structure (the references for both engines on the GPU).
for model in seed-float32 seed-float64 variant-float64 tiny-float64; do
  cp "$root/build/models/$model-lammps.pt" "$dir/"
  "$mlpot" eval --model "$dir/$model-lammps.pt" --input "$dir/check.cfg" --mace-engine torch \
    --output "$dir/check_mace_${model}_host.cfg"
done
cp "$root/build/models/variant-float32-lammps.pt" "$dir/"  # test_mace_kernels reads it too
# Per-atom virials of LAMMPS mace/kk on the CPU (host LAMMPS, periodic graph), for
# run_all.sh's GPU run of the same check (section 4b).
for dt in float32 float64; do
  "$cache/venv/bin/python" "$root/perf/device/lammps_check.py" --lmp "$root/build/bin/lmp" --plugin-dir "$root/build/lib" \
    --device cpu --kokkos "t 1" --model "$dir/seed-$dt-lammps.pt" --cfg "$dir/check.cfg" \
    --ref "$dir/check_mace_seed-${dt}_host.cfg" --tol "$([[ $dt == float64 ]] && echo 1e-9 || echo 1e-5)" \
    --atom-virials-out "$dir/check_mace_seed-${dt}_atom_virials_host.txt"
done
# The MACE runner must link the device's own torch, so mlpot is rebuilt there against this
# host Kokkos install (sources travel with the working tree).
cp -r "$cache/kokkos-openmp" "$dir/kokkos-openmp"
# MLIP's templates for the CUDA test binaries (they read ../shared/, which does not travel).
cp -r "$root/../shared/data/mtp-templates" "$dir/mtp-templates"
# Thrust/CUB headers (CCCL) for that rebuild: the device may have a driver and torch but no toolkit.
cuda_root="${CUDA_ROOT:-/usr/local/cuda}"
tar -C "$cuda_root" -h -czf "$dir/cccl.tar.gz" include/cccl lib64/cmake/thrust lib64/cmake/cub lib64/cmake/libcudacxx \
  lib64/cmake/cccl
# The CUDA binaries link libcudart.so.13 and the shared Kokkos CUDA libraries dynamically; carry
# them so the device needs only a driver.
cp -L "${CUDA_ROOT:-/usr/local/cuda}/lib64/libcudart.so.13" "$dir/"
cp -a "$cache/kokkos-cuda/lib/"libkokkos*.so* "$dir/" 2>/dev/null || true
parts=(build-cuda/bin build/device-inputs)
# MACE support, which the CUDA mlpot and plugin load from beside them (mlpot::open_mace).
[[ -f "$root/build-cuda/lib/libmlpot_mace.so" ]] && parts+=(build-cuda/lib/libmlpot_mace.so)
if [[ -x "$cache/lammps-cuda/bin/lmp" && -f "$root/build-cuda/lib/mlpotplugin.so" ]]; then
  # lmp with the libraries it needs beyond the C/C++ runtime, CUDA and Kokkos (libjpeg.so.62,
  # libpng16, zlib here): the device image is another distribution (Debian's libjpeg.so.62 is
  # missing there). They go on the library path of lmp alone, through a wrapper, so they never
  # shadow the device's own libraries for anything else (torch).
  mkdir -p "$dir/lmp-dist/lib"
  cp "$cache/lammps-cuda/bin/lmp" "$dir/lmp-dist/lmp"
  ldd "$dir/lmp-dist/lmp" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' |
    grep -vE '/(libc|libm|libstdc\+\+|libgcc_s|libdl|libpthread|librt|libcudart|libkokkos[a-z]*)\.so' |
    while read -r lib; do cp -L "$lib" "$dir/lmp-dist/lib/"; done
  cat > "$dir/lmp" <<'WRAP'
#!/bin/sh
# The CUDA LAMMPS, with the libraries it was built against (perf/device/prepare.sh).
here="$(cd "$(dirname "$0")" && pwd)"
LD_LIBRARY_PATH="$here/lmp-dist/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/lmp-dist/lmp" "$@"
WRAP
  chmod +x "$dir/lmp"
  parts+=(build-cuda/lib/mlpotplugin.so)
else
  echo "prepare: no CUDA LAMMPS (scripts/setup-deps.sh --lammps-cuda, then scripts/build.sh --cuda): the device" \
       "runs the main job through mlpot bench" >&2
fi
# MLPOT_DEVICE_BASELINE=<commit>: also that commit's CUDA mlpot (MTP only: no LibTorch, no
# LAMMPS), built outside the clone from `git archive`, so run_all.sh times the MTP force call of
# both builds in one call, interleaved on the same inputs (section 3c): a kernel change is then
# measured as a ratio on one GPU, whatever card the session draws.
if [[ -n "${MLPOT_DEVICE_BASELINE:-}" ]]; then
  base="$cache/baseline"
  rm -rf "$base/src" && mkdir -p "$base/src"
  git -C "$root" archive "$MLPOT_DEVICE_BASELINE" | tar -x -C "$base/src"
  PATH="${CUDA_ROOT:-/usr/local/cuda}/bin:$PATH" cmake -S "$base/src" -B "$base/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DKokkos_ROOT="$cache/kokkos-cuda" \
    -DCMAKE_CXX_COMPILER="$cache/src/kokkos-4.5.1-cuda13/bin/nvcc_wrapper" -DCMAKE_CXX_FLAGS="-arch=sm_90" \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DMLPOT_BUILD_TESTS=OFF -DMLPOT_TORCH_PREFIX= >/dev/null
  PATH="${CUDA_ROOT:-/usr/local/cuda}/bin:$PATH" cmake --build "$base/build" -j "${MLPOT_JOBS:-$(nproc)}" --target mlpot_cli
  mkdir -p "$dir/baseline"
  cp "$base/build/bin/mlpot" "$dir/baseline/mlpot"
  git -C "$root" rev-parse --short "$MLPOT_DEVICE_BASELINE" > "$dir/baseline/commit"
fi
git -C "$root" rev-parse --short HEAD > "$dir/commit"
# The CUDA mlpot and plugin link LibTorch; the device lends its own, which must be this version.
"$cache/venv/bin/python" -c 'import torch; print(torch.__version__)' > "$dir/torch_version"
tar -C "$root" -cJf "$root/build/device.tar.xz" "${parts[@]}"
du -sh "$dir" "$root/build-cuda/bin" "$root/build/device.tar.xz"
