/// Lowers a checked spec into cells and a deduplicated job graph keyed by content.
public enum Planning {}
