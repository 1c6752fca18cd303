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

# Best of 3 for each command; `date +%s%N` gives nanoseconds.
best() {
  local best_ns=""
  for _ in 1 2 3; do
    local start end
    start=$(date +%s%N)
    "$@" > /dev/null 2>&1 || true
    end=$(date +%s%N)
    local ns=$((end - start))
    if [ -z "$best_ns" ] || [ "$ns" -lt "$best_ns" ]; then best_ns=$ns; fi
  done
  echo "$best_ns"
}
check_ns=$(best "$LCB" check "$WORK/bench.yaml")
plan_ns=$(best "$LCB" plan "$WORK/bench.yaml")
json_ns=$(best "$LCB" plan --json "$WORK/bench.yaml")
printf "lcb check:          %6.3f s\n" "$(echo "$check_ns / 1000000000" | bc -l)"
printf "lcb plan:           %6.3f s\n" "$(echo "$plan_ns / 1000000000" | bc -l)"
printf "check + plan:       %6.3f s\n" "$(echo "($check_ns + $plan_ns) / 1000000000" | bc -l)"
printf "lcb plan --json:    %6.3f s (for information)\n" "$(echo "$json_ns / 1000000000" | bc -l)"
