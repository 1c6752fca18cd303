#!/usr/bin/env python3
"""Trains lcb's tiny LLaVA family on the synthetic shapes suite, one command per stage.

    train.py tokenizer --data D                      BPE tokenizers (Gemma and Llama specials)
    train.py vision    --size s|l --data D --eval E   CLIP tower on dense per-patch labels
    train.py lm        --size s|l|llama --data D      language model on the suite's text
    train.py connector --model NAME --data D          stage 1: projector only, on captions
    train.py instruct  --model NAME --data D --eval E stage 2: projector + LM, vision frozen
    train.py export    --model NAME --out DIR         Hugging Face LLaVA folder, fp16
    train.py evaluate  --dir DIR --eval E             transformers greedy decoding, exact match
    train.py table     [--models Models]              the family's accuracy table from the model folders

D and E are folders written by `lcb data synth --suite shapes` (different seeds). Shared stages
(vision, lm, connector) are trained once and reused by every model naming them; intermediate
states live in --work (default .train/, ignored by git). See docs/training.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthdata  # noqa: E402
import modeling  # noqa: E402

# Where tensors live: `--device cuda` trains on a GPU (the device tool's machines); the saved states
# are always CPU tensors, so a state trained on either loads on either.
DEVICE = torch.device("cpu")

FAMILY_PATH = os.environ.get("LCB_TRAIN_FAMILY") or \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs", "family.json")


# ----------------------------------------------------------------------------- data


class Suite:
    """A suite folder's samples, images and dense labels, tokenized for one architecture."""

    def __init__(self, folder: str, work: str, tokenizer=None, architecture: str = "gemma", patch: int = 12,
                 extra: bool = False):
        self.folder = folder
        self.samples = synthdata.read_samples(folder)
        self.scenes = synthdata.read_scenes(folder)
        if extra:  # stage 2's training data: every spatial/reasoning question the scenes allow
            self.samples += synthdata.extra_samples(self.scenes)
        self.paths = sorted(self.scenes)
        self.index = {p: i for i, p in enumerate(self.paths)}
        cache = os.path.join(work, "cache-" + os.path.abspath(folder).strip("/").replace("/", "_") + ".npz")
        if os.path.exists(cache):
            stored = np.load(cache)
            self.images = stored["images"]
        else:
            self.images = synthdata.load_images(folder, self.paths)
            np.savez(cache, images=self.images)
        self.patch = patch
        self.architecture = architecture
        self.tokenizer = tokenizer
        if tokenizer is not None:
            self._encode()

    def dense(self):
        labels = [synthdata.dense_labels(self.scenes[p], self.images[i], self.patch) for i, p in enumerate(self.paths)]
        return {k: torch.from_numpy(np.stack([d[k] for d in labels])) for k in labels[0]}

    # Prompt text for one question; text-only prompts (LM pretraining) have no image.
    def prompt(self, question: str, image: bool) -> str:
        if self.architecture == "gemma":
            return "<bos><start_of_turn>user\n" + ("<image>\n" if image else "") + question + \
                "<end_of_turn>\n<start_of_turn>model\n"
        return "USER: " + ("<image>\n" if image else "") + question + " ASSISTANT:"

    def encode_prompt(self, question: str, image: bool, image_tokens: int) -> list[int]:
        ids = self.tokenizer.encode(self.prompt(question, image), add_special_tokens=self.architecture != "gemma").ids
        image_id = self.tokenizer.token_to_id("<image>")
        out: list[int] = []
        for i in ids:
            out += [i] * image_tokens if i == image_id else [i]
        return out

    def encode_answer(self, answer: str) -> list[int]:
        if self.architecture == "gemma":
            return self.tokenizer.encode(answer, add_special_tokens=False).ids + [self.tokenizer.token_to_id("<end_of_turn>")]
        return self.tokenizer.encode(" " + answer, add_special_tokens=False).ids + [self.tokenizer.token_to_id("</s>")]

    def questions(self, sample: synthdata.Sample) -> list[str]:
        if sample.probe == "captioning":
            return synthdata.CAPTION_PROMPTS
        if sample.short:
            return [sample.question, sample.question + "\n" + synthdata.SHORT_ANSWER_SUFFIX]
        return [sample.question]

    def _encode(self, image_tokens: int = 16):
        self.encoded = []
        self.text_only = []
        for s in self.samples:
            questions = self.questions(s)
            answer = self.encode_answer(s.answers[0])
            self.encoded.append(([self.encode_prompt(q, True, image_tokens) for q in questions], answer))
            self.text_only.append(([self.encode_prompt(q, False, 0) for q in questions], answer))
        self.by_probe: dict[str, list[int]] = {}
        self.by_image: dict[str, list[int]] = {}
        self.follow_ups: dict[str, list[int]] = {}  # question → a later turn's tokens (conversation_batch)
        for i, s in enumerate(self.samples):
            self.by_probe.setdefault(s.probe, []).append(i)
            self.by_image.setdefault(s.image, []).append(i)


