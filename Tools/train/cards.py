#!/usr/bin/env python3
"""Copies lcb's own measurements into the shipped models' cards.

Reads the committed reports of two specs (rendered by Tools/reports/render-all.sh):

- Reports/model-card/results.json (Specs/model-card.yaml): tiny-llava-gemma and tiny-llava-llama
  on held-out probes in FP16 and under the compression settings of issue 7 (prefix regime);
- Reports/llava-gemma-ablation/results.json (Specs/llava-gemma-ablation.yaml): the grid in FP16
  and with a 4-bit KIVI cache;

and writes, between the markers below, a table per model into Models/<name>/README.md, and the
whole grid into Models/ablation/README.md. Text outside the markers is left alone; a card without
markers gets the section appended. Standard library only:

    python3 Tools/train/cards.py [--check]

`--check` writes nothing and exits 1 when a card is not up to date with the reports.
"""

import argparse
import gzip
import json
import math
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
BEGIN = "<!-- lcb-measured:begin (written by Tools/train/cards.py from Reports/; do not edit) -->"
END = "<!-- lcb-measured:end -->"

# The question-answer probes and the metric each is scored by (QA mean = their mean).
QA = [("recognition", "exactMatch"), ("knowledge", "exactMatch"), ("spatial", "exactMatch"),
      ("reasoning", "exactMatch"), ("hallucination", "accuracy"), ("illusion", "aAcc")]
# Chance per probe, as "uniform guess / blind prior". The uniform guess picks any answer of the
# question's kind: recognition asks colour (7), shape (5) or count (3); knowledge asks corner
# counts (4 answers) or round yes/no; reasoning asks a relative colour (7) or two yes/no kinds; the
# rest are two-way. The blind prior always gives each kind's most common answer, the best a model
# that ignores the image can do; measured on `lcb data synth --n 100` at seeds 0 and 2 (knowledge
# is lopsided: most shapes are not round). docs/training.md has the snippet.
CHANCE = {"recognition": "22/27", "knowledge": "38/58–68", "spatial": "50/50", "reasoning": "38/44",
          "hallucination": "50/50", "illusion": "50/50"}
CHANCE_TEXT = ("Chance (uniform guess / blind prior, the most common answer of each question kind): "
               + ", ".join(f"{p} {CHANCE[p]}" for p, _ in QA) + ".")

SPEC_MODELS = {
    "tiny-gemma": "tiny-llava-gemma",
    "tiny-llama": "tiny-llava-llama",
}
for lm in "sl":
    for vis in "sl":
        for pre in ("pre", "nopre"):
            SPEC_MODELS[f"gemma-lm-{lm}-vis-{vis}-{pre}"] = f"ablation/lm-{lm}-vis-{vis}-{pre}"


def percent(metrics, probe, key):
    entry = metrics.get(f"{probe}/{key}")
    if entry is None:
        return None
    value = entry["value"]
    # exactMatch and accuracy are fractions; HallusionBench's aAcc is already in percent.
    return value * 100 if key in ("exactMatch", "accuracy") else value


def row(cell):
    metrics = cell["metrics"]
    values = [percent(metrics, probe, key) for probe, key in QA]
    present = [v for v in values if v is not None]
    mean = sum(present) / len(present) if len(present) == len(QA) else None
    cider = metrics.get("captioning/CIDEr-D", {}).get("value")
    return values, mean, cider


def fmt(value, digits=1):
    return "—" if value is None else f"{value:.{digits}f}"


def correct_answers(spec):
    """{(model, compression, probe, sample): right?} for the QA samples of Reports/<spec>/samples.jsonl.gz."""
    path = ROOT / "Reports" / spec / "samples.jsonl.gz"
    if not path.exists():
        return {}
    probes = {p for p, _ in QA}
    correct = {}
    with gzip.open(path, "rt") as handle:
        for line in handle:
            sample = json.loads(line)
            if sample["probe"] in probes and "correct" in sample.get("components", {}):
                correct[(sample["model"], sample["compression"], sample["probe"], sample["sample"])] = sample["components"]["correct"]
    return correct


def discordant(correct, first, second):
    """(right in `first` only, right in `second` only) over the samples both (model, compression) pairs answered."""
    only_first = only_second = 0
    for (model, compression, probe, name), right in correct.items():
        if (model, compression) != first:
            continue
        other = correct.get((second[0], second[1], probe, name))
        if other is None:
            continue
        only_first += right and not other
        only_second += other and not right
    return only_first, only_second


def answer_changes(spec):
    """{(model, compression): (right→wrong, wrong→right)} of the QA answers against FP16, from samples.jsonl.gz."""
    correct = correct_answers(spec)
    pairs = {(model, compression) for model, compression, _, _ in correct if compression != "fp16"}
    return {(model, compression): discordant(correct, (model, "fp16"), (model, compression))
            for model, compression in pairs}


