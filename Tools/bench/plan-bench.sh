#!/usr/bin/env bash
# Times `lcb check` + `lcb plan` on a generated spec of 10,000 cells (issue 2's benchmark).
#
#   Tools/bench/plan-bench.sh [path/to/lcb]     (default: .build/release/lcb; build it first with
#                                                swift build -c release --product lcb)
#
# The spec: 5 models (LLaVA-Gemma-2B config.json, no weights) × 50 compression configurations
# (KV: 5 methods × 4 bit widths × 2 regimes, GEAR under `attention`; weights: RTN and outlier at
# 4 bit widths; the fp16 baseline) × 40 synthetic datasets (2 probes × SIZE samples each).
# SIZE (default 5) sets the samples per probe, so each cell has 2·SIZE samples.
set -euo pipefail
cd "$(dirname "$0")/../.."
LCB=${1:-.build/release/lcb}
SIZE=${SIZE:-5}
WORK=$(mktemp -d /tmp/lcb-plan-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

for m in 0 1 2 3 4; do
  mkdir -p "$WORK/models/m$m"
  cp Tests/Fixtures/planning/llava-gemma-2b/config.json "$WORK/models/m$m/config.json"
done

{
  echo "name: plan-bench"
  echo "models:"
  for m in 0 1 2 3 4; do echo "  m$m: {path: models/m$m, template: gemma}"; done
  echo "datasets:"
  for d in $(seq 0 39); do
    echo "  d$d: {suite: shapes, seed: $d, size: $SIZE, probes: [recognition, spatial]}"
  done
  cat <<'YAML'
compression:
  kv:
    kv: {method: [uniform, outlier, group, kivi, gear], bits: [2, 3, 4, 8], regime: [store, prefix]}
  gear-attention:
    kv: {method: gear, bits: 4, regime: attention}
  rtn:
    weights: {method: rtn, bits: [2, 3, 4, 8]}
  outlier-weights:
    weights: {method: outlier, bits: [2, 3, 4, 8]}
experiments:
  grid:
    models: [m0, m1, m2, m3, m4]
    compression: [fp16, kv, gear-attention, rtn, outlier-weights]
    generation: {max_new_tokens: 16}
YAML
  printf "    datasets: ["
  for d in $(seq 0 39); do printf "d$d"; [ "$d" -lt 39 ] && printf ", "; done
  echo "]"
} > "$WORK/bench.yaml"

export LCB_HOME="$WORK/.lcb"
echo "spec: $WORK/bench.yaml ($(wc -l < "$WORK/bench.yaml") lines)"
"$LCB" plan "$WORK/bench.yaml" 2>/dev/null | grep -E '^cells:|^  (jobs|weight|vision|prefill|prefix|decode|scoring|total)'

# Best of 3 for each command: wall-clock seconds (real) and CPU seconds (user + sys), since on a
# shared machine the wall clock also counts waiting for a core.
best() {
  local best_real="" best_cpu=""
  for _ in 1 2 3; do
    local out
    out=$( { TIMEFORMAT='%R %U %S'; time "$@" > /dev/null 2>&1; } 2>&1 ) || true
    read -r real user sys <<< "$out"
    local cpu
    cpu=$(echo "$user + $sys" | bc -l)
    if [ -z "$best_real" ] || [ "$(echo "$real < $best_real" | bc -l)" = 1 ]; then best_real=$real; fi
    if [ -z "$best_cpu" ] || [ "$(echo "$cpu < $best_cpu" | bc -l)" = 1 ]; then best_cpu=$cpu; fi
  done
  echo "$best_real $best_cpu"
}
read -r check_real check_cpu <<< "$(best "$LCB" check "$WORK/bench.yaml")"
read -r plan_real plan_cpu <<< "$(best "$LCB" plan "$WORK/bench.yaml")"
read -r json_real json_cpu <<< "$(best "$LCB" plan --json "$WORK/bench.yaml")"
printf "%-18s %8s %8s\n" "" "real s" "cpu s"
printf "%-18s %8.3f %8.3f\n" "lcb check" "$check_real" "$check_cpu"
printf "%-18s %8.3f %8.3f\n" "lcb plan" "$plan_real" "$plan_cpu"
printf "%-18s %8.3f %8.3f\n" "check + plan" "$(echo "$check_real + $plan_real" | bc -l)" "$(echo "$check_cpu + $plan_cpu" | bc -l)"
printf "%-18s %8.3f %8.3f   (for information)\n" "lcb plan --json" "$json_real" "$json_cpu"
