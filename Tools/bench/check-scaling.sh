#!/usr/bin/env bash
# Times `lcb check` on generated specs of N and 4·N definitions, to show that checking grows
# linearly with the spec (replaces a timed unit test, which flaked on a loaded machine).
#
#   Tools/bench/check-scaling.sh [path/to/lcb]   (default: .build/release/lcb; build it first with
#                                                  swift build -c release --product lcb)
#
# Each spec has N models, N datasets and N KV configurations (2 bit widths each), and one
# experiment over all of them (N·N·2N cells). N (default 250) sets the small size. Linear: the
# 4·N spec takes about 4× as long; the old unit test allowed up to 8×.
set -euo pipefail
cd "$(dirname "$0")/../.."
LCB=${1:-.build/release/lcb}
N=${N:-250}
WORK=$(mktemp -d /tmp/lcb-check-scaling.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$WORK/m"
echo '{"image_token_index": 1, "text_config": {"head_dim": 64}}' > "$WORK/m/config.json"

spec() {
  local n=$1 i
  echo "models:"
  for ((i = 0; i < n; i++)); do echo "  m$i: {path: m, template: gemma}"; done
  echo "datasets:"
  for ((i = 0; i < n; i++)); do echo "  d$i: {suite: shapes, seed: $i}"; done
  echo "compression:"
  for ((i = 0; i < n; i++)); do echo "  c$i: {kv: {method: kivi, bits: [2, 4], residual: $((32 * (i % 8)))}}"; done
  list() { local prefix=$1 j; for ((j = 0; j < n; j++)); do printf "%s%s%d" "$([ "$j" -gt 0 ] && echo ', ')" "$prefix" "$j"; done; }
  echo "experiments:"
  echo "  e: {models: [$(list m)], datasets: [$(list d)], compression: [$(list c)]}"
}
spec "$N" > "$WORK/small.yaml"
spec $((4 * N)) > "$WORK/large.yaml"

# Best of 3 CPU seconds (user + sys): on a shared machine the wall clock also counts waiting.
best_cpu() {
  local best="" out real user sys cpu
  for _ in 1 2 3; do
    out=$( { TIMEFORMAT='%R %U %S'; time "$@" > /dev/null 2>&1; } 2>&1 ) || true
    read -r real user sys <<< "$out"
    cpu=$(echo "$user + $sys" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$cpu < $best" | bc -l)" = 1 ]; then best=$cpu; fi
  done
  echo "$best"
}
"$LCB" check "$WORK/large.yaml" > /dev/null 2>&1 || { echo "lcb check rejected the generated spec" >&2; "$LCB" check "$WORK/large.yaml" >&2; exit 1; }
small=$(best_cpu "$LCB" check "$WORK/small.yaml")
large=$(best_cpu "$LCB" check "$WORK/large.yaml")
printf "%-28s %8s\n" "" "cpu s"
printf "%-28s %8.3f\n" "lcb check, $N of each" "$small"
printf "%-28s %8.3f\n" "lcb check, $((4 * N)) of each" "$large"
printf "ratio (linear ≈ 4, quadratic ≈ 16): %.1f\n" "$(echo "$large / $small" | bc -l)"
