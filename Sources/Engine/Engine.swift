/// CPU inference of LLaVA-family models from Hugging Face checkpoints.
public enum Engine {}
