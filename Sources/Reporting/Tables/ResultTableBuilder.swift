import Foundation
import OrderedCollections
import SpecLanguage

/// Lays out a `ResultTable` from a spec's table declaration and a result set. Pure: no I/O.
///
/// - Rows and columns are the products of the declared dimensions; the metric dimension ranges
///   over each dataset's own metrics, so `columns: [dataset, metric]` gives ragged groups.
/// - A dimension that is not placed but has several values is averaged over (mean of the values,
///   standard errors combined as for independent means).
/// - Fractions (accuracy, F1 …) are shown in percent; `weight_bytes` in MiB.
/// - With a baseline, every other row carries value − baseline of the same model, dataset and metric,
///   and the best value per column is chosen among the non-baseline rows.
public struct ResultTableBuilder: Sendable {
    public init() {}

    /// The table `definition` of `spec` over `results`.
    public func build(_ definition: TableDefinition, spec: Spec?, results: ResultSet) throws -> ResultTable {
        let results = spec.map { results.completingSettings(from: $0.quantizationSettings) } ?? results
        let experiments = Set(definition.experiments)
        let datasetOrder = Array(definition.metrics.keys)
        let cells = results.cells.filter { cell in
            (experiments.isEmpty || cell.coordinates.experiment.isEmpty || experiments.contains(cell.coordinates.experiment))
                && (datasetOrder.isEmpty || datasetOrder.contains(cell.coordinates.dataset))
        }
        guard !cells.isEmpty else {
            throw ReportingError.noMatchingCells(
                table: definition.name,
                detail: "experiments \(definition.experiments.joined(separator: ", ")), datasets \(datasetOrder.joined(separator: ", ")); \(results.origin) has \(results.cells.count) cells")
        }

        var models = results.values(of: .model).filter { m in cells.contains { $0.coordinates.model == m } }
        var configurations = results.values(of: .compression).filter { c in cells.contains { $0.coordinates.compression == c } }
        if let spec {
            // The spec's order, not the order the run happened to write.
            let declaredModels = definition.experiments.flatMap { spec.experiments[$0]?.models ?? [] }
            let declaredConfigurations = definition.experiments.flatMap { spec.experiments[$0]?.compression ?? [] }
            models = Self.ordered(models, by: declaredModels)
            configurations = Self.ordered(configurations, by: declaredConfigurations)
        }
        let datasets = datasetOrder.isEmpty ? results.values(of: .dataset).filter { d in cells.contains { $0.coordinates.dataset == d } }
                                            : datasetOrder.filter { d in cells.contains { $0.coordinates.dataset == d } }

        // Each dataset's measures: metric keys present in its cells, in declaration order.
        var measures: [String: [Measure]] = [:]
        for dataset in datasets {
            let here = cells.filter { $0.coordinates.dataset == dataset }
            // An empty list (a table made without a spec) shows every metric recorded.
            let declared = definition.metrics[dataset].flatMap { $0.isEmpty ? nil : $0.map(\.rawValue) }
            measures[dataset] = Self.measures(declared: declared, cells: here)
        }

        let table = Layout(definition: definition, models: models, configurations: configurations, datasets: datasets,
                           measures: measures, cells: cells)
        return table.make()
    }

    /// The default table for a result set without a spec: rows model × compression, columns dataset × metric.
    /// With a spec, datasets follow the order its experiments list them in.
    public func defaultDefinition(for results: ResultSet, spec: Spec? = nil, name: String = "results") -> TableDefinition {
        let models = results.values(of: .model)
        var metrics: OrderedDictionary<String, [Metric]> = [:]
        let declared = spec.map { spec in spec.experiments.values.flatMap(\.datasets) } ?? []
        for dataset in Self.ordered(results.values(of: .dataset), by: declared) {
            var list: [Metric] = []
            for cell in results.cells where cell.coordinates.dataset == dataset {
                for metric in cell.metrics {
                    if let name = metric.name, let known = Metric(rawValue: name), !list.contains(known) { list.append(known) }
                }
            }
            metrics[dataset] = list
        }
        return TableDefinition(name: name, experiments: results.values(of: .experiment).filter { !$0.isEmpty },
                               rows: models.count > 1 ? [.model, .compression] : [.compression],
                               columns: [.dataset, .metric], metrics: metrics,
                               baseline: results.values(of: .compression).first { $0 == "fp16" },
                               formats: [.md, .csv, .tex], decimals: 1, standardErrors: false,
                               caption: results.spec.isEmpty ? nil : "Results of \(results.spec)",
                               label: nil, definedAt: SourceRange.fileStart(""))
    }

