#!/usr/bin/env bash
# Regenerates Reports/<spec>/ for the shipped specs that run on a fresh clone:
#
#   Tools/reports/render-all.sh                 # quickstart kv-sweep weight-sweep llava-gemma-ablation model-card
#   Tools/reports/render-all.sh kv-sweep        # only these specs (names from Specs/<name>.yaml)
#
# Builds lcb in release mode, runs each spec against one fresh result store (so every answer is
# computed by the code being committed; specs share the store, so the tiny models' FP16 answers
# and the synthetic suite are computed once), then replaces Reports/<spec>/ with the committed
# form of the run (results.json, manifest.json, samples.jsonl.gz; see docs/reports.md) and
# renders its tables in Markdown, CSV and LaTeX and its plots from that form alone.
#
# Options:
#   --home DIR   keep the result store and caches in DIR and reuse them on the next call (faster;
#                only safe while the engine's numerics are unchanged, see docs/planning.md)
#   --strict     also fail when cells could not be scored (default: warn and render the rest)
#   --allow-failures
#                render a spec whose run failed samples anyway, those cells empty (default: leave
#                its Reports/<spec>/ as it was); for a known gap, such as a configuration the
#                runner does not support yet
#   --debug      use a debug build (slow; for testing the script)
#
# Exit status: 0 when every spec was rendered; 1 when a spec is missing or a model it names is not
# in Models/ (nothing runs), or when a run failed samples (that spec's Reports/<spec>/ is left as
# it was, the other specs are rendered, and the closing lines name what was not rendered).
# Specs/lvlm-compress-bench.yaml is not rendered: it needs the real benchmarks under Data/ and the
# LLaVA checkpoints under Models/, which are not shipped (see Reports/README.md).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

configuration=release
home=""
strict=0
allow_failures=0
specs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --home) home="${2:?--home needs a folder}"; shift 2 ;;
        --strict) strict=1; shift ;;
        --allow-failures) allow_failures=1; shift ;;
        --debug) configuration=debug; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "render-all: unknown option '$1' (see --help)" >&2; exit 2 ;;
        *) specs+=("$1"); shift ;;
    esac
