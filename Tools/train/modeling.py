"""Tokenizers, model configurations and the LLaVA forward pass used in training.

Models are Hugging Face `LlavaForConditionalGeneration` with a CLIP vision tower and a Gemma (or
Llama) language model, so what training optimises is exactly what transformers (and lcb, which
matches transformers) run at inference.
"""

from __future__ import annotations

import json

import torch
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import CLIPVisionConfig, GemmaConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

GEMMA_SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", "<image>"]
LLAMA_SPECIALS = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def build_tokenizer(texts: list[str], architecture: str, merges: int) -> Tokenizer:
    """A Gemma-style byte-fallback BPE tokenizer over the suite's text.

    Spaces become `▁` (a Replace normalizer, no pre-tokenizer, as Gemma's tokenizer.json);
    characters outside the learned alphabet fall back to `<0xXX>` byte tokens. The vocabulary is
    the special tokens, the 256 byte tokens, then the learned symbols and merges.
    """
    specials = GEMMA_SPECIALS if architecture == "gemma" else LLAMA_SPECIALS
    # Learn merges inside words only (split before each ▁) so no token spans a word boundary;
    # the saved tokenizer then needs no pre-tokenizer and encodes the same ids.
    learner = Tokenizer(models.BPE(byte_fallback=True))
    learner.normalizer = normalizers.Replace(" ", "▁")
    learner.pre_tokenizer = pre_tokenizers.Split("▁", behavior="merged_with_next")
    learner.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=10_000, limit_alphabet=100,
                                                           show_progress=False, special_tokens=[]))
    learned = json.loads(learner.to_str())["model"]
    alphabet = sorted((t for t in learned["vocab"] if len(t) == 1), key=lambda t: learned["vocab"][t])
    pairs = learned["merges"][:merges]
    vocab: dict[str, int] = {}
    for token in specials + BYTE_TOKENS + alphabet:
        vocab.setdefault(token, len(vocab))
    merge_list = []
    for pair in pairs:
        left, right = pair if isinstance(pair, list) else pair.split(" ")
        vocab.setdefault(left + right, len(vocab))
        merge_list.append((left, right))
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merge_list, byte_fallback=True, fuse_unk=True,
                                     unk_token=specials[specials.index("<unk>")]))
    tokenizer.normalizer = normalizers.Replace(" ", "▁")
    tokenizer.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    if architecture == "llama":
        # llava-hf LLaVA-1.5: the tokenizer adds <s>; lcb's llava-1.5 template relies on it.
        tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    # Encoding word by word and encoding whole texts must agree (no merge spans a word boundary).
    split = Tokenizer.from_str(tokenizer.to_str())
    split.pre_tokenizer = pre_tokenizers.Split("▁", behavior="merged_with_next")
    for text in texts[:2000]:
        assert split.encode(text, add_special_tokens=False).ids == tokenizer.encode(text, add_special_tokens=False).ids, text
    return tokenizer


def llava_config(family: dict, lm: str, vision: str, vocab_size: int) -> LlavaConfig:
    image_size, patch = family["image_size"], family["patch_size"]
    v = family["vision"][vision]
    vision_config = CLIPVisionConfig(
        hidden_size=v["hidden_size"], intermediate_size=v["intermediate_size"],
        num_hidden_layers=v["num_hidden_layers"], num_attention_heads=v["num_attention_heads"],
        image_size=image_size, patch_size=patch, projection_dim=v["hidden_size"], hidden_act="quick_gelu")
    t = family["lm"][lm]
    common = dict(vocab_size=vocab_size, hidden_size=t["hidden_size"], intermediate_size=t["intermediate_size"],
                  num_hidden_layers=t["num_hidden_layers"], num_attention_heads=t["num_attention_heads"],
                  num_key_value_heads=t["num_key_value_heads"], head_dim=t["head_dim"],
                  max_position_embeddings=256, tie_word_embeddings=True)
    if t["architecture"] == "gemma":
        text_config = GemmaConfig(**common, hidden_act="gelu_pytorch_tanh", hidden_activation="gelu_pytorch_tanh",
                                  rms_norm_eps=1e-6, pad_token_id=0, eos_token_id=1, bos_token_id=2)
        image_token = GEMMA_SPECIALS.index("<image>")
    else:
        text_config = LlamaConfig(**common, hidden_act="silu", rms_norm_eps=1e-5,
                                  pad_token_id=3, eos_token_id=2, bos_token_id=1)
        image_token = LLAMA_SPECIALS.index("<image>")
    tokens = (image_size // patch) ** 2
    return LlavaConfig(vision_config=vision_config, text_config=text_config, image_token_id=image_token,
                       vision_feature_layer=-1, vision_feature_select_strategy="default",
                       projector_hidden_act="gelu", image_seq_length=tokens, tie_word_embeddings=True)


def new_model(config: LlavaConfig) -> LlavaForConditionalGeneration:
    model = LlavaForConditionalGeneration(config)
    model.tie_weights()
    assert model.lm_head.weight is model.model.language_model.embed_tokens.weight
    return model


def normalise_pixels(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W, 3) → CLIP-normalised float (N, 3, H, W); the 48 px images need no resize."""
    x = images.permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(CLIP_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def vision_features(model: LlavaForConditionalGeneration, pixels: torch.Tensor) -> torch.Tensor:
    """The patch features LLaVA feeds the projector (last layer's hidden states, CLS dropped)."""
    out = model.model.vision_tower(pixels, output_hidden_states=True)
    return out.hidden_states[model.config.vision_feature_layer][:, 1:]


def language_logits(model: LlavaForConditionalGeneration, ids: torch.Tensor, mask: torch.Tensor,
                    image_embeds: torch.Tensor | None) -> torch.Tensor:
    """Logits of the language model with image embeddings in place of the image tokens.

    As transformers' Llava forward: text ids are embedded (Gemma scales them by sqrt(hidden)
    inside its embedding), the projected image features replace the image-token rows unscaled.
    """
    embeds = model.model.language_model.embed_tokens(ids)
    if image_embeds is not None:
        slots = ids == model.config.image_token_id
        embeds = embeds.masked_scatter(slots.unsqueeze(-1), image_embeds.to(embeds.dtype))
    hidden = model.model.language_model(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
    return model.lm_head(hidden)


def parameter_counts(model: LlavaForConditionalGeneration) -> dict[str, int]:
    def count(module):
        return sum(p.numel() for p in module.parameters())
    return {"vision": count(model.model.vision_tower), "projector": count(model.model.multi_modal_projector),
            "language": count(model.model.language_model), "total": count(model)}