    static func ordered(_ values: [String], by declared: [String]) -> [String] {
        let known = declared.filter(values.contains)
        var seen = Set<String>()
        return (known + values).filter { seen.insert($0).inserted }
    }

    /// What a column measures for one dataset: an evaluator key or a run measurement.
    struct Measure: Hashable {
        var key: String
        var heading: String
        var higherIsBetter: Bool
        var isResource: Bool
    }

    static let resourceNames: [String: String] = [
        "kv_bytes_per_token": "KV B/token", "weight_bytes": "weights MiB", "tokens_per_second": "tokens/s",
    ]

    static func measures(declared: [String]?, cells: [ResultCell]) -> [Measure] {
        var keys: [String] = []
        for cell in cells { for metric in cell.metrics where !keys.contains(metric.key) { keys.append(metric.key) } }
        var out: [Measure] = []
        func higher(_ key: String) -> Bool {
            cells.lazy.compactMap { $0.metrics.first { $0.key == key }?.higherIsBetter }.first ?? true
        }
        guard let declared else {
            // No declaration: every plain (unbracketed) key recorded.
            return keys.filter { MetricCatalog.stem($0) == $0 }
                .map { Measure(key: $0, heading: MetricCatalog.heading(forKey: $0), higherIsBetter: higher($0), isResource: false) }
        }
        for name in declared {
            if let heading = resourceNames[name] {
                out.append(Measure(key: name, heading: heading, higherIsBetter: Metric(rawValue: name)?.higherIsBetter ?? true,
                                   isResource: true))
                continue
            }
            // The evaluator keys that stand for the spec name: its own stems first, then bracketed variants.
            let stems = MetricCatalog.keysBySpecName[name] ?? [name]
            var matched = keys.filter { key in stems.contains(key) || key == name }
            if matched.isEmpty {
                // Grouped keys (`spatial/exactMatch`) and variants (`accuracy[adversarial]`): the
                // plain ones when there are any, since variants repeat them by category.
                let related = keys.filter { stems.contains(MetricCatalog.stem($0)) }
                let plain = related.filter { !$0.contains("[") }
                matched = plain.isEmpty ? related : plain
            }
            if matched.isEmpty {
                // Declared but not recorded: keep the column (empty) so the layout stays stable.
                out.append(Measure(key: stems.first ?? name, heading: name, higherIsBetter: Metric(rawValue: name)?.higherIsBetter ?? true,
                                   isResource: false))
            }
            for key in matched {
                out.append(Measure(key: key, heading: MetricCatalog.heading(forKey: key), higherIsBetter: higher(key), isResource: false))
            }
        }
        return out
    }
}

/// The product of the placed dimensions, with averaging over the rest.
private struct Layout {
    let definition: TableDefinition
    let models: [String]
    let configurations: [String]
    let datasets: [String]
    let measures: [String: [ResultTableBuilder.Measure]]
    let cells: [ResultCell]

    /// One number before layout: where it sits on every dimension.
    struct Point {
        var model: String
        var configuration: String
        var dataset: String
        var measure: ResultTableBuilder.Measure
        var value: Double?
        var standardError: Double?

        func label(_ dimension: TableDimension) -> String {
            switch dimension {
            case .model: return model
            case .compression: return configuration
            case .dataset: return dataset
            case .metric: return measure.key
            }
        }
    }

