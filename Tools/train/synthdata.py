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
            # Generic JSONL rows carry `answers` (a list); older suites wrote one `answer`.
            answers = row.get("answers") or [row["answer"]]
            samples.append(Sample(row["image"], row["question"], answers, row["probe"], row["kind"], True))
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
    def owned_patches():
        """(gy, gx, shape) for every patch whose pixels a shape owns (at least 4, the most of them)."""
        for gy in range(grid):
            for gx in range(grid):
                block = owner[gy * patch:(gy + 1) * patch, gx * patch:(gx + 1) * patch]
                counts = [(block == i).sum() for i in range(len(objects))]
                if counts and max(counts) >= 4:
                    yield gy, gx, objects[int(np.argmax(counts))]

    # Per owned patch: the owning shape's colour and shape; where it is in the whole image (its
    # centre (x, y) / size and radius / 9: the other targets are local to a patch, these give each
    # image token its object's absolute position and size, which spatial and size questions
    # compare); and its relations to the scene's other shapes, one slot per shape kind (shapes are
    # unique in a scene): 0 = no such other shape, 1-4 = left/right/above/below by the generator's
    # clarity rule, 5 = not clear; sizes: 0 = none, 1 bigger (radius ≥ 2 more), 2 smaller, 3 similar.
    # The tower sees the whole image, so it can put "I am left of the square" on the circle's
    # tokens; the language model then answers spatial and size questions by one look-up.
    place = np.zeros((grid, grid, 3), np.float32)
    relation = np.zeros((grid, grid, len(SHAPES)), np.int64)
    sizes = np.zeros((grid, grid, len(SHAPES)), np.int64)
    codes = {"left": 1, "right": 2, "above": 3, "below": 4}
    for gy, gx, o in owned_patches():
        color[gy, gx] = COLORS.index(o["color"]) + 1
        shape[gy, gx] = SHAPES.index(o["shape"]) + 1
        place[gy, gx] = [o["x"] / size, o["y"] / size, o["radius"] / 9.0]
        for other in objects:
            if other is o:
                continue
            k = SHAPES.index(other["shape"])
            r = _relation(o, other)
            relation[gy, gx, k] = codes[r] if r else 5
            d = o["radius"] - other["radius"]
            sizes[gy, gx, k] = 1 if d >= 2 else 2 if d <= -2 else 3
    for o in objects:
        gx = min(int(o["x"] // patch), grid - 1)
        gy = min(int(o["y"] // patch), grid - 1)
        center[gy, gx] = 1
        geometry[gy, gx] = [(o["x"] - gx * patch) / patch, (o["y"] - gy * patch) / patch, o["radius"] / 9.0]
    return {"color": color.reshape(-1), "shape": shape.reshape(-1), "center": center.reshape(-1),
            "geometry": geometry.reshape(-1, 3), "place": place.reshape(-1, 3),
            "relation": relation.reshape(-1, len(SHAPES)), "sizes": sizes.reshape(-1, len(SHAPES))}


# ----------------------------------------------------------------------------- extra questions


def _relation(a: dict, b: dict, margin: int = 6) -> str | None:
    """The clear relation of a to b, as the generator decides it (SpatialRelation.between)."""
    dx, dy = a["x"] - b["x"], a["y"] - b["y"]
    if abs(dx) >= margin and abs(dx) >= 2 * abs(dy):
        return "left" if dx < 0 else "right"
    if abs(dy) >= margin and abs(dy) >= 2 * abs(dx):
        return "above" if dy < 0 else "below"
    return None


PHRASE = {"left": "to the left of", "right": "to the right of", "above": "above", "below": "below"}
OPPOSITE = {"left": "right", "right": "left", "above": "below", "below": "above"}


def _offset(other: dict, reference: dict, relation: str) -> int:
    return {"left": reference["x"] - other["x"], "right": other["x"] - reference["x"],
            "above": reference["y"] - other["y"], "below": other["y"] - reference["y"]}[relation]


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def extra_samples(scenes: dict[str, list[dict]], skip: tuple[str, ...] = ("toxicity", "stereotypes", "bias")) -> list[Sample]:
    """Every spatial and reasoning question the generator's rules allow on every training scene.

    The generator asks one spatial and one reasoning question per scene of its own; a model that
    sees each such image with one question can memorise the image instead of learning to compare
    positions. These use the generator's templates and clarity rules (ProbeGenerator.clearPairs,
    reasoningQuestion) on every scene with two or more shapes, asking all of them; held-out
    evaluation still uses only the generator's own questions.
    """
    out: list[Sample] = []
    for image in sorted(scenes):
        if any(f"/{p}-" in image for p in skip):
            continue
        objects = scenes[image]
        names = {id(o): f"{o['color']} {o['shape']}" for o in objects}
        pairs = [(a, b, r) for a in objects for b in objects if a is not b and (r := _relation(a, b))]
        for a, b, r in pairs:
            if r in ("left", "right"):
                q = f"Is the {names[id(a)]} to the left or to the right of the {names[id(b)]}?"
            else:
                q = f"Is the {names[id(a)]} above or below the {names[id(b)]}?"
            out.append(Sample(image, q, [r], "spatial", "extra", True))
            if not any(o is not a and o is not b and _offset(o, b, r) > 0 for o in objects):
                out.append(Sample(image, f"What color is the shape {PHRASE[r]} the {b['shape']}?", [a["color"]],
                                  "reasoning", "extra", True))
            out.append(Sample(image, f"Is there {_article(a['shape'])} {PHRASE[r]} the {b['color']} shape?", ["yes"],
                              "reasoning", "extra", True))
            out.append(Sample(image, f"Is there {_article(a['shape'])} {PHRASE[OPPOSITE[r]]} the {b['color']} shape?",
                              ["no"], "reasoning", "extra", True))
        for a in objects:
            for b in objects:
                if abs(a["radius"] - b["radius"]) >= 2:
                    out.append(Sample(image, f"Is the {names[id(a)]} bigger than the {names[id(b)]}?",
                                      ["yes" if a["radius"] > b["radius"] else "no"], "reasoning", "extra", True))
    return out
