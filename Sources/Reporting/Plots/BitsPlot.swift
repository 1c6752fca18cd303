import Foundation

/// Accuracy (or any metric) against bits, one line per compression method, for one dataset.
///
/// Bits run along a log2 axis. The FP16 baseline is a dashed horizontal line across the plot, since it has no bit budget to
/// sit at. Values are on their display scale (fractions in percent).
public struct BitsPlot: Sendable, Hashable {
    public var title: String
    public var yLabel: String
    public var series: [Series]
    /// The baseline's value, drawn dashed; nil when the results have no baseline.
    public var baseline: Double?
    public var baselineLabel: String
    /// The y axis spans at least this much (percent metrics: 10 points), so that one sample's
    /// difference out of a hundred does not fill the plot's height.
    public var minimumSpan: Double

    public struct Series: Sendable, Hashable {
        public var name: String
        /// (bits, value), sorted by bits.
        public var points: [(bits: Int, value: Double)]

        public init(name: String, points: [(bits: Int, value: Double)]) {
            self.name = name
            self.points = points.sorted { $0.bits < $1.bits }
        }

        public static func == (a: Series, b: Series) -> Bool {
            a.name == b.name && a.points.map(\.bits) == b.points.map(\.bits) && a.points.map(\.value) == b.points.map(\.value)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(name)
            for point in points { hasher.combine(point.bits); hasher.combine(point.value) }
        }
    }

    public init(title: String, yLabel: String, series: [Series], baseline: Double?, baselineLabel: String = "fp16",
                minimumSpan: Double = 0) {
        self.title = title
        self.yLabel = yLabel
        self.series = series
        self.baseline = baseline
        self.baselineLabel = baselineLabel
        self.minimumSpan = minimumSpan
    }

    /// One plot per (model, dataset) for `metricKey` of each dataset (per probe for a synthetic
    /// suite): methods from the cells' compression (`kv` method, `w-` weight method), x = bits.
    public static func plots(results: ResultSet, metricFor: (String) -> String?) -> [(name: String, plot: BitsPlot)] {
        var out: [(String, BitsPlot)] = []
        let models = results.values(of: .model)
        for model in models {
            for dataset in results.values(of: .dataset) {
                // A cell that several experiments share is one point, not one per experiment.
                var seen = Set<String>()
                let cells = results.cells.filter { cell in
                    guard cell.coordinates.model == model, cell.coordinates.dataset == dataset else { return false }
                    return seen.insert(cell.key ?? "\(cell.coordinates.compression)\u{1F}\(cell.coordinates.experiment)").inserted
                }
                guard let primary = metricFor(dataset) ?? cells.first?.metrics.first?.key else { continue }
                // A synthetic suite scores each probe on its own (`spatial/exactMatch`): one plot per
                // probe that has the metric, not only the first.
                for key in Self.groupKeys(primary, in: cells) {
                    guard let plot = plot(key, cells: cells) else { continue }
                    let name = (models.count > 1 ? "\(model)-" : "") + "\(dataset)-\(MetricCatalog.heading(forKey: key))"
                    let probe = MetricCatalog.split(key).group.map { " / \($0)" } ?? ""
                    var titled = plot
                    titled.title = (models.count > 1 ? "\(model), " : "") + dataset + probe
                    out.append((name, titled))
                }
            }
        }
        return out
    }

