#!/usr/bin/env bash
# Fuzz the input parsers and the MTP kernels behind them with libFuzzer (clang), under the
# address and undefined-behaviour sanitizers:
#   scripts/fuzz.sh [SECONDS]     each target for SECONDS (default 120), one after the other
# Builds into build-fuzz/: clang, against the host Kokkos of scripts/setup-deps.sh (the fuzzers
# run the Serial backend only, so clang's OpenMP runtime beside GCC's in Kokkos stays unused).
# The seeds are generated here (synthetic models and cells from build-fuzz/bin/mlpot); the
# corpus grows in $MLPOT_CACHE/fuzz-corpus.
# A target stops at its first finding and leaves the input as build-fuzz/findings/*: each one
# fixed so far is a case in tests/core (test_mtp_model, test_structure_io) and an input in
# tests/fuzz/inputs/, which the test suite replays (fuzz_replay_*) and which seed the runs here.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${MLPOT_CACHE:-$HOME/.cache/mlpot}"
seconds="${1:-120}"
build="$root/build-fuzz"
"$root/scripts/setup-deps.sh" >/dev/null
flags="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link"
CCACHE_DIR="${CCACHE_DIR:-$cache/ccache}" cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DKokkos_ROOT="$cache/kokkos-openmp" -DMLPOT_BUILD_TESTS=OFF -DMLPOT_FUZZ=ON \
  -DMLPOT_SHARED_DIR="$root/../shared" >/dev/null
CCACHE_DIR="${CCACHE_DIR:-$cache/ccache}" cmake --build "$build" -j "${MLPOT_JOBS:-$(nproc)}"

# Seeds: models with and without selection states (MLIP-3 cfg and nbh, MLIP-2 .als), an
# untrained template, and Li2CO3 as .cfg and extended XYZ with and without computed energies
# and forces. The structure targets read the format from the first byte (odd: .cfg).
seeds="$build/seeds"
rm -rf "$seeds"
mkdir -p "$seeds/model" "$seeds/structure" "$build/findings"
mlpot="$build/bin/mlpot"
templates="$root/../shared/data/mtp-templates"
export ASAN_OPTIONS=detect_leaks=0
"$mlpot" make-model --template "$templates/06.almtp" --species 1 --selection nbh --out "$seeds/model/l06_nbh.almtp" >/dev/null
"$mlpot" make-model --template "$templates/08.almtp" --species 2 --selection cfg --out "$seeds/model/l08_cfg.almtp" >/dev/null
"$mlpot" make-model --template "$templates/10.almtp" --species 6 --out "$seeds/model/l10.mtp" >/dev/null
cp "$templates/06.almtp" "$seeds/model/template06.almtp"
# MLIP-2's .als layout, written by the grade test's writer (the potential part of l06_nbh).
n_params="$("$mlpot" info "$seeds/model/l06_nbh.almtp" | awk '/^parameters/ {print $2}')"
sed '/^#MVS_v1.1/,$d' "$seeds/model/l06_nbh.almtp" > "$build/l06.mtp"
"$cache/venv/bin/python" - "$root/tests/python" "$build/l06.mtp" "$n_params" "$seeds/model/l06_nbh.als" <<'PY'
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from test_grade import write_als
n = int(sys.argv[3])
write_als(sys.argv[4], open(sys.argv[2]).read(), np.eye(n) * 1e-3 + 1e-5, "nbh", [], [(-1, -1)] * n)
PY
"$mlpot" build li2co3 --cells 1x1x1 --out "$build/li2co3.cfg" >/dev/null
"$mlpot" build li2co3 --cells 1x1x1 --out "$build/li2co3.xyz" >/dev/null
"$mlpot" eval --model "$seeds/model/l10.mtp" --input "$build/li2co3.cfg" --output "$build/li2co3_eval.cfg" >/dev/null
"$mlpot" eval --model "$seeds/model/l10.mtp" --input "$build/li2co3.xyz" --elements H,Li,C,O,F,P \
  --output "$build/li2co3_eval.xyz" >/dev/null
for f in li2co3 li2co3_eval; do
  { printf '\001'; cat "$build/$f.cfg"; } > "$seeds/structure/$f.cfg"
  { printf '\000'; cat "$build/$f.xyz"; } > "$seeds/structure/$f.xyz"
done

status=0
for target in model_file structure_file model_eval structure_eval; do
  # Also the inputs the test suite replays (the findings so far and a valid file of each kind).
  seed_dirs=("$seeds/model" "$root/tests/fuzz/inputs/model")
  [[ $target == structure_* ]] && seed_dirs=("$seeds/structure" "$root/tests/fuzz/inputs/structure")
  corpus="$cache/fuzz-corpus/$target"
  mkdir -p "$corpus"
  echo "[fuzz] $target for ${seconds} s" >&2
  if ! "$build/bin/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=200000 \
      -print_final_stats=1 -artifact_prefix="$build/findings/${target}_" "$corpus" "${seed_dirs[@]}" \
      >"$build/fuzz_$target.log" 2>&1; then
    echo "[fuzz] $target: a finding, see $build/fuzz_$target.log and $build/findings/" >&2
    status=1
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$build/fuzz_$target.log" | sed "s/^/[fuzz] $target /" >&2 || true
done
exit $status
