import Foundation

/// Reads a result set from the three files a run writes to `Reports/<spec>/`.
///
/// - `results.json`: `{"spec", "run"?, "cells": [{"experiment", "model", "compression", "dataset",
///   "key"?, "kv"?, "weights"?, "metrics": [{"key", "metric"?, "value", "standard_error"?,
///   "error_method"?, "higher_is_better"?, "count"?, "note"?}], "kv_bytes_per_token"?,
///   "weight_bytes"?, "tokens_per_second"?, "failures"?}]}`
/// - `samples.jsonl`: one object per sample and cell: `{"experiment", "model", "compression",
///   "dataset", "sample_id", "parsed"?, "output"?, "components": {name: number}}`
/// - `manifest.json`: the run's provenance manifest (Execution's `RunManifest`).
///
/// Either of the first two may be missing (not both); a cell found only in `samples.jsonl` gets
/// the mean of each component as its metrics. Unknown fields are ignored, so the files can grow.
public struct ReportFolderReader: Sendable {
    /// Where the files come from: a folder on disk, a git revision, a test's dictionary.
    public let files: any ReportFileAccess

    public init(files: any ReportFileAccess) {
        self.files = files
    }

    public static let resultsFile = "results.json"
    public static let samplesFile = "samples.jsonl"
    public static let manifestFile = "manifest.json"

    /// Reads and joins the files.
    public func read() throws -> ResultSet {
        let results = try files.read(Self.resultsFile)
        let samples = try files.read(Self.samplesFile)
        let manifest = try files.read(Self.manifestFile)
        guard results != nil || samples != nil else {
            throw ReportingError.noResults(where: files.location,
                                           expected: "\(Self.resultsFile) or \(Self.samplesFile)")
        }
        var spec = ""
        var runID: String?
        var cells: [ResultCell] = []
        var index: [CellCoordinates: Int] = [:]

        if let results {
            let location = files.describe(Self.resultsFile)
            let root = try JSONObject.parse(results, location: location)
            spec = root.string("spec") ?? ""
            runID = root.string("run")
            for (position, object) in try root.objects("cells", location: location).enumerated() {
                let cell = try Self.cell(object, location: "\(location): cells[\(position)]")
                // A cell shared by several experiments (same key) is listed once with all of them.
                let experiments = object.strings("experiments").flatMap { $0.isEmpty ? nil : $0 } ?? [cell.coordinates.experiment]
                for experiment in experiments {
                    var copy = cell
                    copy.coordinates.experiment = experiment
                    if index[copy.coordinates] != nil {
                        throw ReportingError.malformed(location: "\(location): cells[\(position)]",
                                                       problem: "cell \(copy.coordinates) is listed twice")
                    }
                    index[copy.coordinates] = cells.count
                    cells.append(copy)
                }
            }
        }

        if let samples {
            let location = files.describe(Self.samplesFile)
            // Samples join their cell by content key when both files record it (a cell in several
            // experiments then gets its samples in each), else by name.
            var byKey: [String: [Int]] = [:]
            for (position, cell) in cells.enumerated() { if let key = cell.key { byKey[key, default: []].append(position) } }
            var lineNumber = 0
            for line in samples.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                lineNumber += 1
                if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
                let object = try JSONObject.parse(Data(line), location: "\(location):\(lineNumber)")
                let here = "\(location):\(lineNumber)"
                let coordinates = try Self.coordinates(object, location: here)
                guard let id = object.string("sample_id") ?? object.string("sample") ?? object.string("id") else {
                    throw ReportingError.malformed(location: here, problem: "missing \"sample_id\"")
                }
                var components: [String: Double] = [:]
                if let values = object.object("components") {
                    for key in values.keys { if let number = values.number(key) { components[key] = number } }
                }
                // A sample that was never answered (or failed) has nothing to pair or average.
                if object.string("error") != nil, components.isEmpty { continue }
                let sample = SampleComponents(parsed: object.string("parsed"), components: components,
                                              output: object.string("output"), group: object.string("group") ?? object.string("probe"))
                var positions: [Int] = []
                if let key = object.string("cell"), let shared = byKey[key] {
                    positions = shared
                } else {
                    if index[coordinates] == nil {
                        index[coordinates] = cells.count
                        cells.append(ResultCell(coordinates: coordinates, key: object.string("cell")))
                        if let key = object.string("cell") { byKey[key, default: []].append(cells.count - 1) }
                    }
                    positions = index[coordinates].map { [$0] } ?? []
                }
                for position in positions {
                    if cells[position].samples[id] != nil {
                        throw ReportingError.malformed(location: here,
                                                       problem: "sample '\(id)' of cell \(cells[position].coordinates) appears twice")
                    }
                    cells[position].samples[id] = sample
                }
                if spec.isEmpty, let name = object.string("spec") { spec = name }
            }
            for position in cells.indices where cells[position].metrics.isEmpty {
                cells[position].metrics = Self.componentMeans(cells[position].samples)
            }
        }