    /// The plot of metric `key` over one model's cells on one dataset (untitled); nil when no cell has it.
    static func plot(_ key: String, cells: [ResultCell]) -> BitsPlot? {
        let scale = MetricCatalog.displayScale(forKey: key)
        // Lines are per method and KV regime: the plot's most common regime is left unnamed,
        // the others suffixed (`kivi (store)`), since a regime changes what bits cost.
        let regimes = cells.compactMap { $0.kv?.regime }
        let usual = Set(regimes).max { a, b in
            let (ca, cb) = (regimes.filter { $0 == a }.count, regimes.filter { $0 == b }.count)
            return ca == cb ? a > b : ca < cb
        }
        // One line per method, KV regime and setting parameters other than bits, so that
        // RTN per tensor and per channel are two lines, and `kivi-2`/`kivi-4` one.
        struct Line {
            var method: String
            var parameters: [String]
            var names: [String]
            var points: [(Int, Double)]
        }
        var lines: [Line] = []
        var baseline: Double?
        for cell in cells {
            guard let metric = cell.metric(key) else { continue }
            let value = metric.value * scale
            if cell.isBaseline { baseline = baseline ?? value; continue }
            var method = cell.methodLabel
            if let regime = cell.kv?.regime, regime != usual { method += " (\(regime))" }
            let parameters = (cell.kv?.parameters ?? []).map { "kv:" + $0 } + (cell.weights?.parameters ?? []).map { "w:" + $0 }
            let name = Self.nameWithoutBits(cell.coordinates.compression)
            if let index = lines.firstIndex(where: { $0.method == method && $0.parameters == parameters }),
               !lines[index].points.contains(where: { $0.0 == cell.bits }) {
                lines[index].points.append((cell.bits, value))
                if !lines[index].names.contains(name) { lines[index].names.append(name) }
            } else {
                // A new setting, or two configurations equal but for their names at the same bits:
                // both stay visible.
                lines.append(Line(method: method, parameters: parameters, names: [name], points: [(cell.bits, value)]))
            }
        }
        // The method names a line when it is the method's only line; otherwise the spec's
        // configuration name without its bits (`rtn/scope=per_tensor`), which the reader knows.
        let labels = lines.map { line -> String in
            let siblings = lines.filter { $0.method == line.method }
            guard siblings.count > 1 else { return line.method }
            let own = line.names.joined(separator: ", ")
            let unique = siblings.filter { $0.names.joined(separator: ", ") == own }.count == 1
            return unique && !own.isEmpty ? own : line.method + " (" + line.parameters.joined(separator: ", ") + ")"
        }
        guard !lines.isEmpty || baseline != nil else { return nil }
        return BitsPlot(title: "", yLabel: MetricCatalog.heading(forKey: key) + (scale == 100 ? " (%)" : ""),
                        series: zip(labels, lines).map { Series(name: $0, points: $1.points.map { (bits: $0.0, value: $0.1) }) },
                        baseline: baseline, minimumSpan: scale == 100 ? 10 : 0)
    }

    /// `primary` and, when it belongs to a group (a probe of a synthetic suite), the same metric of
    /// every other group the cells record, in the order the cells list them.
    static func groupKeys(_ primary: String, in cells: [ResultCell]) -> [String] {
        let (group, stem) = MetricCatalog.split(primary)
        guard group != nil else { return [primary] }
        var keys: [String] = []
        for cell in cells {
            for metric in cell.metrics {
                let (otherGroup, otherStem) = MetricCatalog.split(metric.key)
                if otherGroup != nil, otherStem == stem, !keys.contains(metric.key) { keys.append(metric.key) }
            }
        }
        return keys.isEmpty ? [primary] : keys
    }

    /// A configuration's name without its `bits=N` part: `rtn/scope=per_tensor/bits=2` → `rtn/scope=per_tensor`.
    static func nameWithoutBits(_ compression: String) -> String {
        compression.split(separator: "/").filter { part in
            guard let equals = part.firstIndex(of: "=") else { return true }
            return !(part[..<equals].hasSuffix("bits") && Int(part[part.index(after: equals)...]) != nil)
        }.joined(separator: "/")
    }

    static let palette: [Drawing.Color] = [0x1F77B4, 0xD62728, 0x2CA02C, 0xFF7F0E, 0x9467BD, 0x8C564B, 0xE377C2, 0x17BECF]
        .map { Drawing.Color(hex: $0) }

