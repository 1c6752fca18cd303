"""Exports trained models as Hugging Face LLaVA folders and evaluates them with transformers.

`export` writes config.json, model.safetensors (fp16), generation_config.json, tokenizer.json
(+ tokenizer_config.json, special_tokens_map.json), preprocessor_config.json, training.json (what
each stage did, how long it took) and the model card README.md. `evaluate` loads such a folder
exactly as a user would (LlavaForConditionalGeneration.from_pretrained, the folder's tokenizer and
CLIPImageProcessor), decodes greedily, scores exact match per probe and CIDEr for captions, and
rewrites the card with the table.
"""

from __future__ import annotations

import json
import os
import time

import torch
from PIL import Image
from tokenizers import Tokenizer
from transformers import CLIPImageProcessor, GenerationConfig, LlavaForConditionalGeneration

import modeling
import synthdata
import train

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def stage_export(args):
    fam = train.family()
    spec = fam["models"][args.model]
    model, tokenizer = train.build(fam, args.work, spec["lm"], spec["vision"])
    train.load_part(model, os.path.join(args.work, f"model-{args.model}.pt"))
    architecture = train.architecture_of(fam, spec["lm"])
    out = args.out
    os.makedirs(out, exist_ok=True)
    model = model.to(torch.float16)
    model.config.dtype = "float16"
    if architecture == "gemma":
        eos = [1, tokenizer.token_to_id("<end_of_turn>")]
        bos, pad, specials = 2, 0, {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"}
        extra = ["<start_of_turn>", "<end_of_turn>", "<image>"]
    else:
        eos, bos, pad = [2], 1, 3
        specials = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
        extra = ["<image>"]
    model.generation_config = GenerationConfig(bos_token_id=bos, eos_token_id=eos, pad_token_id=pad,
                                               do_sample=False, max_new_tokens=24)
    model.save_pretrained(out)
    tokenizer.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as handle:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 256,
                   "add_bos_token": architecture != "gemma", "add_eos_token": False,
                   "additional_special_tokens": extra, **specials}, handle, indent=2)
    with open(os.path.join(out, "special_tokens_map.json"), "w") as handle:
        json.dump({**specials, "additional_special_tokens": extra}, handle, indent=2)
    size = fam["image_size"]
    CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size}, do_resize=True,
                       resample=3, do_center_crop=True, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                       image_mean=modeling.CLIP_MEAN, image_std=modeling.CLIP_STD,
                       do_convert_rgb=True).save_pretrained(out)
    record = {"name": args.model, "spec": spec, "architecture": architecture,
              "parameters": modeling.parameter_counts(model), "lm": fam["lm"][spec["lm"]],
              "vision": fam["vision"][spec["vision"]], "stages": {}}
    stage_logs = [("vision", f"vision-{spec['vision']}"), ("lm", f"lm-{spec['lm']}")]
    if spec["connector_pretraining"]:
        stage_logs.append(("connector", train.connector_name(spec)))
    stage_logs.append(("instruct", f"model-{args.model}"))
    for stage, name in stage_logs:
        log = train.read_log(args.work, name) or {}
        history = log.get("history", [])
        record["stages"][stage] = {"state": name, "steps": log.get("steps"), "batch": log.get("batch"),
                                   "lr": log.get("lr"), "seconds": log.get("seconds"),
                                   "last": history[-1] if history else None}
        if "passes" in log:
            record["stages"][stage]["passes"] = log["passes"]
    old = os.path.join(out, "training.json")
    if os.path.exists(old):
        with open(old) as handle:
            previous = json.load(handle)
        if "evaluation" in previous:
            record["evaluation"] = previous["evaluation"]
    with open(old, "w") as handle:
        json.dump(record, handle, indent=2)
    write_card(out, record)
    print(f"wrote {out}: {record['parameters']}")


def answer_matches(output: str, answers: list[str]) -> bool:
    text = output.strip().lower().rstrip(".")
    return any(text == a.lower() for a in answers)


