#!/usr/bin/env bash
# On a GPU machine (one lent to a session): what LoRA training gets from it. Installs any wheels
# placed in .whl/ beside the repo (such a machine reaches no package index), then runs
# bench/gpu_check.py and leaves its JSON in $OUT (or the current folder).
set -euo pipefail
cd "$(dirname "$0")/.."
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
PYTHONUNBUFFERED=1 python3 bench/gpu_check.py --json | tee "${OUT:-.}/gpu_check.json"