    func make() -> ResultTable {
        var byCoordinates: [String: ResultCell] = [:]
        for cell in cells {
            let id = Self.id(cell.coordinates.model, cell.coordinates.compression, cell.coordinates.dataset)
            // Several experiments may hold the same cell; the first keeps it (same key → same numbers).
            if byCoordinates[id] == nil { byCoordinates[id] = cell }
        }
        var metricOrder: [String] = []
        var headings: [String: String] = [:]
        for dataset in datasets {
            for measure in measures[dataset] ?? [] where !metricOrder.contains(measure.key) {
                metricOrder.append(measure.key)
                headings[measure.key] = measure.heading
            }
        }

        var points: [Point] = []
        for model in models {
            for configuration in configurations {
                for dataset in datasets {
                    let cell = byCoordinates[Self.id(model, configuration, dataset)]
                    for measure in measures[dataset] ?? [] {
                        var point = Point(model: model, configuration: configuration, dataset: dataset, measure: measure)
                        if let cell { (point.value, point.standardError) = Self.value(of: measure, in: cell) }
                        points.append(point)
                    }
                }
            }
        }
        let orders: [TableDimension: [String]] = [.model: models, .compression: configurations, .dataset: datasets,
                                                  .metric: metricOrder]
        func sortKey(_ labels: [String], _ dimensions: [TableDimension]) -> [Int] {
            zip(labels, dimensions).map { orders[$1]?.firstIndex(of: $0) ?? Int.max }
        }
        func display(_ label: String, _ dimension: TableDimension) -> String {
            dimension == .metric ? (headings[label] ?? label) : label
        }

        let rowDimensions = definition.rows, columnDimensions = definition.columns
        var rowKeys: [[String]] = [], columnKeys: [[String]] = []
        var seenRows = Set<[String]>(), seenColumns = Set<[String]>()
        var grouped: [[String]: [[String]: [Point]]] = [:]
        for point in points {
            let row = rowDimensions.map(point.label), column = columnDimensions.map(point.label)
            if seenRows.insert(row).inserted { rowKeys.append(row) }
            if seenColumns.insert(column).inserted { columnKeys.append(column) }
            grouped[row, default: [:]][column, default: []].append(point)
        }
        rowKeys.sort { sortKey($0, rowDimensions).lexicographicallyPrecedes(sortKey($1, rowDimensions)) }
        columnKeys.sort { sortKey($0, columnDimensions).lexicographicallyPrecedes(sortKey($1, columnDimensions)) }

        let baseline = definition.baseline
        let pointIndex = Dictionary(points.map { (Self.id($0.model, $0.configuration, $0.dataset) + "\u{1F}" + $0.measure.key, $0) },
                                    uniquingKeysWith: { first, _ in first })
        func baselineValue(of point: Point) -> Double? {
            guard let baseline else { return nil }
            return pointIndex[Self.id(point.model, baseline, point.dataset) + "\u{1F}" + point.measure.key]?.value
        }

        var columns: [ResultTable.Column] = []
        for key in columnKeys {
            let sample = rowKeys.lazy.compactMap { grouped[$0]?[key]?.first }.first
            columns.append(ResultTable.Column(path: zip(key, columnDimensions).map(display),
                                              higherIsBetter: sample?.measure.higherIsBetter ?? true))
        }
        var rows: [ResultTable.Row] = []
        for key in rowKeys {
            let isBaseline = baseline != nil && rowDimensions.firstIndex(of: .compression).map { key[$0] == baseline } == true
            var entries: [ResultTable.Entry?] = []
            for columnKey in columnKeys {
                let group = grouped[key]?[columnKey] ?? []
                let values = group.compactMap(\.value)
                guard !values.isEmpty, values.count == group.count else { entries.append(nil); continue }
                let mean = values.reduce(0, +) / Double(values.count)
                let errors = group.compactMap(\.standardError)
                // Independent means: SE of their average is √(Σ SE²) / k.
                let error = errors.count == group.count
                    ? errors.reduce(0) { $0 + $1 * $1 }.squareRoot() / Double(errors.count) : nil
                var delta: Double?
                let isBaselinePoint = group.allSatisfy { $0.configuration == baseline }
                if baseline != nil, !isBaselinePoint {
                    let references = group.compactMap(baselineValue)
                    if references.count == group.count {
                        delta = mean - references.reduce(0, +) / Double(references.count)
                    }
                }
                entries.append(ResultTable.Entry(value: mean, standardError: error, delta: delta))
            }
            rows.append(ResultTable.Row(labels: zip(key, rowDimensions).map(display), isBaseline: isBaseline, entries: entries))
        }
        markBest(&rows, columns: columns, decimals: definition.decimals)

        return ResultTable(name: definition.name, caption: definition.caption, label: definition.label,
                           decimals: definition.decimals, showStandardErrors: definition.standardErrors,
                           baseline: baseline, rowHeadings: rowDimensions.map(\.rawValue), columns: columns, rows: rows,
                           notes: notes())
    }