@torch.no_grad()
def stage_evaluate(args):
    torch.set_num_threads(2)
    model = LlavaForConditionalGeneration.from_pretrained(args.dir, dtype=torch.float32).eval()
    tokenizer = Tokenizer.from_file(os.path.join(args.dir, "tokenizer.json"))
    processor = CLIPImageProcessor.from_pretrained(args.dir)
    architecture = "gemma" if model.config.text_config.model_type == "gemma" else "llama"
    suite = train.Suite(args.eval, args.work, tokenizer, architecture)
    tokens = model.config.image_seq_length
    per_probe: dict[str, list[bool]] = {}
    captions_gts, captions_res = {}, {}
    examples = {}
    begin = time.time()
    for probe, members in suite.by_probe.items():
        for i in members[:args.limit]:
            sample = suite.samples[i]
            ids = torch.tensor([suite.encode_prompt(sample.question, True, tokens)])
            image = Image.open(os.path.join(args.eval, sample.image))
            pixels = processor(images=image, return_tensors="pt")["pixel_values"]
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=pixels,
                                 do_sample=False, max_new_tokens=24)
            text = tokenizer.decode(out[0, ids.shape[1]:].tolist(), skip_special_tokens=True)
            if probe == "captioning":
                references = suite.samples[i].answers
                captions_gts[i] = references
                captions_res[i] = [text.strip()]
                per_probe.setdefault(probe, []).append(answer_matches(text, references))
            else:
                per_probe.setdefault(probe, []).append(answer_matches(text, sample.answers))
            examples.setdefault(probe, [])
            if len(examples[probe]) < 3:
                examples[probe].append({"question": sample.question, "answer": sample.answers[0], "output": text})
    table = {p: round(100.0 * sum(v) / len(v), 1) for p, v in per_probe.items()}
    qa = [table[p] for p in synthdata.QA_PROBES if p in table]
    table["qa_mean"] = round(sum(qa) / len(qa), 1)
    if captions_gts:
        from pycocoevalcap.cider.cider import Cider
        table["captioning_cider"] = round(float(Cider().compute_score(captions_gts, captions_res)[0]), 3)
    result = {"exact_match": table, "samples_per_probe": {p: len(v) for p, v in per_probe.items()},
              "data": os.path.basename(os.path.normpath(args.eval)), "seconds": round(time.time() - begin),
              "method": "transformers greedy decoding (Python), fp16 weights computed in fp32",
              "examples": examples}
    print(json.dumps(result, indent=2))
    path = os.path.join(args.dir, "training.json")
    if os.path.exists(path):
        with open(path) as handle:
            record = json.load(handle)
        record["evaluation"] = result
        with open(path, "w") as handle:
            json.dump(record, handle, indent=2)
        write_card(args.dir, record)


ROLES = {
    "tiny-llava-gemma": ["The model `Specs/quickstart.yaml` runs (`tiny-gemma` in `Specs/common/models.yaml`): the",
                         "`lm-s-vis-l-pre` recipe of the ablation grid (small LM, larger vision tower, connector",
                         "pretrained), given more stage-2 steps than the grid models.", ""],
    "tiny-llava-llama": ["The LLaVA-1.5-style member of the family (`tiny-llama` in `Specs/common/models.yaml`): a Llama",
                         "language model (multi-head attention, SwiGLU, plain RMSNorm) behind the same CLIP tower and projector.", ""],
}


