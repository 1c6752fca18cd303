/// Weight and KV-cache quantizers with real packed storage.
public enum Quantization {}
