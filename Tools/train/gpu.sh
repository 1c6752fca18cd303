#!/usr/bin/env bash
# Stage-2 passes of several models side by side on one GPU, with one step budget for all of them.
#
#   here:        TRAIN=… EVAL=… Tools/train/gpu.sh pack PAYLOAD MODEL...
#   on the GPU:  Tools/train/gpu.sh run PAYLOAD SECONDS STEPS [instruct options] -- MODEL...
#   here:        Tools/train/gpu.sh unpack FILES...
#
# `pack` gathers what `train.py instruct` needs into PAYLOAD (a git-ignored folder of the
# repository, e.g. .gpu/): the suites' question files (no images), their image caches compressed,
# the shared stage states (tokenizers, vision towers, language models, connectors) and, for resumed
# passes, each MODEL's stage-2 state in fp16 without its frozen vision tower (the tower is
# vision-*.pt; a model whose tower was tuned keeps its own). For the grid this is about 27 MB, which
# with the repository's ~37 MB tracked files fits the device tool's 64 MiB.
#
# `run` (on the device machine, from the repository root, with PAYLOAD carried) trains every MODEL
# at once: `train.py --device cuda … instruct --model MODEL --steps STEPS --max-seconds SECONDS
# --plan-group …` plus the given options. After 100 steps the runs agree on one step count that fits
# SECONDS for the slowest (train.py's planned_steps), so the grid keeps equal budgets. States come
# back in fp16 as $OUT/states-N.tar (under 16 MiB each) with $OUT/logs.tar.gz.
#
# `unpack` puts the returned states and logs into WORK (default .train), keeping the states it
# replaces as model-MODEL.prev.pt. Session 3 ran its two GPU passes with a first version of this
# script (the same train.py options); with this one they are:
#   pack .gpu lm-s-vis-s-pre … ; run .gpu 330 10000 -- lm-s-vis-s-pre …            (pass 1)
#   pack .gpu …; run .gpu 230 5000 --resume --lr 1e-3 --weights spatial=6,reasoning=6 -- …  (pass 2)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
PY=${PY:-python3}
WORK=${WORK:-.train}
verb=${1:?usage: gpu.sh pack|run|unpack …}; shift

case $verb in
pack)
  payload=${1:?usage: TRAIN=… EVAL=… gpu.sh pack PAYLOAD MODEL...}; shift
  : "${TRAIN:?set TRAIN to the training suite folder}" "${EVAL:?set EVAL to the held-out suite folder}"
  train=$(cd "$TRAIN" && pwd) eval=$(cd "$EVAL" && pwd)
  rm -rf "$payload"; mkdir -p "$payload/work"
  printf '%s\n%s\n' "$train" "$eval" > "$payload/suites"
  tar czf "$payload/suites.tar.gz" -C / --exclude=images "${train#/}" "${eval#/}"
  cp "$WORK"/tokenizer-*.json "$WORK"/vision-*.pt "$WORK"/log-vision-*.json "$payload/work/"
  for model in "$@"; do  # a first pass starts from the language model and connector: take them all
    if [ ! -f "$WORK/model-$model.pt" ]; then
      cp "$WORK"/lm-*.pt "$WORK"/connector-*.pt "$WORK"/log-lm-*.json "$WORK"/log-connector-*.json "$payload/work/"
      break
    fi
  done
  rm -f "$payload"/work/vision-*-*.pt
  "$PY" - "$WORK" "$payload/work" "$train" "$eval" "$@" <<'EOF'
import json, os, sys
import numpy as np, torch
work, out, train, evaluate, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
for folder in (train, evaluate):
    name = "cache-" + folder.strip("/").replace("/", "_") + ".npz"
    if not os.path.exists(os.path.join(work, name)):
        sys.exit(f"{work}/{name}: missing; run any train.py stage on {folder} once first")
    np.savez_compressed(os.path.join(out, name), images=np.load(os.path.join(work, name))["images"])
for model in models:
    state, log = os.path.join(work, f"model-{model}.pt"), os.path.join(work, f"log-model-{model}.json")
    if not os.path.exists(state):
        continue  # a first pass: nothing to resume
    tuned = json.load(open(log)).get("vision_tuned", False)
    sd = torch.load(state, weights_only=True, map_location="cpu")
    sd = {k: v.half() if v.is_floating_point() else v for k, v in sd.items()
          if tuned or not k.startswith("model.vision_tower.")}
    torch.save(sd, os.path.join(out, f"model-{model}.pt"))
    with open(log) as src, open(os.path.join(out, f"log-model-{model}.json"), "w") as dst:
        dst.write(src.read())
EOF
  du -sh "$payload"
  ;;