def texts_for_tokenizer(suite: Suite) -> list[str]:
    texts = []
    for s in suite.samples:
        for q in suite.questions(s):
            texts.append(q)
        texts += s.answers
    # The templates' words occur in every prompt.
    texts += ["user\n", "model\n", "USER: ", " ASSISTANT:"] * len(suite.samples)
    return texts


def pad_rows(rows: list[tuple[list[int], list[int]]], pad: int):
    """Right-padded ids, attention mask and labels from (ids, labels) rows of equal lengths each."""
    length = max(len(ids) for ids, _ in rows)
    out_ids = torch.full((len(rows), length), pad, dtype=torch.long)
    out_labels = torch.full((len(rows), length), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    for r, (ids, labels) in enumerate(rows):
        out_ids[r, :len(ids)] = torch.tensor(ids)
        out_labels[r, :len(ids)] = torch.tensor(labels)
        mask[r, :len(ids)] = 1
    return out_ids, mask, out_labels


def pad_batch(rows: list[tuple[list[int], list[int]]], pad: int, loss_on_prompt: bool = False):
    """(prompt, answer) rows padded: labels -100 except the answer, or all but the first token for LM text."""
    padded = []
    for prompt, answer in rows:
        seq = prompt + answer
        start = 1 if loss_on_prompt else len(prompt)
        padded.append((seq, [-100] * start + seq[start:]))
    return pad_rows(padded, pad)


def pixels_on_device(images: np.ndarray) -> torch.Tensor:
    """uint8 images (N, H, W, 3), CLIP-normalised on DEVICE."""
    return modeling.normalise_pixels(torch.from_numpy(images).to(DEVICE))


def on_device(tensors):
    """A batch's tensors, moved to DEVICE."""
    return tuple(t.to(DEVICE, non_blocking=True) for t in tensors)


def shifted_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1), ignore_index=-100)


# Spatial and reasoning are learned last, so they get the most weight; captions are dense (every
# word reads the image), which speeds up learning to look at the image tokens at all.
PROBE_WEIGHTS = {"recognition": 3.0, "knowledge": 1.5, "spatial": 3.5, "reasoning": 3.5, "hallucination": 2.0,
                 "illusion": 1.5, "captioning": 3.0, "toxicity": 0.5, "stereotypes": 0.25, "bias": 0.5}


def draw(suite: Suite, rng: random.Random, batch: int, probes: list[str] | None = None,
         probe_weights: dict[str, float] | None = None) -> list[int]:
    table = probe_weights or PROBE_WEIGHTS
    names = [p for p in table if p in suite.by_probe and (probes is None or p in probes)]
    weights = [table[p] for p in names]
    return [rng.choice(suite.by_probe[rng.choices(names, weights)[0]]) for _ in range(batch)]


def cosine(step: int, steps: int, lr: float) -> float:
    warmup = max(1, int(0.03 * steps))
    if step < warmup:
        return lr * (step + 1) / warmup
    return lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


# ----------------------------------------------------------------------------- helpers


def family() -> dict:
    with open(FAMILY_PATH) as handle:
        return json.load(handle)


def setup(seed: int):
    # Two cores on the build machine; LCB_TRAIN_THREADS=1 when stages run side by side.
    torch.set_num_threads(int(os.environ.get("LCB_TRAIN_THREADS", "2")))
    torch.manual_seed(seed)
    np.random.seed(seed)
    return random.Random(seed)