def write_card(out: str, record: dict):
    spec, p = record["spec"], record["parameters"]
    name = record["name"]
    lm, vision = record["lm"], record["vision"]
    relative = os.path.relpath(out, ROOT)
    lines = [f"# {name} — tiny LLaVA ({'Gemma' if record['architecture'] == 'gemma' else 'Llama'} LM) for lcb",
             "",
             "A miniature LLaVA trained from scratch on lcb's synthetic shapes suite (`lcb data synth --suite shapes`)",
             "by `Tools/train/train.py`. It exists so that lcb's specs run with no downloads and compression has",
             "visible effects; it knows nothing beyond 48×48 scenes of coloured shapes. Every score below is on a",
             "**synthetic proxy** of the named capability.",
             "",
             *ROLES.get(name, ["One cell of LLaVA-Gemma's ablation grid in miniature (LM size × vision tower × connector",
                               "pretraining); the grid's models get equal stage-2 budgets. The grid table and its",
                               "comparison with LLaVA-Gemma's are in `Models/ablation/README.md`.", ""]),
             "## Architecture",
             "",
             "| part | configuration | parameters |",
             "|---|---|---|",
             f"| vision | CLIP ViT, 48 px, patch 12 (16 image tokens), {vision['num_hidden_layers']} layers, hidden {vision['hidden_size']}, "
             f"{vision['num_attention_heads']} heads, MLP {vision['intermediate_size']}, quick_gelu; features of the last layer, CLS dropped | {p['vision']:,} |",
             f"| projector | linear → GELU → linear | {p['projector']:,} |",
             f"| language model | {record['architecture'].capitalize()}, {lm['num_hidden_layers']} layers, hidden {lm['hidden_size']}, "
             f"{lm['num_attention_heads']} heads / {lm['num_key_value_heads']} KV head(s), head_dim {lm['head_dim']}, MLP {lm['intermediate_size']}, "
             f"tied embeddings | {p['language']:,} |",
             f"| total | fp16 safetensors | {p['total']:,} |",
             "",
             "Prompt template: " + ("`gemma` — `<bos><start_of_turn>user\\n<image>\\n{question}<end_of_turn>\\n<start_of_turn>model\\n`; "
                                   "answers end with `<end_of_turn>`." if record["architecture"] == "gemma" else
                                   "`llava-1.5` — `USER: <image>\\n{question} ASSISTANT:` (the tokenizer adds `<s>`); answers end with `</s>`."),
             "",
             "## Training (LLaVA's stages, in miniature)",
             "",
             "Data: `lcb data synth --suite shapes --seed 1 --n 800` (training, `$TRAIN`); held-out evaluation uses",
             "seed 2, `--n 100` (`$EVAL`). Stage 2 adds every spatial and reasoning question the generator's rules allow on",
             "the training scenes (`synthdata.extra_samples`); evaluation uses only the generator's own questions.",
             "",
             "| stage | what trains | state (shared by) | steps × batch | lr | wall time |",
             "|---|---|---|---|---|---|"]
    what = {"vision": "CLIP tower + per-patch heads (colour, shape, centre, offset/radius, owning shape's absolute x/y/radius)",
            "lm": "language model on the suite's text (no images)",
            "connector": "stage 1: projector only, on captions",
            "instruct": "stage 2: projector + language model, vision frozen"}
    commands = {"vision": f"vision --size {spec['vision']}", "lm": f"lm --size {spec['lm']}",
                "connector": f"connector --model {name}", "instruct": f"instruct --model {name}"}
    def on_gpu(passes):
        return [p for p in passes if p.get("device") == "cuda"]

    for stage, info in record["stages"].items():
        seconds = info.get("seconds")
        wall = f"{seconds / 60:.1f} min" if seconds is not None else "—"
        gpu = on_gpu(info.get("passes") or [])
        if gpu:
            wall += f" ({sum(p['seconds'] for p in gpu) / 60:.1f} of them on the GPU)"
        lines.append(f"| `train.py {commands[stage]}` | {what[stage]} | `{info['state']}` | {info.get('steps')} × {info.get('batch')} | {info.get('lr')} | {wall} |")
    if not spec["connector_pretraining"]:
        lines += ["", "No connector pretraining: stage 1 is skipped and the projector starts from random initialisation in stage 2."]
    for stage, info in record["stages"].items():
        if info.get("passes"):
            def steps(p):
                planned = p.get("schedule_steps") or p["steps"]
                return f"{p['steps']} steps" if planned == p["steps"] else f"{p['steps']} of {planned} scheduled steps"
            described = " then ".join(steps(p) + f" at lr {p['lr']}" + (f" (probe weights {p['weights_arg']})" if p.get("weights_arg") else "")
                                      + (f" (vision tower tuned at {p['tune_vision']} × lr)" if p.get("tune_vision") else "")
                                      + (" on the GPU" if p.get("device") == "cuda" else "")
                                      for p in info["passes"])
            lines += ["", f"Stage 2 ran in {len(info['passes'])} passes (each with its own warmup and cosine decay): {described}."]
    lines += ["", "Machine: the shared 2-core build machine while other helpers compiled Swift, `nice -n 19`, one torch",
              "thread per process (`LCB_TRAIN_THREADS=1`, two stages side by side); times are wall clock and would be",
              "several times shorter on an idle machine."]
    if any(on_gpu(info.get("passes") or []) for info in record["stages"].values()):
        lines += ["Passes marked *on the GPU* ran with `--device cuda` on one NVIDIA H200 lent to a session (the `device`",
                  "tool), side by side with the other models' passes, as `Tools/train/gpu.sh` runs them; there a step took 0.03–0.06 s.",
                  "A GPU run does not repeat bit for bit on the CPU; the same commands give a similar model."]
    lines += ["", "Reproduce (from the repository root; see docs/training.md):", "", "```"]
    for stage, info in record["stages"].items():
        data = "--data $TRAIN" + (" --eval $EVAL" if stage in ("vision", "instruct") else "")
        if stage != "instruct":
            lines.append(f"nice -n 19 Tools/.venv/bin/python Tools/train/train.py {commands[stage]} {data}")
            continue
        for number, step_pass in enumerate(info.get("passes") or [{"steps": info.get("steps"), "lr": info.get("lr")}]):
            planned = step_pass.get("schedule_steps") or step_pass["steps"]
            extra = f" --steps {planned} --lr {step_pass['lr']}" + (" --resume" if number else "")
            if planned != step_pass["steps"]:
                extra += f" --stop-at {step_pass['steps']}"
            if step_pass.get("tune_vision"):
                extra += f" --tune-vision {step_pass['tune_vision']}"
            if step_pass.get("vision"):
                extra += f" --vision {step_pass['vision']}"
            if step_pass.get("weights_arg"):
                extra += f" --weights {step_pass['weights_arg']}"
            device = " --device cuda" if step_pass.get("device") == "cuda" else ""
            lines.append(f"nice -n 19 Tools/.venv/bin/python Tools/train/train.py{device} {commands[stage]} {data}{extra}")
    lines += [f"Tools/.venv/bin/python Tools/train/train.py export --model {name} --out {relative}",
              f"Tools/.venv/bin/python Tools/train/train.py evaluate --dir {relative} --eval $EVAL"
              + ("" if name.startswith("tiny-llava-") else " --limit 50"), "```", ""]
    last = record["stages"].get("instruct", {}).get("last") or {}
    forced = last.get("teacher_forced")
    lines += ["## Accuracy", ""]
    evaluation = record.get("evaluation")
    if evaluation:
        table = evaluation["exact_match"]
        probes = [k for k in table if k not in ("qa_mean", "captioning_cider")]
        lines += [f"Exact match (%) on held-out data ({evaluation['data']}, first {max(evaluation['samples_per_probe'].values())} samples per probe), "
                  f"measured by {evaluation['method']} with `train.py evaluate`, **not yet by lcb's engine**:", "",
                  "| " + " | ".join(probes + ["QA mean", "caption CIDEr"]) + " |",
                  "|" + "---|" * (len(probes) + 2),
                  "| " + " | ".join(f"{table[k]:.1f}" for k in probes) + f" | {table['qa_mean']:.1f} | {table.get('captioning_cider', float('nan')):.3f} |", "",
                  "QA mean averages recognition, knowledge, spatial, reasoning, hallucination and illusion. Captioning exact match",
                  "is against any of the five references; toxicity and stereotypes are scored against the training answers",
                  "(the generator gives none).", ""]
    if forced:
        probes = [k for k in forced if k != "qa_mean"]
        lines += ["Teacher-forced exact match (%) on held-out data at the end of stage 2 (every answer token the argmax):", "",
                  "| " + " | ".join(probes + ["QA mean"]) + " |", "|" + "---|" * (len(probes) + 1),
                  "| " + " | ".join(f"{forced[k]:.1f}" for k in probes) + f" | {forced['qa_mean']:.1f} |", ""]
    # Tools/train/cards.py fills the marked section from Reports/ (lcb's own measurements).
    lines += ["<!-- lcb-measured:begin (written by Tools/train/cards.py from Reports/; do not edit) -->",
              "## Accuracy measured by lcb", "",
              "*Not yet measured by lcb: run `Tools/reports/render-all.sh model-card llava-gemma-ablation`.*",
              "<!-- lcb-measured:end -->", ""]
    with open(os.path.join(out, "README.md"), "w") as handle:
        handle.write("\n".join(lines))


