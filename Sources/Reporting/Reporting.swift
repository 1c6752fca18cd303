/// Result tables, their renderers, and diffs between result sets.
public enum Reporting {}
