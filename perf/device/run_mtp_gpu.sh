#!/usr/bin/env bash
# One device call (< 8 minutes): correctness and throughput of the CUDA MTP path on a GPU.
#
# Prepared here, run there. On this machine first run
#     scripts/build.sh --cuda && perf/device/prepare.sh
# then with the device tool, carrying build-cuda/bin and build/device-inputs:
#     run(command="bash perf/device/run_mtp_gpu.sh", carry=["build-cuda/bin", "build/device-inputs"])
# Results go to $OUT (copied back); record them in perf/results/ with device, date and commit.
set -uo pipefail
out="${OUT:-/tmp/mlpot-device-out}"
mkdir -p "$out"
bin=build-cuda/bin
inputs=build/device-inputs
log="$out/mtp_gpu.txt"
export LD_LIBRARY_PATH="$PWD/$inputs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
{
  echo "date    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit  $(cat "$inputs/commit" 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu     /'
} | tee "$log"

# 1. Device against host inside one binary (FP64, 1e-10 relative).
timeout 120 "$bin/test_mtp_kernel" 2>&1 | tee -a "$log" | tail -5

# 2. CLI on the GPU against host results computed here (same model and inputs).
timeout 120 "$bin/mlpot" eval --model "$inputs/synthetic-l16-6sp.mtp" --input "$inputs/check.cfg" \
  --backend Cuda --output "$out/check_gpu.cfg" 2>&1 | tee -a "$log"
python3 - "$inputs/check_host.cfg" "$out/check_gpu.cfg" <<'PY' 2>&1 | tee -a "$log"
import sys
def numbers(path):
    vals, take = [], False
    for line in open(path):
        s = line.split()
        if not s: continue
        if s[0] in ("Energy", "PlusStress:"): take = True; continue
        if s[0].startswith("AtomData"): take = "atoms"; continue
        if s[0] in ("END_CFG", "Feature", "BEGIN_CFG", "Size", "Supercell"): take = False; continue
        if take == "atoms" and len(s) == 8: vals += [float(v) for v in s[5:8]]
        elif take is True: vals += [float(v) for v in s]; take = False
    return vals
a, b = numbers(sys.argv[1]), numbers(sys.argv[2])
worst = max(abs(x - y) / max(1.0, abs(x)) for x, y in zip(a, b)) if len(a) == len(b) and a else float("inf")
print(f"cli gpu vs host: {len(a)} values, worst relative difference {worst:.2e} ->", "PASS" if worst < 1e-10 else "FAIL")
PY

# 3. Throughput: Li2CO3 1440 atoms and larger cells up to ~1M atoms.
for cells in 3x5x4 6x10x8 12x20x16 24x40x32; do
  timeout 150 "$bin/mlpot" bench --model "$inputs/synthetic-l16-6sp.mtp" --system "li2co3:$cells" \
    --backend Cuda --steps 10 --warmup 2 2>&1 | tee -a "$log" | grep -E "system|us/atom|atom-steps"
done
echo "done" | tee -a "$log"