        var provenance: RunProvenance?
        if let manifest {
            let object = try JSONObject.parse(manifest, location: files.describe(Self.manifestFile))
            provenance = Self.provenance(object)
            if spec.isEmpty { spec = object.string("spec") ?? "" }
        }
        if provenance == nil, runID != nil { provenance = RunProvenance() }
        if let runID { provenance?.runID = runID }
        return ResultSet(spec: spec, cells: cells, provenance: provenance, origin: files.location)
    }

    static func coordinates(_ object: JSONObject, location: String) throws -> CellCoordinates {
        func field(_ name: String) throws -> String {
            guard let value = object.string(name) else {
                throw ReportingError.malformed(location: location, problem: "missing \"\(name)\"")
            }
            return value
        }
        let experiment = object.string("experiment") ?? object.strings("experiments")?.first ?? ""
        return CellCoordinates(experiment: experiment, model: try field("model"),
                               compression: try field("compression"), dataset: try field("dataset"))
    }

    static func cell(_ object: JSONObject, location: String) throws -> ResultCell {
        var cell = ResultCell(coordinates: try coordinates(object, location: location), key: object.string("key"))
        cell.kv = object.object("kv").flatMap(setting)
        cell.weights = object.object("weights").flatMap(setting)
        cell.settingsKnown = object.has("kv") || object.has("weights")
        // Metrics as a list of objects with "key", or as an object keyed by metric key (sorted then).
        var entries: [(String?, JSONObject, String)] = []
        if let keyed = object.object("metrics") {
            for key in keyed.keys.sorted() {
                if let metric = keyed.object(key) { entries.append((key, metric, "\(location).metrics.\(key)")) }
            }
        } else {
            for (position, metric) in (try object.objects("metrics", location: location)).enumerated() {
                entries.append((nil, metric, "\(location).metrics[\(position)]"))
            }
        }
        for (keyed, metric, here) in entries {
            guard let key = keyed ?? metric.string("key") ?? metric.string("metric"), let value = metric.number("value") else {
                throw ReportingError.malformed(location: here, problem: "a metric needs \"key\" and a numeric \"value\"")
            }
            cell.metrics.append(MetricResult(
                key: key, name: metric.string("metric"), value: value, standardError: metric.number("standard_error"),
                errorMethod: metric.string("error_method"), higherIsBetter: metric.bool("higher_is_better") ?? true,
                count: (metric.number("count") ?? metric.number("n")).map { Int($0) }, note: metric.string("note")))
        }
        if cell.kv == nil, let regime = object.string("regime") { cell.regimeHint = regime }
        let resources = object.object("resources") ?? object
        cell.resources = ResourceUsage(kvBytesPerToken: resources.number("kv_bytes_per_token"),
                                       weightBytes: resources.number("weight_bytes"),
                                       tokensPerSecond: resources.number("tokens_per_second"),
                                       kvBytes: resources.number("kv_bytes_mean") ?? resources.number("kv_bytes"))
        cell.failures = (object.number("failures") ?? object.number("failed")).map { Int($0) } ?? 0
        return cell
    }

    static func setting(_ object: JSONObject) -> QuantizationSetting? {
        guard let method = object.string("method") else { return nil }
        var parameters: [String] = []
        if let dictionary = object.object("parameters") {
            for key in dictionary.keys.sorted() { parameters.append("\(key)=\(dictionary.string(key) ?? "")") }
        } else if let list = object.strings("parameters") {
            parameters = list
        }
        return QuantizationSetting(method: method, bits: object.number("bits").map { Int($0) } ?? 16,
                                   regime: object.string("regime"), parameters: parameters)
    }

    /// Metrics for a cell known only from its samples: the mean of each component (analytic error).
    static func componentMeans(_ samples: [String: SampleComponents]) -> [MetricResult] {
        var byName: [String: [Double]] = [:]
        for id in samples.keys.sorted() {
            for (name, value) in samples[id]?.components ?? [:] { byName[name, default: []].append(value) }
        }
        return byName.keys.sorted().map { name in
            let values = byName[name] ?? []
            let key = name == "correct" ? "accuracy" : name
            return MetricResult(key: key, value: PairedTests.mean(values),
                                standardError: PairedTests.standardErrorOfMean(values), errorMethod: "analytic",
                                count: values.count)
        }
    }

    static func provenance(_ manifest: JSONObject) -> RunProvenance {
        var provenance = RunProvenance()
        provenance.runID = manifest.string("run")
        provenance.planHash = manifest.string("plan_hash")
        if let lcb = manifest.object("lcb") {
            provenance.lcbVersion = lcb.string("version")
            provenance.lcbCommit = lcb.string("commit").map { lcb.bool("dirty") == true ? $0 + " (dirty)" : $0 }
        }
        for model in manifest.objectList("models") {
            if let name = model.string("name") { provenance.modelHashes[name] = model.string("weights") ?? "?" }
        }
        for dataset in manifest.objectList("datasets") {
            if let name = dataset.string("name") { provenance.datasetHashes[name] = dataset.string("content") ?? "?" }
        }
        for file in manifest.objectList("spec_files") {
            if let path = file.string("path") {
                provenance.specFiles[path] = file.string("sha256") ?? "unreadable"
                if provenance.rootSpecFile == nil { provenance.rootSpecFile = path }
            }
        }
        if let machine = manifest.object("machine") {
            var parts: [String] = []
            if let cpu = machine.string("cpu_model") { parts.append(cpu) }
            if let cores = machine.number("cores") { parts.append("\(Int(cores)) cores") }
            if let memory = machine.number("memory_bytes") {
                parts.append(String(format: "%.1f GiB", locale: Locale(identifier: "en_US_POSIX"), memory / 1_073_741_824))
            }
            if let system = machine.string("operating_system") { parts.append(system) }
            provenance.machine = parts.joined(separator: ", ")
        }
        provenance.threads = manifest.number("threads").map { Int($0) }
        provenance.startedAt = manifest.string("started_at")
        provenance.finishedAt = manifest.string("finished_at")
        return provenance
    }
}
