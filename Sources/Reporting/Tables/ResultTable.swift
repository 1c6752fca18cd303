import Foundation

/// A table ready to render: labelled rows and columns of formatted-agnostic numbers.
///
/// Built from a spec's table declaration and a `ResultSet` by `ResultTableBuilder`; every renderer
/// (Markdown, CSV, LaTeX) reads only this value, so all three show the same numbers.
public struct ResultTable: Sendable, Hashable {
    public var name: String
    public var caption: String?
    public var label: String?
    /// Digits after the decimal point.
    public var decimals: Int
    public var showStandardErrors: Bool
    /// The configuration deltas are taken against; nil = no deltas.
    public var baseline: String?
    /// The names of the row dimensions, outermost first (`model`, `compression`).
    public var rowHeadings: [String]
    /// One entry per column: its labels along the column dimensions, outermost first.
    public var columns: [Column]
    public var rows: [Row]
    /// Facts a reader needs under the table (regimes, scales, the toxicity scorer …).
    public var notes: [String]

    public init(name: String, caption: String? = nil, label: String? = nil, decimals: Int = 2,
                showStandardErrors: Bool = false, baseline: String? = nil, rowHeadings: [String],
                columns: [Column], rows: [Row], notes: [String] = []) {
        self.name = name
        self.caption = caption
        self.label = label
        self.decimals = decimals
        self.showStandardErrors = showStandardErrors
        self.baseline = baseline
        self.rowHeadings = rowHeadings
        self.columns = columns
        self.rows = rows
        self.notes = notes
    }

    public struct Column: Sendable, Hashable {
        /// Labels along the column dimensions, outermost first (`["probes", "exact_match"]`).
        public var path: [String]
        public var higherIsBetter: Bool

        public init(path: [String], higherIsBetter: Bool = true) {
            self.path = path
            self.higherIsBetter = higherIsBetter
        }
    }

    public struct Row: Sendable, Hashable {
        /// Labels along the row dimensions, outermost first.
        public var labels: [String]
        /// True for the baseline's rows (they carry no delta).
        public var isBaseline: Bool
        /// One entry per column; nil where no result exists.
        public var entries: [Entry?]

        public init(labels: [String], isBaseline: Bool = false, entries: [Entry?]) {
            self.labels = labels
            self.isBaseline = isBaseline
            self.entries = entries
        }
    }

    /// One number of the table, on its display scale.
    public struct Entry: Sendable, Hashable {
        public var value: Double
        public var standardError: Double?
        /// value − baseline value; nil for the baseline itself or without a baseline.
        public var delta: Double?
        /// The best value of its column (the baseline's rows are not candidates).
        public var isBest: Bool

        public init(value: Double, standardError: Double? = nil, delta: Double? = nil, isBest: Bool = false) {
            self.value = value
            self.standardError = standardError
            self.delta = delta
            self.isBest = isBest
        }
    }

    /// How many column dimensions the header has.
    public var headerDepth: Int { columns.map(\.path.count).max() ?? 0 }
}

extension ResultTable {
    /// Runs of equal labels at header level `level` (for spanning group headers): (label, first column, width).
    ///
    /// A run never crosses a boundary of an outer level, so nested groups stay nested.
    public func headerGroups(level: Int) -> [(label: String, start: Int, width: Int)] {
        var groups: [(String, Int, Int)] = []
        for (index, column) in columns.enumerated() {
            let label = level < column.path.count ? column.path[level] : ""
            let prefix = Array(column.path.prefix(level + 1))
            if let last = groups.last, last.0 == label, index > 0,
               Array(columns[index - 1].path.prefix(level + 1)) == prefix {
                groups[groups.count - 1].2 += 1
            } else {
                groups.append((label, index, 1))
            }
        }
        return groups
    }

    /// How many rows from `row` on share the row label at `level` and every outer level (for multirow).
    public func rowSpan(row: Int, level: Int) -> Int {
        let prefix = Array(rows[row].labels.prefix(level + 1))
        var span = 1
        while row + span < rows.count, Array(rows[row + span].labels.prefix(level + 1)) == prefix { span += 1 }
        return span
    }

    /// True when the row repeats the label at `level` (and every outer level) of the row above.
    public func repeatsLabel(row: Int, level: Int) -> Bool {
        row > 0 && Array(rows[row].labels.prefix(level + 1)) == Array(rows[row - 1].labels.prefix(level + 1))
    }
}