run)
  payload=${1:?usage: gpu.sh run PAYLOAD SECONDS STEPS [options] -- MODEL...} seconds=${2:?SECONDS} steps=${3:?STEPS}; shift 3
  options=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do options+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  [ $# -gt 0 ] || { echo "gpu.sh run: no models after --" >&2; exit 2; }
  OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
  export PYTHONUNBUFFERED=1 LCB_TRAIN_THREADS=1
  DEVICE=${DEVICE:-cuda}  # DEVICE=cpu tries the script out on a machine without one
  [ "$DEVICE" = cpu ] || "$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'"
  tar xzf "$payload/suites.tar.gz" -C /
  train=$(sed -n 1p "$payload/suites") eval=$(sed -n 2p "$payload/suites")
  work=/tmp/gpu-work logs=/tmp/gpu-logs plan=/tmp/gpu-plan
  rm -rf $work $logs $plan; mkdir -p $logs; cp -r "$payload/work" $work
  "$PY" - $work "$@" <<'EOF'
import json, os, sys
import torch
sys.path.insert(0, "Tools/train")
import train
work, models = sys.argv[1], sys.argv[2:]
fam = train.family()
for model in models:  # put the frozen tower back into resumed states
    path = os.path.join(work, f"model-{model}.pt")
    if not os.path.exists(path):
        continue
    sd = torch.load(path, weights_only=True)
    tower = torch.load(os.path.join(work, f"vision-{fam['models'][model]['vision']}.pt"), weights_only=True)
    sd.update({"model.vision_tower." + k: v for k, v in tower.items() if "model.vision_tower." + k not in sd})
    torch.save(sd, path)
EOF
  start=$(date +%s)
  for model in "$@"; do
    ( "$PY" Tools/train/train.py --device "$DEVICE" --work $work instruct --model "$model" --data "$train" --eval "$eval" \
        --steps "$steps" --max-seconds "$seconds" --plan-group $plan --plan-size $# "${options[@]}" > "$logs/$model.log" 2>&1
      echo "$model: exit $? after $(( $(date +%s) - start )) s" >> $logs/exit.txt ) &
  done
  while [ "$(jobs -rp | wc -l)" -gt 0 ]; do
    sleep 30
    now=$(( $(date +%s) - start ))
    echo "--- ${now} s"
    for model in "$@"; do printf '%s: ' "$model"; grep -a '"step"\|plan' "$logs/$model.log" | tail -1 | cut -c1-100 || echo; done
    if [ $now -gt $(( ${seconds%.*} + 120 )) ]; then echo "gpu.sh: runs still going at ${now} s; stopping them"; pkill -f Tools/train/train.py || true; sleep 3; break; fi
  done
  cat $logs/exit.txt
  for f in $logs/*.log; do if grep -q Traceback "$f"; then echo "== $f"; tail -5 "$f"; fi; done
  "$PY" - $work "$OUT" "$@" <<'EOF'
import os, sys, tarfile
import torch
work, out, models = sys.argv[1], sys.argv[2], sys.argv[3:]
chunks, size = [[]], 0
for model in models:
    path = os.path.join(work, f"model-{model}.pt")
    if not os.path.exists(path):
        continue
    sd = torch.load(path, weights_only=True)
    half = os.path.join(work, f"half-{model}.pt")
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, half)
    if size + os.path.getsize(half) > 15 * 2**20:
        chunks.append([]); size = 0
    chunks[-1].append((model, half)); size += os.path.getsize(half)
for number, chunk in enumerate(chunks):
    with tarfile.open(os.path.join(out, f"states-{number}.tar"), "w") as tar:
        for model, half in chunk:
            tar.add(half, arcname=f"model-{model}.pt")
            tar.add(os.path.join(work, f"log-model-{model}.json"), arcname=f"log-model-{model}.json")
EOF
  tar czf "$OUT/logs.tar.gz" -C "$(dirname $logs)" "$(basename $logs)"
  ls -l "$OUT"
  ;;

unpack)
  [ $# -gt 0 ] || { echo "usage: gpu.sh unpack FILES..." >&2; exit 2; }
  mkdir -p "$WORK/gpu-logs"
  for file in "$@"; do
    case $file in
    *states-*.tar)
      for state in $(tar tf "$file" | grep '^model-.*\.pt$'); do
        [ -f "$WORK/$state" ] && cp "$WORK/$state" "$WORK/${state%.pt}.prev.pt"
      done
      tar xf "$file" -C "$WORK" ;;
    *logs.tar.gz) tar xzf "$file" -C "$WORK/gpu-logs" ;;
    *) echo "gpu.sh unpack: $file: expected states-N.tar or logs.tar.gz" >&2; exit 2 ;;
    esac
  done
  ls -l "$WORK"/model-*.pt
  ;;

*) echo "gpu.sh: unknown verb $verb (pack, run or unpack)" >&2; exit 2 ;;
esac
