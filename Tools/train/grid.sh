#!/usr/bin/env bash
# Stage 2, export and evaluation for a list of grid models, one after another (one torch thread,
# nice 19). Shared stages (tokenizer, vision, lm, connector) must be done; see docs/training.md.
#   Tools/train/grid.sh STEPS DATA EVAL MODEL...
# Each model: train.py instruct --steps STEPS → export to Models/ablation/MODEL (or
# Models/tiny-llava-llama) → evaluate (50 samples per probe). Logs in .train/logs/.
set -euo pipefail
steps=$1 data=$2 eval=$3; shift 3
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
PY=${PY:-Tools/.venv/bin/python}
export LCB_TRAIN_THREADS=${LCB_TRAIN_THREADS:-1}
mkdir -p .train/logs
for model in "$@"; do
  case $model in
    tiny-llava-llama) out=Models/tiny-llava-llama ;;
    *) out=Models/ablation/$model ;;
  esac
  nice -n 19 "$PY" Tools/train/train.py instruct --model "$model" --data "$data" --eval "$eval" --steps "$steps" \
    > ".train/logs/instruct-$model.log" 2>&1
  nice -n 19 "$PY" Tools/train/train.py export --model "$model" --out "$out" > ".train/logs/export-$model.log" 2>&1
  nice -n 19 "$PY" Tools/train/train.py evaluate --dir "$out" --eval "$eval" --limit 50 > ".train/logs/evaluate-$model.log" 2>&1
done
