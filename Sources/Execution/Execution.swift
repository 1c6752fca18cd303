/// Runs a plan: scheduler, result store, feature cache and provenance.
public enum Execution {}