done
[ ${#specs[@]} -gt 0 ] || specs=(quickstart kv-sweep weight-sweep llava-gemma-ablation model-card)

# Every spec and every model folder it names must exist before anything runs: a missing model
# would otherwise fail its cells only after the other cells ran.
for name in "${specs[@]}"; do
    spec="Specs/$name.yaml"
    [ -f "$spec" ] || { echo "render-all: $spec not found (shipped specs: $(ls Specs/*.yaml | xargs -n1 basename | sed 's/\.yaml$//' | tr '\n' ' '))" >&2; exit 1; }
done

echo "render-all: building lcb ($configuration)" >&2
swift build -c "$configuration" --product lcb >&2
lcb="$(swift build -c "$configuration" --show-bin-path)/lcb"

for name in "${specs[@]}"; do
    spec="Specs/$name.yaml"
    # `lcb check` reads every checkpoint's config.json and warns about one it cannot read.
    if ! check="$("$lcb" check "$spec" 2>&1)"; then
        printf '%s\n' "$check" >&2
        echo "render-all: $spec has errors; nothing was run or changed" >&2
        exit 1
    fi
    # `FILE:LINE:COL: warning: cannot read 'PATH' for model 'NAME' …`, PATH relative to FILE.
    missing="$(printf '%s\n' "$check" \
        | sed -n "s/^\([^:]*\):\([0-9]*\):[0-9]*: warning: cannot read '\([^']*\)' for model '\([^']*\)'.*/\4|\1|\2|\3/p" \
        | while IFS='|' read -r model file line path; do
            echo "  model '$model' ($file:$line): $(realpath -m --relative-to=. "$(dirname "$file")/$path")"
        done)"
    if [ -n "$missing" ]; then
        echo "render-all: $spec uses models whose checkpoints are missing (nothing was run or changed):" >&2
        printf '%s\n' "$missing" >&2
        echo "render-all: train them (docs/training.md) or put them under Models/, or leave $name out" >&2
        exit 1
    fi
done

scratch="$(mktemp -d "${TMPDIR:-/tmp}/lcb-render-all.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
export LCB_HOME="${home:-$scratch/home}"
mkdir -p "$LCB_HOME"

rendered=()
not_rendered=()
for name in "${specs[@]}"; do
    spec="Specs/$name.yaml"
    # lcb writes Reports/<the spec's name:>, which the shipped specs keep equal to their file name.
    report_name="$(sed -n 's/^name:[[:space:]]*//p' "$spec" | head -n 1 | tr -d "\"'[:space:]")"
    [ -n "$report_name" ] || report_name="$name"
    # The folder is deleted and rewritten below: accept plain names only.
    if ! [[ "$report_name" =~ ^[A-Za-z0-9_][A-Za-z0-9._-]*$ ]]; then
        echo "render-all: $spec: spec name '$report_name' is not a plain folder name; not rendered" >&2
        not_rendered+=("$name (spec name)")
        continue
    fi
    echo "render-all: running $spec (store: $LCB_HOME)" >&2
    start=$(date +%s)
    status=0
    "$lcb" run "$spec" --reports "$scratch/reports" --quiet || status=$?
    run="$scratch/reports/$report_name"
    if [ ! -f "$run/results.json" ] || [ ! -f "$run/samples.jsonl.gz" ]; then
        echo "render-all: $spec: lcb run wrote no results (exit status $status); Reports/$report_name left as it was" >&2
        not_rendered+=("$name (no results)")
        continue
    fi
    if [ "$status" -ne 0 ]; then
        # A failed sample is a broken run unless --allow-failures says the gap is known; a cell
        # that could not be scored is a known gap of the metrics (results.json says which, under
        # scoring_error) and the cell's other metrics still count.
        failed=$(grep -cE '"failed" : [1-9]' "$run/results.json" || true)
        unscored=$(grep -c '"scoring_error"' "$run/results.json" || true)
        if [ "$failed" -gt 0 ] && [ "$allow_failures" -eq 0 ]; then
            echo "render-all: $spec: samples failed in $failed cells (the run's summary above says why); Reports/$report_name left as it was; --allow-failures renders it with those cells empty" >&2
            not_rendered+=("$name ($failed cells with failed samples)")
            continue
        fi
        if [ "$unscored" -gt 0 ] && [ "$strict" -eq 1 ]; then
            echo "render-all: $spec: $unscored cells could not be scored (--strict); Reports/$report_name left as it was" >&2
            not_rendered+=("$name ($unscored cells not scored)")
            continue
        fi
        [ "$failed" -eq 0 ] || echo "render-all: warning: $spec: $failed cells have failed samples (--allow-failures); their metrics are missing" >&2
        [ "$unscored" -eq 0 ] || echo "render-all: warning: $spec: $unscored cells could not be scored; they are rendered without those metrics" >&2
    fi
    rm -rf "Reports/$report_name"
    mkdir -p "Reports/$report_name"
    cp "$run/results.json" "$run/manifest.json" "$run/samples.jsonl.gz" "Reports/$report_name/"
    # Tables and plots from the committed files alone, as anyone who clones the repository can.
    "$lcb" report "$spec" --format md,csv,tex --plots > /dev/null
    echo "render-all: Reports/$report_name rendered in $(( $(date +%s) - start )) s ($(du -sh "Reports/$report_name" | cut -f1))" >&2
    rendered+=("$name")
done

echo "render-all: rendered: ${rendered[*]:-none}" >&2
# The shipped models' cards quote model-card's and the ablation's tables (between markers).
for name in "${rendered[@]}"; do
    if [ "$name" = model-card ] || [ "$name" = llava-gemma-ablation ]; then
        python3 Tools/train/cards.py >&2
        break
    fi
done
if [ ${#not_rendered[@]} -gt 0 ]; then
    printf 'render-all: NOT rendered: %s\n' "${not_rendered[@]}" >&2
    exit 1
fi
