#!/usr/bin/env bash
# The whole test suite (the README's test command; .ci/run calls exactly this):
# set up dependencies, build host and CUDA (compile-only) variants, run ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" --cuda
cd "$root/build"
OMP_PROC_BIND=false ctest --output-on-failure -j 1
