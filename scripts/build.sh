#!/usr/bin/env bash
# Configure and build mlpot against the cached dependencies (host: Kokkos Serial + OpenMP).
#   scripts/build.sh            -> build/        (library, bin/mlpot, tests)
#   scripts/build.sh --cuda     -> also build-cuda/ (the same sources through nvcc for sm_90)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${MLPOT_CACHE:-$HOME/.cache/mlpot}"
export CCACHE_DIR="${CCACHE_DIR:-$cache/ccache}"
cuda=0
[[ "${1:-}" == "--cuda" ]] && cuda=1
"$root/scripts/setup-deps.sh" --lammps $([[ $cuda == 1 ]] && echo --cuda)
torch_prefix="$("$cache/venv/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DKokkos_ROOT="$cache/kokkos-openmp" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DMLPOT_TORCH_PREFIX="$torch_prefix" \
  -DMLPOT_LAMMPS_SRC="$cache/src/lammps/lammps-4Feb2025/src" -DMLPOT_LAMMPS_BUILD="$cache/build-lammps" \
  -DMLPOT_PYTHON="$cache/venv/bin/python" -DMLPOT_PYTHON_PACKAGE=ON -DPython_EXECUTABLE="$cache/venv/bin/python" -DMLPOT_SHARED_DIR="$root/../shared" -DMLPOT_MLP="${MLPOT_MLP:-}" >/dev/null
cmake --build "$root/build" -j "${MLPOT_JOBS:-$(nproc)}"
# The LAMMPS our plugin is built for, where docs/install.md promises it.
ln -sfn "$cache/lammps/bin/lmp" "$root/build/bin/lmp"
# MACE models (random weights, fixed seed, regenerated identically), kept out of git.
models="$root/build/models"
stamp="$(sha256sum "$root/models/make_mace_models.py" "$root/scripts/python-requirements.txt" \
  "$root/scripts/mace-compat-versions.txt" | sha256sum | cut -c1-16)"
if [[ ! -f "$models/.stamp" || "$(cat "$models/.stamp")" != "$stamp" ]]; then
  echo "[build] generating MACE models in $models" >&2
  rm -rf "$models/compat" "$models/options"
  "$cache/venv/bin/python" "$root/models/make_mace_models.py" --out "$models" 2>/dev/null
  # The tiny model again as each older mace-torch release exports it (setup-deps.sh installed
  # them): build/models/compat/mace-VERSION/.
  for dir in "$cache"/mace-compat/*/; do
    version="$(basename "$dir")"
    PYTHONPATH="$dir" "$cache/venv/bin/python" "$root/models/make_mace_models.py" \
      --out "$models/compat/mace-$version" --only tiny 2>/dev/null
  done
  echo "$stamp" > "$models/.stamp"
fi
if [[ $cuda == 1 ]]; then
  # Compile-only here (no GPU on these machines); perf/device/ runs these binaries on a GPU (an H200 so far).
  # With LibTorch (the venv's torch is a CUDA 13 build, the version the device machines have):
  # the MACE runner and the mace/kk style run on the GPU with graphs from the Thrust CUDA builder.
  # -lineinfo: source lines for Nsight Compute's stall sampling (perf/device/run_all.sh); the
  # optimisation is the same (ptxas -v: the same registers and stack for every kernel).
  export PATH="${CUDA_ROOT:-/usr/local/cuda}/bin:$PATH"
  # With the CUDA LAMMPS of perf/device/prepare.sh (setup-deps.sh --lammps-cuda) also the plugin.
  lammps_cuda=(-DMLPOT_LAMMPS_SRC= -DMLPOT_LAMMPS_BUILD=)
  if [[ -f "$cache/lammps-cuda/.mlpot-stamp" ]]; then
    lammps_cuda=(-DMLPOT_LAMMPS_SRC="$cache/src/lammps/lammps-4Feb2025/src"
                 -DMLPOT_LAMMPS_BUILD="$cache/build-lammps-cuda" -DMLPOT_LAMMPS_MPI=OFF)
  fi
  cmake -S "$root" -B "$root/build-cuda" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DKokkos_ROOT="$cache/kokkos-cuda" "${lammps_cuda[@]}" \
    -DCMAKE_CXX_COMPILER="$cache/src/kokkos-4.5.1-cuda13/bin/nvcc_wrapper" \
    -DCMAKE_CXX_FLAGS="-arch=sm_90 -lineinfo" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DMLPOT_SHARED_DIR="$root/../shared" \
    -DMLPOT_TORCH_PREFIX="$torch_prefix" >/dev/null
  cmake --build "$root/build-cuda" -j "${MLPOT_JOBS:-$(nproc)}"
fi