    /// Bold the best value per column; values equal at the shown precision tie.
    func markBest(_ rows: inout [ResultTable.Row], columns: [ResultTable.Column], decimals: Int) {
        for (index, column) in columns.enumerated() {
            let candidates = rows.indices.filter { !rows[$0].isBaseline && rows[$0].entries[index] != nil }
            guard candidates.count > 1 else { continue }
            let shown = candidates.map { Double(NumberText.fixed(rows[$0].entries[index]?.value ?? 0, decimals: decimals)) ?? 0 }
            guard let best = column.higherIsBetter ? shown.max() : shown.min() else { continue }
            for (row, value) in zip(candidates, shown) where value == best { rows[row].entries[index]?.isBest = true }
        }
    }

    func notes() -> [String] {
        var out: [String] = []
        let keys = Set(measures.values.flatMap { $0.map(\.key) })
        if keys.contains(where: { MetricCatalog.displayScale(forKey: $0) == 100 }) {
            out.append("Accuracy-type metrics in percent.")
        }
        var byRegime: [(String, [String])] = []
        for configuration in configurations {
            guard let regime = cells.first(where: { $0.coordinates.compression == configuration })?.kv?.regime else { continue }
            if let index = byRegime.firstIndex(where: { $0.0 == regime }) { byRegime[index].1.append(configuration) } else {
                byRegime.append((regime, [configuration]))
            }
        }
        if !byRegime.isEmpty {
            out.append("KV regime: " + byRegime.map { "\($0.0) (\($0.1.joined(separator: ", ")))" }.joined(separator: "; ") + ".")
        }
        if let baseline = definition.baseline { out.append("Deltas against \(baseline); best value per column in bold, \(baseline) excluded.") }
        var metricNotes: [String] = []
        for cell in cells { for metric in cell.metrics { if let note = metric.note, !metricNotes.contains("\(metric.key): \(note)") { metricNotes.append("\(metric.key): \(note)") } } }
        out += metricNotes.filter { note in keys.contains { note.hasPrefix($0 + ":") } }
        return out
    }

    static func id(_ model: String, _ configuration: String, _ dataset: String) -> String {
        model + "\u{1F}" + configuration + "\u{1F}" + dataset
    }

    /// A measure's display value and standard error in one cell.
    static func value(of measure: ResultTableBuilder.Measure, in cell: ResultCell) -> (Double?, Double?) {
        if measure.isResource {
            guard let raw = cell.resources.value(measure.key) else { return (nil, nil) }
            return (measure.key == "weight_bytes" ? raw / 1_048_576 : raw, nil)
        }
        guard let metric = cell.metrics.first(where: { $0.key == measure.key }) else { return (nil, nil) }
        let scale = MetricCatalog.displayScale(forKey: metric.key)
        return (metric.value * scale, metric.standardError.map { $0 * scale })
    }
}