def mcnemar(worse, better):
    """Exact two-sided McNemar p-value: the discordant answers against a fair coin."""
    n = worse + better
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(min(worse, better) + 1)) / 2 ** n)


def table(cells, label_of, baseline_label="fp16", changes=None):
    columns = ["compression"] + [p for p, _ in QA] + ["QA mean", "caption CIDEr-D", "KV bytes/token", "weight bytes"]
    if changes is not None:
        columns.append("QA answers vs FP16: right→wrong / wrong→right (McNemar p)")
    header = "| " + " | ".join(columns) + " |"
    lines = [header, "|" + "---|" * 1 + "---:|" * (len(columns) - 1)]
    base = next((row(c) for c in cells if label_of(c) == baseline_label), None)
    for cell in cells:
        values, mean, cider = row(cell)
        shown = []
        for i, v in enumerate(values):
            delta = "" if base is None or label_of(cell) == baseline_label or v is None or base[0][i] is None \
                else f" ({v - base[0][i]:+.1f})"
            shown.append(fmt(v) + delta)
        mean_delta = "" if base is None or label_of(cell) == baseline_label or mean is None or base[1] is None \
            else f" ({mean - base[1]:+.1f})"
        kv, weights = cell.get("kv_bytes_per_token"), cell.get("weight_bytes")
        shown += [fmt(mean) + mean_delta, fmt(cider, 2), "—" if kv is None else f"{kv:,.0f}",
                  "—" if weights is None else f"{weights:,}"]
        if changes is not None:
            flips = changes.get((cell["model"], cell["compression"]))
            shown.append("—" if flips is None else f"{flips[0]} / {flips[1]} ({mcnemar(*flips):.2g})")
        lines.append("| " + " | ".join([label_of(cell)] + shown) + " |")
    return "\n".join(lines)


def load(spec):
    path = ROOT / "Reports" / spec / "results.json"
    if not path.exists():
        return None, path
    return json.loads(path.read_text()), path


def section(body):
    return f"{BEGIN}\n{body.strip()}\n{END}"


def place(card, body):
    text = card.read_text() if card.exists() else ""
    new = section(body)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return head + new + tail
    return text.rstrip() + "\n\n" + new + "\n"


def model_card_sections(results):
    out = {}
    correct = correct_answers("model-card")
    changes = answer_changes("model-card")
    cells = [c for c in results["cells"] if c.get("dataset") == "held-out"]
    # FP16 first, then the order Specs/model-card.yaml lists them in.
    order = ["fp16", "kv-uniform-2", "kv-kivi-4", "kv-kivi-2", "w-rtn-2-channel", "w-rtn-4-group"]
    order += sorted({c["compression"] for c in cells} - set(order))
    for spec_name in sorted({c["model"] for c in cells}):
        mine = sorted((c for c in cells if c["model"] == spec_name), key=lambda c: order.index(c["compression"]))
        samples = mine[0]["metrics"].get("recognition/exactMatch", {}).get("n", "?")
        body = f"""## Accuracy measured by lcb

`lcb run Specs/model-card.yaml` (lcb's Swift engine, greedy, held-out scenes: `suite: shapes, seed: 2`,
{samples} questions per probe; the models were trained on seed 1). Percent; deltas against FP16. KV settings
use the `prefix` regime (the prompt through the image is stored quantized and the question is
prefilled against it). {CHANCE_TEXT}
Report: `Reports/model-card/`.

{table(mine, lambda c: c["compression"], changes=changes)}

{head_to_head(correct, spec_name)}

The last column counts, of the {6 * samples if isinstance(samples, int) else "?"} question-answer samples, those whose correctness
changed against FP16 either way, with the exact McNemar test of the two counts (a small p: the
setting really costs accuracy; a large one: the changes are noise).

Settings: `kv-uniform-2` = 2-bit uniform, one scale per tensor; `kv-kivi-4`/`kv-kivi-2` = KIVI
(keys per channel, values per token) in groups of 16 with a 16-token full-precision window;
`w-rtn-2-channel` = 2-bit round-to-nearest weights per output channel; `w-rtn-4-group` = 4-bit
in groups of 32 inputs (language model's linear layers).
"""
        out[SPEC_MODELS.get(spec_name, spec_name)] = body
    return out


# The pairs issue 7 compares directly: the better setting first.
HEAD_TO_HEAD = [("kv-kivi-4", "kv-uniform-2"), ("w-rtn-4-group", "w-rtn-2-channel")]


def head_to_head(correct, model):
    """The issue's comparisons of two settings, paired over the same questions."""
    measured = {key[:2] for key in correct}
    parts = []
    for better, worse in HEAD_TO_HEAD:
        if (model, better) in measured and (model, worse) in measured:
            flips = discordant(correct, (model, better), (model, worse))
            parts.append(f"`{better}` against `{worse}`: {flips[0]} / {flips[1]} (p = {mcnemar(*flips):.2g})")
    if not parts:
        return ""
    return ("Head to head, the questions only the first setting answers right / only the second does (exact "
            "McNemar p): " + "; ".join(parts) + ".")