    /// Lays the plot out: axes with ticks, one line with markers per method, the dashed baseline, a legend.
    /// `width` is that of a plot whose legend labels fit in 96 points; longer labels widen the
    /// drawing rather than run off its edge.
    public func drawing(width: Double = 480, height: Double = 300) -> Drawing {
        let labels = [baselineLabel] + series.map(\.name)
        // Helvetica metrics, with a fifth more for the wider fonts an SVG viewer may substitute.
        let widest = (labels.map { Drawing.textWidth($0, size: 10) }.max() ?? 0) * 1.2
        let left = 58.0, top = 30.0, bottom = 44.0
        let right = max(132.0, 12 + 24 + widest + 8)
        let plotWidth = width - left - 132, plotHeight = height - top - bottom
        let width = left + plotWidth + right
        var items: [Drawing.Item] = []

        let bits = Array(Set(series.flatMap { $0.points.map(\.bits) })).sorted()
        let xs = bits.isEmpty ? [2, 16] : bits
        let xMin = Double(xs.first ?? 2), xMax = Double(xs.last ?? 16)
        var values = series.flatMap { $0.points.map(\.value) }
        if let baseline { values.append(baseline) }
        var low = values.min() ?? 0, high = values.max() ?? 1
        if high - low < minimumSpan {
            // Widen around the middle; percentages stay within 0 … 100 where they can.
            let middle = (low + high) / 2
            low = middle - minimumSpan / 2
            high = middle + minimumSpan / 2
            if minimumSpan <= 100, low < 0, (values.min() ?? 0) >= 0 { (low, high) = (0, minimumSpan) }
            if minimumSpan <= 100, high > 100, (values.max() ?? 0) <= 100 { (low, high) = (100 - minimumSpan, 100) }
        }
        let (yMin, yMax, yStep) = Self.niceRange(low, high)

        // Bits on a log2 axis (2, 3, 4, 8 are budgets, each a doubling of the one before but 3),
        // padded so that markers do not sit on the axes.
        let pad = plotWidth * 0.06
        func x(_ bits: Double) -> Double {
            guard xMax > xMin else { return left + plotWidth / 2 }
            return left + pad + (log2(bits) - log2(xMin)) / (log2(xMax) - log2(xMin)) * (plotWidth - 2 * pad)
        }
        func y(_ value: Double) -> Double { top + (1 - (value - yMin) / (yMax - yMin)) * plotHeight }

        // Grid and y ticks.
        let yDecimals = yStep >= 1 ? 0 : Int(ceil(-log10(yStep)))
        var tick = yMin
        while tick <= yMax + yStep * 1e-6 {
            items.append(.path(points: [.init(left, y(tick)), .init(left + plotWidth, y(tick))], color: .lightGray, width: 0.5, dash: []))
            items.append(.text(NumberText.fixed(tick, decimals: yDecimals), at: .init(left - 6, y(tick) + 3.5), size: 10,
                               anchor: .end, color: .black, rotated: false))
            tick += yStep
        }
        // Axes.
        items.append(.path(points: [.init(left, top), .init(left, top + plotHeight), .init(left + plotWidth, top + plotHeight)],
                           color: .black, width: 1, dash: []))
        for bit in xs {
            let px = x(Double(bit))
            items.append(.path(points: [.init(px, top + plotHeight), .init(px, top + plotHeight + 4)], color: .black, width: 1, dash: []))
            items.append(.text(String(bit), at: .init(px, top + plotHeight + 15), size: 10, anchor: .middle, color: .black, rotated: false))
        }
        items.append(.text("bits", at: .init(left + plotWidth / 2, height - 8), size: 11, anchor: .middle, color: .black, rotated: false))
        items.append(.text(yLabel, at: .init(14, top + plotHeight / 2), size: 11, anchor: .middle, color: .black, rotated: true))
        items.append(.text(title, at: .init(left + plotWidth / 2, 18), size: 12, anchor: .middle, color: .black, rotated: false))

        // Baseline, then one line per method.
        var legend: [(String, Drawing.Color, [Double])] = []
        if let baseline {
            items.append(.path(points: [.init(left, y(baseline)), .init(left + plotWidth, y(baseline))], color: .gray, width: 1.5, dash: [5, 3]))
            legend.append((baselineLabel, .gray, [5, 3]))
        }
        for (index, line) in series.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let points = line.points.map { Drawing.Point(x(Double($0.bits)), y($0.value)) }
            if points.count > 1 { items.append(.path(points: points, color: color, width: 1.8, dash: [])) }
            for point in points { items.append(.dot(center: point, radius: 3, color: color)) }
            legend.append((line.name, color, []))
        }
        // Legend to the right of the plot.
        for (index, entry) in legend.enumerated() {
            let ly = top + 8 + Double(index) * 16
            let lx = left + plotWidth + 12
            items.append(.path(points: [.init(lx, ly), .init(lx + 18, ly)], color: entry.1, width: 1.8, dash: entry.2))
            if entry.2.isEmpty { items.append(.dot(center: .init(lx + 9, ly), radius: 3, color: entry.1)) }
            items.append(.text(entry.0, at: .init(lx + 24, ly + 3.5), size: 10, anchor: .start, color: .black, rotated: false))
        }
        return Drawing(width: width, height: height, items: items)
    }

    /// A padded axis range with a 1-2-5 step (about five ticks).
    static func niceRange(_ low: Double, _ high: Double) -> (Double, Double, Double) {
        var low = low, high = high
        if high - low < 1e-9 { low -= 1; high += 1 }
        let raw = (high - low) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        return (floor(low / step) * step, ceil(high / step) * step, step)
    }
}