def load_tokenizer(work: str, architecture: str):
    from tokenizers import Tokenizer
    path = os.path.join(work, f"tokenizer-{architecture}.json")
    if not os.path.exists(path):
        sys.exit(f"{path}: missing; run `train.py tokenizer --data DIR` first")
    return Tokenizer.from_file(path)


def write_log(work: str, name: str, record: dict):
    with open(os.path.join(work, f"log-{name}.json"), "w") as handle:
        json.dump(record, handle, indent=2)


def read_log(work: str, name: str) -> dict | None:
    path = os.path.join(work, f"log-{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def architecture_of(fam: dict, lm: str) -> str:
    return fam["lm"][lm]["architecture"]


def build(fam: dict, work: str, lm: str, vision: str):
    tokenizer = load_tokenizer(work, architecture_of(fam, lm))
    config = modeling.llava_config(fam, lm, vision, tokenizer.get_vocab_size())
    return modeling.new_model(config).to(DEVICE), tokenizer


def load_part(module: torch.nn.Module, path: str):
    if not os.path.exists(path):
        sys.exit(f"{path}: missing; train that stage first (see docs/training.md)")
    module.load_state_dict(torch.load(path, weights_only=True, map_location="cpu"))


def save_part(module: torch.nn.Module, path: str):
    torch.save({k: v.detach().cpu() for k, v in module.state_dict().items()}, path)


@torch.no_grad()
def all_features(model, suite: Suite, batch: int = 256) -> torch.Tensor:
    model.eval()
    out = []
    for start in range(0, len(suite.images), batch):
        out.append(modeling.vision_features(model, pixels_on_device(suite.images[start:start + batch])))
    return torch.cat(out)


def lm_batch(suite: Suite, indices: list[int], rng: random.Random, pad: int, text_only: bool = False,
             fixed_variant: bool = False):
    rows = []
    source = suite.text_only if text_only else suite.encoded
    for i in indices:
        prompts, answer = source[i]
        rows.append((prompts[0] if fixed_variant else rng.choice(prompts), answer))
    return pad_batch(rows, pad, loss_on_prompt=text_only)


def follow_up(suite: Suite, question: str) -> list[int]:
    """A later user turn of a conversation about the same image (the image is not repeated)."""
    if question not in suite.follow_ups:
        if suite.architecture == "gemma":
            text = "\n<start_of_turn>user\n" + question + "<end_of_turn>\n<start_of_turn>model\n"
        else:
            text = "USER: " + question + " ASSISTANT:"
        suite.follow_ups[question] = suite.tokenizer.encode(text, add_special_tokens=False).ids
    return suite.follow_ups[question]


def conversation_batch(suite: Suite, indices: list[int], rng: random.Random, pad: int, turns: int):
    """Like lm_batch, but each row goes on with up to turns-1 more questions about its image.

    LLaVA's instruction data packs several question-answer turns per image; every answer is
    supervised, so one pass over the 16 image tokens and the template trains several answers.
    """
    rows = []
    for i in indices:
        prompts, answer = suite.encoded[i]
        ids = list(rng.choice(prompts))
        labels = [-100] * len(ids) + answer
        ids += answer
        others = [j for j in suite.by_image[suite.samples[i].image] if j != i]
        for j in rng.sample(others, min(turns - 1, len(others))):
            question = rng.choice(suite.questions(suite.samples[j]))
            prompt, reply = follow_up(suite, question), suite.encoded[j][1]
            labels += [-100] * len(prompt) + reply
            ids += prompt + reply
        rows.append((ids, labels))
    return pad_rows(rows, pad)


def image_embeds(model, features: torch.Tensor, suite: Suite, indices: list[int]) -> torch.Tensor:
    rows = torch.tensor([suite.index[suite.samples[i].image] for i in indices], device=features.device)
    return model.model.multi_modal_projector(features[rows])


@torch.no_grad()
def teacher_forced(model, suite: Suite, features: torch.Tensor, pad: int, limit_per_probe: int = 150) -> dict:
    """Per-probe share of samples whose every answer token is the argmax (first prompt variant)."""
    model.eval()
    result = {}
    for probe, members in suite.by_probe.items():
        members = members[:limit_per_probe]
        correct = 0
        for start in range(0, len(members), 64):
            chunk = members[start:start + 64]
            ids, mask, labels = on_device(lm_batch(suite, chunk, random.Random(0), pad, fixed_variant=True))
            logits = modeling.language_logits(model, ids, mask, image_embeds(model, features, suite, chunk))
            predicted = logits[:, :-1].argmax(-1)
            target = labels[:, 1:]
            ok = ((predicted == target) | (target == -100)).all(dim=1)
            correct += int(ok.sum())
        result[probe] = round(100.0 * correct / len(members), 1)
    qa = [result[p] for p in synthdata.QA_PROBES if p in result]
    result["qa_mean"] = round(sum(qa) / len(qa), 1)
    model.train()
    return result


# ----------------------------------------------------------------------------- stages


def stage_tokenizer(args):
    suite = Suite(args.data, args.work)
    texts = texts_for_tokenizer(suite)
    for architecture in ["gemma", "llama"]:
        tok = modeling.build_tokenizer(texts, architecture, merges=args.merges)
        tok.save(os.path.join(args.work, f"tokenizer-{architecture}.json"))
        lengths = [len(tok.encode(t, add_special_tokens=False).ids) for t in texts[:3000]]
        print(f"{architecture}: vocab {tok.get_vocab_size()}, mean tokens per text {np.mean(lengths):.1f}")


class DenseHeads(torch.nn.Module):
    """Per-patch classifiers read from the features LLaVA hands the projector."""

    def __init__(self, hidden: int, place_weight: float = 1.0, relations: bool = False):
        super().__init__()
        self.place_weight = place_weight
        self.relations = relations
        if relations:
            self.relation = torch.nn.Linear(hidden, len(synthdata.SHAPES) * 6)
            self.sizes = torch.nn.Linear(hidden, len(synthdata.SHAPES) * 4)
        self.color = torch.nn.Linear(hidden, len(synthdata.COLORS) + 1)
        self.shape = torch.nn.Linear(hidden, len(synthdata.SHAPES) + 1)
        self.center = torch.nn.Linear(hidden, 2)
        self.geometry = torch.nn.Linear(hidden, 3)
        self.place = torch.nn.Linear(hidden, 3)

    def loss(self, features, labels):
        losses = {
            "color": F.cross_entropy(self.color(features).flatten(0, 1), labels["color"].flatten()),
            "shape": F.cross_entropy(self.shape(features).flatten(0, 1), labels["shape"].flatten()),
            "center": F.cross_entropy(self.center(features).flatten(0, 1), labels["center"].flatten()),
        }
        where = labels["center"].bool()
        losses["geometry"] = 10 * F.mse_loss(self.geometry(features)[where], labels["geometry"][where])
        owned = labels["color"] > 0
        losses["place"] = self.place_weight * F.mse_loss(self.place(features)[owned], labels["place"][owned])
        if self.relations:
            kinds = len(synthdata.SHAPES)
            losses["relation"] = F.cross_entropy(self.relation(features)[owned].view(-1, 6), labels["relation"][owned].view(-1))
            losses["sizes"] = F.cross_entropy(self.sizes(features)[owned].view(-1, 4), labels["sizes"][owned].view(-1))
        return losses

    def accuracy(self, features, labels):
        out = {}
        for key in ["color", "shape", "center"]:
            out[key] = round(100.0 * float((getattr(self, key)(features).argmax(-1) == labels[key]).float().mean()), 2)
        where = labels["center"].bool()
        error = (self.geometry(features)[where] - labels["geometry"][where]).abs().mean(0) * torch.tensor([12, 12, 9], device=features.device)
        out["center_error_px"] = [round(float(e), 2) for e in error]
        owned = labels["color"] > 0
        error = (self.place(features)[owned] - labels["place"][owned]).abs().mean(0) * torch.tensor([48, 48, 9], device=features.device)
        out["place_error_px"] = [round(float(e), 2) for e in error]
        if self.relations:
            for key, classes in (("relation", 6), ("sizes", 4)):
                target = labels[key][owned]
                guess = getattr(self, key)(features)[owned].view(target.shape[0], -1, classes).argmax(-1)
                present = target > 0  # slots of shapes that exist in the scene
                out[key] = round(100.0 * float((guess == target)[present].float().mean()), 2)
        return out


def stage_vision(args):
    fam = family()
    cfg = fam["stages"]["vision"]
    steps = args.steps or cfg["steps"]
    rng = setup(cfg["seed"])
    model, _ = build(fam, args.work, "s", args.size)
    tower = model.model.vision_tower
    if args.init:  # continue from another tower's state (new heads), e.g. lrel from l
        load_part(tower, os.path.join(args.work, f"vision-{args.init}.pt"))
    cfg = dict(cfg, lr=args.lr or cfg["lr"])
    heads = DenseHeads(fam["vision"][args.size]["hidden_size"], cfg.get("place_weight", 1.0),
                       fam["vision"][args.size].get("relations", False)).to(DEVICE)
    train, held = Suite(args.data, args.work), Suite(args.eval, args.work)
    labels, held_labels = train.dense(), held.dense()
    labels = {k: v.to(DEVICE) for k, v in labels.items()}
    held_pixels = pixels_on_device(held.images[:512])
    held_labels = {k: v[:512].to(DEVICE) for k, v in held_labels.items()}
    params = list(tower.parameters()) + list(heads.parameters())
    optimizer = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=0.01)
    begin = time.time()
    history = []
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine(step, steps, cfg["lr"])
        rows = torch.tensor([rng.randrange(len(train.paths)) for _ in range(cfg["batch"])])
        features = modeling.vision_features(model, pixels_on_device(train.images[rows.numpy()]))
        rows = rows.to(DEVICE)
        losses = heads.loss(features, {k: v[rows] for k, v in labels.items()})
        total = sum(losses.values())
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        if step % args.log_every == 0 or step == steps - 1:
            with torch.no_grad():
                accuracy = heads.accuracy(modeling.vision_features(model, held_pixels), held_labels)
            record = {"step": step, "loss": round(total.item(), 4), "held_out": accuracy, "seconds": round(time.time() - begin)}
            history.append(record)
            print(json.dumps(record), flush=True)
    save_part(tower, os.path.join(args.work, f"vision-{args.size}.pt"))
    write_log(args.work, f"vision-{args.size}", {"steps": steps, "batch": cfg["batch"], "lr": cfg["lr"], "init": args.init,
                                                 "seconds": round(time.time() - begin), "history": history,
                                                 "parameters": sum(p.numel() for p in tower.parameters())})


