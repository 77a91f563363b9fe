#!/usr/bin/env bash
# Inputs for perf/device/run_mtp_gpu.sh, computed on this machine with the host build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/build/device-inputs"
mkdir -p "$dir"
mlpot="$root/build/bin/mlpot"
"$mlpot" make-model --template "$root/../shared/data/mtp-templates/16.almtp" --out "$dir/synthetic-l16-6sp.mtp"
"$mlpot" build li2co3 --cells 2x2x2 --out "$dir/check.cfg"
"$mlpot" eval --model "$dir/synthetic-l16-6sp.mtp" --input "$dir/check.cfg" --backend Serial --output "$dir/check_host.cfg"
# The CUDA binaries link libcudart.so.13 dynamically; carry it so the device needs only a driver.
cp -L "${CUDA_ROOT:-/usr/local/cuda}/lib64/libcudart.so.13" "$dir/"
git -C "$root" rev-parse --short HEAD > "$dir/commit"
du -sh "$dir" "$root/build-cuda/bin"
