/// Benchmark dataset loaders (real formats and the synthetic suite) and their metrics.
public enum Datasets {}