def stage_lm(args):
    fam = family()
    cfg = fam["stages"]["lm"]
    steps = args.steps or cfg["steps"]
    rng = setup(cfg["seed"])
    model, tokenizer = build(fam, args.work, args.size, "s")
    architecture = architecture_of(fam, args.size)
    train = Suite(args.data, args.work, tokenizer, architecture)
    pad = fam_pad(architecture)
    lm = model.model.language_model
    optimizer = torch.optim.AdamW(lm.parameters(), lr=cfg["lr"], weight_decay=0.01)
    begin = time.time()
    history = []
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine(step, steps, cfg["lr"])
        ids, mask, labels = on_device(lm_batch(train, draw(train, rng, cfg["batch"]), rng, pad, text_only=True))
        loss = shifted_loss(modeling.language_logits(model, ids, mask, None), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % args.log_every == 0 or step == steps - 1:
            record = {"step": step, "loss": round(loss.item(), 4), "seconds": round(time.time() - begin)}
            history.append(record)
            print(json.dumps(record), flush=True)
    save_part(lm, os.path.join(args.work, f"lm-{args.size}.pt"))
    write_log(args.work, f"lm-{args.size}", {"steps": steps, "batch": cfg["batch"], "lr": cfg["lr"],
                                             "seconds": round(time.time() - begin), "history": history,
                                             "parameters": sum(p.numel() for p in lm.parameters())})


def fam_pad(architecture: str) -> int:
    return 0 if architecture == "gemma" else 3


def connector_name(spec: dict) -> str:
    return f"connector-lm-{spec['lm']}-vis-{spec['vision']}"


def stage_connector(args):
    fam = family()
    spec = fam["models"][args.model]
    cfg = fam["stages"]["connector"]
    steps = args.steps or cfg["steps"]
    rng = setup(cfg["seed"])
    model, tokenizer = build(fam, args.work, spec["lm"], spec["vision"])
    load_part(model.model.vision_tower, os.path.join(args.work, f"vision-{spec['vision']}.pt"))
    load_part(model.model.language_model, os.path.join(args.work, f"lm-{spec['lm']}.pt"))
    architecture = architecture_of(fam, spec["lm"])
    train = Suite(args.data, args.work, tokenizer, architecture)
    features = all_features(model, train)
    pad = fam_pad(architecture)
    for p in model.parameters():
        p.requires_grad_(False)
    projector = model.model.multi_modal_projector
    for p in projector.parameters():
        p.requires_grad_(True)
    optimizer = torch.optim.AdamW(projector.parameters(), lr=cfg["lr"], weight_decay=0.0)
    begin = time.time()
    history = []
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine(step, steps, cfg["lr"])
        indices = draw(train, rng, cfg["batch"], probes=["captioning", "toxicity"])
        ids, mask, labels = on_device(lm_batch(train, indices, rng, pad))
        loss = shifted_loss(modeling.language_logits(model, ids, mask, image_embeds(model, features, train, indices)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % args.log_every == 0 or step == steps - 1:
            record = {"step": step, "loss": round(loss.item(), 4), "seconds": round(time.time() - begin)}
            history.append(record)
            print(json.dumps(record), flush=True)
    name = connector_name(spec)
    save_part(projector, os.path.join(args.work, f"{name}.pt"))
    write_log(args.work, name, {"steps": steps, "batch": cfg["batch"], "lr": cfg["lr"],
                                "seconds": round(time.time() - begin), "history": history})


PLAN_STEPS = 100  # steps timed before a --plan-group run fixes its length


def planned_steps(args, steps: int, elapsed: float) -> int:
    """The step count that fits --max-seconds for the slowest run of a --plan-group.

    Runs sharing one GPU slow each other down by an amount known only once they run. Each run of
    a group writes its time per step after PLAN_STEPS steps and waits (at most 120 s) for the
    others; all then take the same count (at most --steps), so a grid trained side by side keeps
    an equal step budget and still ends inside --max-seconds, with its full cosine schedule.
    """
    os.makedirs(args.plan_group, exist_ok=True)
    scratch = os.path.join(os.path.dirname(os.path.abspath(args.plan_group)), f".plan-{args.model}-{os.getpid()}")
    with open(scratch, "w") as handle:
        handle.write(str(elapsed / PLAN_STEPS))
    os.replace(scratch, os.path.join(args.plan_group, args.model))  # whole, never half written
    waited = time.time()
    while len(os.listdir(args.plan_group)) < args.plan_size and time.time() - waited < 120:
        time.sleep(0.5)
    rates = []
    for name in sorted(os.listdir(args.plan_group)):
        with open(os.path.join(args.plan_group, name)) as handle:
            rates.append(float(handle.read() or "nan"))
    slowest = max(r for r in rates if r == r)
    left = args.max_seconds - slowest * PLAN_STEPS  # the same for every run of the group
    fitted = PLAN_STEPS + int(0.85 * left / slowest)  # 15 % for held-out evaluations and noise
    planned = max(PLAN_STEPS + 1, min(steps, fitted))
    print(json.dumps({"plan": {"runs": len(rates), "slowest_s_per_step": round(slowest, 4), "steps": planned}}), flush=True)
    return planned


def stage_instruct(args):
    fam = family()
    spec = dict(fam["models"][args.model])
    if args.vision:  # a pass on another (same-sized) tower, e.g. tiny-llava-gemma's first pass on l
        spec["vision"] = args.vision
    cfg = dict(fam["stages"]["instruct"])
    cfg["lr"] = args.lr or cfg["lr"]
    turns = args.turns or cfg.get("turns", 1)
    weights = dict(PROBE_WEIGHTS)
    for item in filter(None, args.weights.split(",")):  # e.g. "spatial=8,reasoning=6"
        probe, _, value = item.partition("=")
        if probe not in weights:
            sys.exit(f"--weights: unknown probe {probe!r}; expected one of {', '.join(weights)}")
        try:
            weights[probe] = float(value)
        except ValueError:
            sys.exit(f"--weights: {item!r}: expected PROBE=NUMBER, e.g. spatial=8")
    steps = args.steps or cfg["steps"]
    rng = setup(cfg["seed"])
    model, tokenizer = build(fam, args.work, spec["lm"], spec["vision"])
    load_part(model.model.vision_tower, os.path.join(args.work, f"vision-{spec['vision']}.pt"))
    if not args.resume:  # a resumed pass loads the language model and projector below
        load_part(model.model.language_model, os.path.join(args.work, f"lm-{spec['lm']}.pt"))
        if spec["connector_pretraining"]:
            load_part(model.model.multi_modal_projector, os.path.join(args.work, connector_name(spec) + ".pt"))
    previous = None
    tune = args.tune_vision > 0  # the tower trains too, at tune_vision × the stage's lr
    if args.resume:
        # A second stage-2 pass (its own warmup and cosine) from the saved end of the first; the
        # (frozen) vision tower is the stage's, which a pass may have changed (see docs/training.md),
        # unless an earlier pass tuned it: then the saved tower is the model's own.
        load_part(model, os.path.join(args.work, f"model-{args.model}.pt"))
        previous = read_log(args.work, f"model-{args.model}")
        if not (previous or {}).get("vision_tuned"):
            load_part(model.model.vision_tower, os.path.join(args.work, f"vision-{spec['vision']}.pt"))
    tuned = tune or bool(previous and previous.get("vision_tuned"))
    architecture = architecture_of(fam, spec["lm"])
    train = Suite(args.data, args.work, tokenizer, architecture, extra=not args.no_extra)
    held = Suite(args.eval, args.work, tokenizer, architecture)
    features, held_features = all_features(model, train), all_features(model, held)
    pad = fam_pad(architecture)
    tower = list(model.model.vision_tower.parameters())
    for p in tower:
        p.requires_grad_(tune)
    trainable = list(model.model.multi_modal_projector.parameters()) + list(model.model.language_model.parameters())
    groups = [{"params": trainable, "scale": 1.0}] + ([{"params": tower, "scale": args.tune_vision}] if tune else [])
    optimizer = torch.optim.AdamW(groups, lr=cfg["lr"], weight_decay=0.01)
    if tune:
        trainable = trainable + tower

    def embeds_for(indices: list[int]) -> torch.Tensor:
        if not tune:
            return image_embeds(model, features, train, indices)
        rows = [train.index[train.samples[i].image] for i in indices]
        return model.model.multi_modal_projector(modeling.vision_features(model, pixels_on_device(train.images[rows])))

    def held_out() -> dict:
        nonlocal held_features
        if tune:  # the tower moved: its features too
            held_features = all_features(model, held)
        return teacher_forced(model, held, held_features, pad)

    begin = time.time()
    history = []
    model.train()
    schedule = steps  # the length the cosine decay is laid out for (an early stop keeps it)
    stop_file = os.path.join(args.work, f"stop-{args.model}")
    for step in range(steps):
        if args.plan_group and step == PLAN_STEPS:
            steps = schedule = planned_steps(args, steps, time.time() - begin)
        if step >= steps:  # the plan shortened the run
            break
        # An early stop on request (a stop file, or --max-seconds spent): save what is trained so far.
        late = args.max_seconds and time.time() - begin > args.max_seconds
        if os.path.exists(stop_file) or late or step == args.stop_at:
            print(f"stopping at step {step}: " + ("--max-seconds spent" if late else "--stop-at" if step == args.stop_at
                                                  else f"{stop_file} exists"), flush=True)
            if os.path.exists(stop_file):
                os.remove(stop_file)
            schedule, steps = steps, step
            break
        for group in optimizer.param_groups:
            group["lr"] = cosine(step, steps, cfg["lr"]) * group["scale"]
        indices = draw(train, rng, cfg["batch"], probe_weights=weights)
        if turns > 1:
            ids, mask, labels = on_device(conversation_batch(train, indices, rng, pad, turns))
        else:
            ids, mask, labels = on_device(lm_batch(train, indices, rng, pad))
        loss = shifted_loss(modeling.language_logits(model, ids, mask, embeds_for(indices)), labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        if (step + 1) % args.eval_every == 0 or step == steps - 1:
            record = {"step": step + 1, "loss": round(loss.item(), 4), "seconds": round(time.time() - begin),
                      "teacher_forced": held_out()}
            history.append(record)
            print(json.dumps(record), flush=True)
        elif step % args.log_every == 0:
            print(json.dumps({"step": step, "loss": round(loss.item(), 4), "seconds": round(time.time() - begin)}), flush=True)
    if not history or history[-1]["step"] != steps:
        history.append({"step": steps, "loss": round(loss.item(), 4), "seconds": round(time.time() - begin),
                        "teacher_forced": held_out()})
        print(json.dumps(history[-1]), flush=True)
    save_part(model, os.path.join(args.work, f"model-{args.model}.pt"))
    record = {"steps": steps, "batch": cfg["batch"], "lr": cfg["lr"], "turns": turns, "seconds": round(time.time() - begin),
              "schedule_steps": schedule, "weights": weights, "weights_arg": args.weights, "vision": args.vision,
              "device": DEVICE.type,
              "tune_vision": args.tune_vision, "vision_tuned": tuned,
              "history": history, "parameters": modeling.parameter_counts(model)}
    if previous is not None:
        keys = ("steps", "schedule_steps", "lr", "seconds", "weights_arg", "vision", "device", "tune_vision")
        record["passes"] = previous.get("passes", [{k: previous.get(k) for k in keys}])
        record["passes"].append({k: record[k] for k in keys})
        record["steps"] = sum(p["steps"] for p in record["passes"])
        record["seconds"] = sum(p["seconds"] for p in record["passes"])
        offset = previous["steps"]
        record["history"] = previous["history"] + [{**h, "step": h["step"] + offset} for h in history]
    write_log(args.work, f"model-{args.model}", record)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default=".train", help="folder for intermediate states and logs")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where to train (default cpu)")
    sub = parser.add_subparsers(dest="stage", required=True)
    p = sub.add_parser("tokenizer"); p.add_argument("--data", required=True); p.add_argument("--merges", type=int, default=300)
    p = sub.add_parser("vision"); p.add_argument("--size", choices=["s", "l"], required=True)
    p.add_argument("--data", required=True); p.add_argument("--eval", required=True)
    p.add_argument("--init", default="", help="start from the tower of another vision size (e.g. l)")
    p.add_argument("--lr", type=float, default=0.0, help="override the stage's learning rate")
    p = sub.add_parser("lm"); p.add_argument("--size", choices=["s", "l", "llama"], required=True); p.add_argument("--data", required=True)
    p = sub.add_parser("connector"); p.add_argument("--model", required=True); p.add_argument("--data", required=True)
    p = sub.add_parser("instruct"); p.add_argument("--model", required=True)
    p.add_argument("--data", required=True); p.add_argument("--eval", required=True)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--resume", action="store_true", help="continue from the model's saved stage-2 state")
    p.add_argument("--lr", type=float, default=0.0, help="override the stage's learning rate")
    p.add_argument("--vision", default="", help="train this pass on another vision tower of the same size (its connector too)")
    p.add_argument("--weights", default="", help="override probe weights, e.g. spatial=8,reasoning=6")
    p.add_argument("--turns", type=int, default=0, help="question-answer turns per image and row (default: the stage's)")
    p.add_argument("--no-extra", action="store_true", help="train on the generator's questions only (no extra_samples)")
    p.add_argument("--tune-vision", type=float, default=0.0,
                   help="train the vision tower too, at this multiple of the lr (default 0: frozen, as LLaVA)")
    p.add_argument("--max-seconds", type=float, default=0.0, help="stop early and save after this many seconds")
    p.add_argument("--stop-at", type=int, default=-1, help="stop after this many steps, keeping the decay laid out for --steps")
    p.add_argument("--plan-group", default="", help="a folder shared by runs trained side by side (see planned_steps)")
    p.add_argument("--plan-size", type=int, default=1, help="how many runs share --plan-group")
    p = sub.add_parser("export"); p.add_argument("--model", required=True); p.add_argument("--out", required=True)
    p = sub.add_parser("evaluate"); p.add_argument("--dir", required=True); p.add_argument("--eval", required=True)
    p.add_argument("--limit", type=int, default=100, help="samples per probe")
    p = sub.add_parser("table"); p.add_argument("--models", default="Models")
    for p in sub.choices.values():
        p.add_argument("--steps", type=int, default=0, help="override the stage's step count (short runs)")
        p.add_argument("--log-every", type=int, default=50)
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    os.makedirs(args.work, exist_ok=True)
    if args.stage in ("export", "evaluate", "table"):
        import publish
        getattr(publish, "stage_" + args.stage)(args)
    else:
        globals()["stage_" + args.stage](args)


if __name__ == "__main__":
    main()
