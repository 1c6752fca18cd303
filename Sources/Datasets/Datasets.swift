/// Benchmark dataset loaders (real formats and the synthetic suite) and their metrics.
///
/// The runner's entry points are ``DatasetLoader/load(_:at:options:)`` (files on disk → ``Sample``s)
/// and ``Evaluator/evaluate(_:samples:outputs:)`` (samples + model outputs → ``EvaluationReport``).
public enum Datasets {}