def stage_table(args):
    """Prints the family's accuracy table (Markdown) from every exported model's training.json."""
    rows = []
    for folder, _, files in sorted(os.walk(args.models)):
        if "training.json" not in files:
            continue
        with open(os.path.join(folder, "training.json")) as handle:
            record = json.load(handle)
        instruct = record["stages"]["instruct"]
        forced = (instruct.get("last") or {}).get("teacher_forced", {})
        greedy = (record.get("evaluation") or {}).get("exact_match", {})
        rows.append((os.path.relpath(folder, ROOT), record, instruct, forced, greedy))
    probes = synthdata.QA_PROBES + ["captioning", "bias"]
    print("| model | LM | vision | connector pretrained | params | stage-2 steps | " + " | ".join(probes) + " | QA mean | greedy QA mean | CIDEr |")
    print("|" + "---|" * (len(probes) + 9))
    for path, record, instruct, forced, greedy in rows:
        spec = record["spec"]
        cells = [f"{forced.get(p, float('nan')):.1f}" for p in probes]
        g = f"{greedy['qa_mean']:.1f}" if "qa_mean" in greedy else "—"
        c = f"{greedy['captioning_cider']:.2f}" if "captioning_cider" in greedy else "—"
        print(f"| `{path}` | {spec['lm']} | {spec['vision']} | {'yes' if spec['connector_pretraining'] else 'no'} | "
              f"{record['parameters']['total'] / 1e6:.2f}M | {instruct['steps']} | " + " | ".join(cells) +
              f" | {forced.get('qa_mean', float('nan')):.1f} | {g} | {c} |")
    print()
    print("Greedy (transformers `generate`, `train.py evaluate`), exact match %:")
    print()
    print("| model | samples per probe | " + " | ".join(probes) + " | QA mean | CIDEr |")
    print("|" + "---|" * (len(probes) + 4))
    for path, record, instruct, forced, greedy in rows:
        if not greedy:
            continue
        count = max(record["evaluation"]["samples_per_probe"].values())
        print(f"| `{path}` | {count} | " + " | ".join(f"{greedy.get(p, float('nan')):.1f}" for p in probes) +
              f" | {greedy['qa_mean']:.1f} | {greedy.get('captioning_cider', float('nan')):.2f} |")
