#!/usr/bin/env bash
# The seed study's active-learning loop with CHGNet standing in for DFT (docs/training.md):
#   scripts/train-models.sh [--profile smoke|full] [--out DIR] [--skip-mace]
# Builds mlpot (scripts/build.sh, host only) if needed, then runs models/train/pipeline.py.
# Default: --profile smoke --out build/train-smoke (minutes; full takes days on 2 cores, docs/training.md).
# Not part of the test command, which runs the smoke profile as tests/models/test_train_pipeline.py.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${MLPOT_CACHE:-$HOME/.cache/mlpot}"
profile=smoke
out=""
extra=()
while (($#)); do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --skip-mace) extra+=(--skip-mace); shift ;;
    *) echo "train-models: unknown argument '$1' (--profile smoke|full, --out DIR, --skip-mace)" >&2; exit 2 ;;
  esac
done
out="${out:-$root/build/train-$profile}"
"$root/scripts/build.sh"
PYTHONPATH="$root/build/python" OMP_PROC_BIND=false exec "$cache/venv/bin/python" "$root/models/train/pipeline.py" \
  --profile "$profile" --out "$out" --build "$root/build" --templates "$root/../shared/data/mtp-templates" "${extra[@]}"