def ablation_sections(results):
    out = {}
    cells = results["cells"]
    grid = sorted({c["model"] for c in cells})
    lines = ["| model | LM | vision | connector pretrained | compression | " + " | ".join(p for p, _ in QA)
             + " | QA mean | caption CIDEr-D |", "|---|---|---|---|---|" + "---:|" * (len(QA) + 2)]
    for name in grid:
        lm, vis, pre = name.split("-")[2], name.split("-")[4], name.split("-")[5]
        for cell in sorted((c for c in cells if c["model"] == name), key=lambda c: c["compression"] != "fp16"):
            values, mean, cider = row(cell)
            lines.append(f"| `{SPEC_MODELS.get(name, name)}` | {lm} | {vis} | {'yes' if pre == 'pre' else 'no'} | "
                         f"{cell['compression']} | " + " | ".join(fmt(v) for v in values) + f" | {fmt(mean)} | {fmt(cider, 2)} |")
        per_model = sorted((c for c in cells if c["model"] == name), key=lambda c: c["compression"] != "fp16")
        out[SPEC_MODELS[name]] = f"""## Accuracy measured by lcb

`lcb run Specs/llava-gemma-ablation.yaml` (lcb's Swift engine, greedy, `suite: shapes, seed: 0`,
the whole suite). Percent; `kv4` = 4-bit KIVI, prefix regime. The whole grid: `Models/ablation/README.md`.

{table(per_model, lambda c: c["compression"])}
"""
    samples = cells[0]["metrics"].get("recognition/exactMatch", {}).get("n", "?") if cells else "?"
    out["ablation"] = f"""## The grid, measured by lcb

`lcb run Specs/llava-gemma-ablation.yaml` (lcb's Swift engine, greedy; `suite: shapes, seed: 0`,
{samples} questions per probe). Percent. {CHANCE_TEXT}
Report: `Reports/llava-gemma-ablation/`.

""" + "\n".join(lines) + "\n\n" + axis_table(cells, correct_answers("llava-gemma-ablation"), samples) + "\n"
    return out


# LLaVA-Gemma's three axes: the name part that changes, and its two values (the second is compared
# against the first).
AXES = [("connector pretraining", 5, "nopre", "pre"), ("language model", 2, "s", "l"), ("vision tower", 4, "s", "l")]


def axis_table(cells, correct, samples):
    """One row per pair of FP16 grid cells that differ in one axis: QA means, their difference and
    the paired McNemar test over the questions both answered."""
    means = {c["model"]: row(c)[1] for c in cells if c["compression"] == "fp16"}
    lines = ["The three axes, FP16: one row per pair of cells that differ in one axis only. The last column counts,",
             f"of the {6 * samples if isinstance(samples, int) else '?'} question-answer samples, those only the first cell answers right and those only the second",
             "does, with the exact McNemar p of the two counts (small: the difference is real; large: it is noise).", "",
             "| axis | cell | QA mean | compared with | QA mean | first − second | right only in the first / only in the second (McNemar p) |",
             "|---|---|---:|---|---:|---:|---:|"]
    for axis, part, base, other in AXES:
        for name in sorted(means):
            parts = name.split("-")
            if parts[part] != base:
                continue
            twin = "-".join(parts[:part] + [other] + parts[part + 1:])
            if twin not in means or means[name] is None or means[twin] is None:
                continue
            flips = discordant(correct, (twin, "fp16"), (name, "fp16"))
            lines.append(f"| {axis} | `{SPEC_MODELS.get(twin, twin)}` | {fmt(means[twin])} | `{SPEC_MODELS.get(name, name)}` | "
                         f"{fmt(means[name])} | {means[twin] - means[name]:+.1f} | {flips[0]} / {flips[1]} ({mcnemar(*flips):.2g}) |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a card is out of date")
    args = parser.parse_args()
    sections = {}
    for spec, build in (("model-card", model_card_sections), ("llava-gemma-ablation", ablation_sections)):
        results, path = load(spec)
        if results is None:
            print(f"cards.py: {path.relative_to(ROOT)} not found; run Tools/reports/render-all.sh {spec} first "
                  f"(cards that need it are left as they are)", file=sys.stderr)
            continue
        for folder, body in build(results).items():
            sections[folder] = sections.get(folder, "") + body + "\n"
    stale = []
    for folder, body in sorted(sections.items()):
        card = ROOT / "Models" / folder / "README.md"
        if not card.parent.exists():
            print(f"cards.py: {card.parent.relative_to(ROOT)} does not exist (is the model shipped?); skipped", file=sys.stderr)
            continue
        new = place(card, body)
        if card.exists() and card.read_text() == new:
            continue
        stale.append(card.relative_to(ROOT))
        if not args.check:
            card.write_text(new)
    verb = "out of date" if args.check else "written"
    print("\n".join(f"{verb}: {c}" for c in stale) if stale else "cards.py: every card is up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
