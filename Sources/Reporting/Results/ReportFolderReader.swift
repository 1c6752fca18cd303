import Foundation
import Execution

/// Reads a result set from the files a run writes to `Reports/<spec>/`.
///
/// - `results.json`: `{"spec", "run"?, "cells": [{"experiment", "model", "compression", "dataset",
///   "key"?, "kv"?, "weights"?, "metrics": [{"key", "metric"?, "value", "standard_error"?,
///   "error_method"?, "higher_is_better"?, "count"?, "note"?}], "kv_bytes_per_token"?,
///   "weight_bytes"?, "tokens_per_second"?, "failures"?}]}`
/// - `samples.jsonl`, or its committed form `samples.jsonl.gz` (the same lines with fewer
///   fields, gzip-compressed): one object per sample and cell: `{"experiment", "model",
///   "compression", "dataset", "sample_id", "parsed"?, "output"?, "components": {name: number}}`
/// - `manifest.json`: the run's provenance manifest (Execution's `ManifestFile`, or an older
///   lcb's whole `RunManifest`).
/// - `run.json` (optional, not committed): the run's id, times, commits and tokens per second
///   per cell (Execution's `RunFile`).
///
/// Either of results and samples may be missing (not both); a cell found only in the samples
/// gets the mean of each component as its metrics. Unknown fields are ignored, so the files can grow.
public struct ReportFolderReader: Sendable {
    /// Where the files come from: a folder on disk, a git revision, a test's dictionary.
    public let files: any ReportFileAccess

    public init(files: any ReportFileAccess) {
        self.files = files
    }

    public static let resultsFile = "results.json"
    public static let samplesFile = "samples.jsonl"
    public static let compactSamplesFile = "samples.jsonl.gz"
    public static let manifestFile = "manifest.json"
    public static let runFile = "run.json"

    /// The sample lines and the file they came from: `samples.jsonl` when present (every field),
    /// else the committed `samples.jsonl.gz`, decompressed.
    func sampleLines() throws -> (data: Data, name: String)? {
        if let plain = try files.read(Self.samplesFile) { return (plain, Self.samplesFile) }
        guard let compressed = try files.read(Self.compactSamplesFile) else { return nil }
        do {
            return (try Gzip.decompress(compressed), Self.compactSamplesFile)
        } catch {
            throw ReportingError.unreadable(path: files.describe(Self.compactSamplesFile),
                                            reason: "\(error); restore it with git checkout or rerun the spec")
        }
    }

    /// Reads and joins the files.
    public func read() throws -> ResultSet {
        let results = try files.read(Self.resultsFile)
        let samplesFound = try sampleLines()
        let samples = samplesFound?.data
        let manifest = try files.read(Self.manifestFile)
        let run = try files.read(Self.runFile)
        guard results != nil || samples != nil else {
            throw ReportingError.noResults(where: files.location,
                                           expected: "\(Self.resultsFile), \(Self.samplesFile) or \(Self.compactSamplesFile)")
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
            let location = files.describe(samplesFound?.name ?? Self.samplesFile)
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
        if let run {
            let object = try JSONObject.parse(run, location: files.describe(Self.runFile))
            Self.applyRun(object, to: &cells)
            var recorded = provenance ?? RunProvenance()
            Self.applyRun(object, to: &recorded)
            provenance = recorded
            if runID == nil { runID = object.string("run") }
            if spec.isEmpty { spec = object.string("spec") ?? "" }
        }
        if provenance == nil, runID != nil { provenance = RunProvenance() }
        if let runID { provenance?.runID = runID }
        return ResultSet(spec: spec, cells: cells, provenance: provenance, origin: files.location)
    }

    /// Tokens per second from `run.json`, joined by cell key (else by model, compression and
    /// dataset); a value `results.json` already holds (older runs) is kept.
    static func applyRun(_ run: JSONObject, to cells: inout [ResultCell]) {
        for speed in run.objectList("cells") {
            guard let value = speed.number("tokens_per_second") else { continue }
            for position in cells.indices where cells[position].resources.tokensPerSecond == nil {
                let cell = cells[position]
                let matches: Bool
                if let key = speed.string("key"), let own = cell.key {
                    matches = key == own
                } else {
                    matches = speed.string("model") == cell.coordinates.model
                        && speed.string("compression") == cell.coordinates.compression
                        && speed.string("dataset") == cell.coordinates.dataset
                }
                if matches { cells[position].resources.tokensPerSecond = value }
            }
        }
    }

    /// The run's own facts from `run.json`: times, the commits of lcb and of the spec's repository.
    static func applyRun(_ run: JSONObject, to provenance: inout RunProvenance) {
        provenance.timingRecorded = true
        if let lcb = run.object("lcb") {
            if let commit = lcb.string("commit") { provenance.lcbCommit = lcb.bool("dirty") == true ? commit + " (dirty)" : commit }
        }
        if let repository = run.object("spec_repository"), let commit = repository.string("commit") {
            provenance.specCommit = repository.bool("dirty") == true ? commit + " (dirty)" : commit
        }
        provenance.startedAt = run.string("started_at") ?? provenance.startedAt
        provenance.finishedAt = run.string("finished_at") ?? provenance.finishedAt
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
        // An older lcb wrote the run's own facts into the manifest (now in run.json).
        provenance.startedAt = manifest.string("started_at")
        provenance.finishedAt = manifest.string("finished_at")
        if provenance.startedAt != nil { provenance.timingRecorded = true }
        if let repository = manifest.object("spec_repository"), let commit = repository.string("commit") {
            provenance.specCommit = repository.bool("dirty") == true ? commit + " (dirty)" : commit
        }
        return provenance
    }
}
