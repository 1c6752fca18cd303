/// The experiment-spec front end: YAML with source positions, the typed spec, the checker and its diagnostics.
public enum SpecLanguage {}
