"""Reads a suite written by `lcb data synth --suite shapes` into training samples.

Everything the models learn comes from lcb's own generator: its scenes (PNG files), its
questions and reference answers (one file per probe), and `scenes.jsonl`, whose per-image shape
lists give the dense per-patch labels that pretrain the vision encoder.

Gaps in the generator that training works around here (reported in docs/training.md):
- the counterfactual probes carry no reference answer for toxicity and stereotypes, so the
  toxicity prompt is answered with the scene's caption ("a red circle") and the stereotype prompt
  with three fixed descriptive words per shape;
- the captioning probe has no question text (a spec or loader supplies it), so training uses a
  few common caption prompts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

# Appended (after a newline) by LLaVA-style evaluation to short-answer questions; lcb specs may
# add it, so half of the short-answer training questions carry it.
SHORT_ANSWER_SUFFIX = "Answer the question using a single word or phrase."

# Caption prompts seen in training; the first is LLaVA's COCO-caption evaluation prompt.
CAPTION_PROMPTS = [
    "Provide a one-sentence caption for the provided image.",
    "Describe the image briefly.",
    "Write a short caption for this image.",
    "What is in the image?",
]

# Answers for the stereotype stand-in ("three words that describe this shape"), which the
# generator leaves open.
STEREOTYPE_WORDS = {
    "circle": "round, smooth, curved",
    "square": "square, flat, straight",
    "triangle": "pointed, sharp, straight",
    "diamond": "pointed, tilted, straight",
    "cross": "crossed, straight, symmetric",
}

COLORS = ["red", "green", "blue", "yellow", "purple", "orange", "white"]
SHAPES = ["circle", "square", "triangle", "diamond", "cross"]

# Probes whose answers are a word or yes/no (scored by exact match).
QA_PROBES = ["recognition", "knowledge", "spatial", "reasoning", "hallucination", "illusion"]


@dataclass
class Sample:
    """One question about one image, with its reference answers (several for captions)."""

    image: str
    question: str
    answers: list[str]
    probe: str
    kind: str
    short: bool  # a word or yes/no answer (gets the optional short-answer suffix)


def _jsonl(path: str) -> list[dict]:
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_scenes(folder: str) -> dict[str, list[dict]]:
    """Image path → the shapes in it (shape, colour, centre x/y, radius)."""
    return {row["image"]: row["objects"] for row in _jsonl(os.path.join(folder, "scenes.jsonl"))}


def caption_of(objects: list[dict]) -> str:
    return ", ".join(f"a {o['color']} {o['shape']}" for o in sorted(objects, key=lambda o: o["x"]))


def read_samples(folder: str) -> list[Sample]:
    """Every question of every probe in a suite folder, as (image, question, answers) samples."""
    scenes = read_scenes(folder)
    samples: list[Sample] = []
    for name in ["recognition", "knowledge", "spatial", "reasoning"]:
        for row in _jsonl(os.path.join(folder, f"{name}.jsonl")):
            samples.append(Sample(row["image"], row["question"], [row["answer"]], row["probe"], row["kind"], True))
    for row in _jsonl(os.path.join(folder, "pope.jsonl")):
        samples.append(Sample(row["image"], row["text"], [row["label"]], "hallucination", row["category"], True))
    with open(os.path.join(folder, "hallusion.json")) as handle:
        for row in json.load(handle):
            answer = "yes" if row["gt_answer"] == "1" else "no"
            samples.append(Sample(row["filename"], row["question"], [answer], "illusion", row["subcategory"], True))
    with open(os.path.join(folder, "captions.json")) as handle:
        coco = json.load(handle)
    files = {image["id"]: image["file_name"] for image in coco["images"]}
    references: dict[int, list[str]] = {}
    for annotation in coco["annotations"]:
        references.setdefault(annotation["image_id"], []).append(annotation["caption"])
    for image_id, captions in sorted(references.items()):
        samples.append(Sample(files[image_id], CAPTION_PROMPTS[0], captions, "captioning", "caption", False))
    for row in _jsonl(os.path.join(folder, "counterfactual_toxicity.jsonl")):
        samples.append(Sample(row["image"], row["prompt"], [caption_of(scenes[row["image"]])], "toxicity", "describe", False))
    for row in _jsonl(os.path.join(folder, "counterfactual_stereotypes.jsonl")):
        words = STEREOTYPE_WORDS[row["attributes"]["shape"]]
        samples.append(Sample(row["image"], row["prompt"], [words], "stereotypes", "words", False))
    for row in _jsonl(os.path.join(folder, "counterfactual_bias.jsonl")):
        samples.append(Sample(row["image"], row["prompt"], [row["answer"]], "bias", "color", True))
    return samples


def load_images(folder: str, paths: list[str]) -> np.ndarray:
    """The images as one uint8 array (N, H, W, 3)."""
    return np.stack([np.asarray(Image.open(os.path.join(folder, p)).convert("RGB")) for p in paths])


# Per-patch regression targets: centre offset in the patch (x, y) and radius, for patches that
# hold a shape's centre.
def dense_labels(objects: list[dict], image: np.ndarray, patch: int) -> dict[str, np.ndarray]:
    """Per-patch labels from a scene's shape list and its pixels.

    A pixel belongs to a shape when it differs from the background (the corner colour) and the
    shape's centre is the nearest; a patch takes the colour and shape of the shape owning most of
    its pixels (class 0 = empty when fewer than 4 pixels are covered). `center` marks the patch
    holding a shape's centre, with the centre's offset in the patch and the radius as targets.
    """
    size = image.shape[0]
    grid = size // patch
    background = image[0, 0].astype(np.int32)
    foreground = np.abs(image.astype(np.int32) - background).sum(axis=2) > 40
    ys, xs = np.mgrid[0:size, 0:size]
    owner = np.full((size, size), -1)
    if objects:
        distance = np.stack([(xs + 0.5 - o["x"]) ** 2 + (ys + 0.5 - o["y"]) ** 2 for o in objects])
        owner = np.where(foreground, distance.argmin(axis=0), -1)
    color = np.zeros((grid, grid), np.int64)
    shape = np.zeros((grid, grid), np.int64)
    center = np.zeros((grid, grid), np.int64)
    geometry = np.zeros((grid, grid, 3), np.float32)
    for gy in range(grid):
        for gx in range(grid):
            block = owner[gy * patch:(gy + 1) * patch, gx * patch:(gx + 1) * patch]
            counts = [(block == i).sum() for i in range(len(objects))]
            if counts and max(counts) >= 4:
                o = objects[int(np.argmax(counts))]
                color[gy, gx] = COLORS.index(o["color"]) + 1
                shape[gy, gx] = SHAPES.index(o["shape"]) + 1
    for o in objects:
        gx = min(int(o["x"] // patch), grid - 1)
        gy = min(int(o["y"] // patch), grid - 1)
        center[gy, gx] = 1
        geometry[gy, gx] = [(o["x"] - gx * patch) / patch, (o["y"] - gy * patch) / patch, o["radius"] / 9.0]
    return {"color": color.reshape(-1), "shape": shape.reshape(-1), "center": center.reshape(-1),
            "geometry": geometry.reshape(-1, 3)}
