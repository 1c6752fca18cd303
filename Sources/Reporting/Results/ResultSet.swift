import Foundation

/// Every scored cell of one run (or one committed report), independent of where it was stored.
///
/// Read from a report folder (`Reports/<spec>/samples.jsonl`, `results.json`, `manifest.json`),
/// from a git revision of such a folder, or from the result store (through `ResultSetSource`).
/// Tables, plots and diffs work from this value only.
public struct ResultSet: Sendable, Hashable {
    /// The spec's name.
    public var spec: String
    /// Cells in a stable order (experiment, model, compression, dataset as first seen).
    public var cells: [ResultCell]
    /// Where the numbers came from; nil when the source had no manifest.
    public var provenance: RunProvenance?
    /// What the result set was read from, for messages (`Reports/quickstart`, `HEAD~1:Reports/quickstart`).
    public var origin: String

    public init(spec: String, cells: [ResultCell], provenance: RunProvenance? = nil, origin: String = "") {
        self.spec = spec
        self.cells = cells
        self.provenance = provenance
        self.origin = origin
    }

    /// The cell with `key`, if present.
    public func cell(_ key: CellCoordinates) -> ResultCell? {
        cells.first { $0.coordinates == key }
    }

    /// Fills in each cell's KV and weight settings from the spec's configurations, for sources
    /// that record only the configuration's name.
    public func completingSettings(from configurations: [String: QuantizationSettings]) -> ResultSet {
        var copy = self
        for index in copy.cells.indices where !copy.cells[index].settingsKnown {
            guard let settings = configurations[copy.cells[index].coordinates.compression] else { continue }
            copy.cells[index].kv = settings.kv
            copy.cells[index].weights = settings.weights
            copy.cells[index].settingsKnown = true
        }
        return copy
    }

    /// Names in first-seen order along one dimension.
    public func values(of dimension: ResultDimension) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for cell in cells {
            let value = cell.coordinates[dimension]
            if seen.insert(value).inserted { out.append(value) }
        }
        return out
    }
}

/// What a table or a diff can range over.
public enum ResultDimension: String, Sendable, Hashable, CaseIterable {
    case experiment, model, compression, dataset
}

/// The names that place a cell: experiment × model × compression configuration × dataset.
///
/// Diffs align cells by these names (not by content key: a changed setting keeps its name, and the
/// diff shows the setting change beside the changed numbers).
public struct CellCoordinates: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var experiment: String
    public var model: String
    public var compression: String
    public var dataset: String

    public init(experiment: String, model: String, compression: String, dataset: String) {
        self.experiment = experiment
        self.model = model
        self.compression = compression
        self.dataset = dataset
    }

    public subscript(dimension: ResultDimension) -> String {
        switch dimension {
        case .experiment: return experiment
        case .model: return model
        case .compression: return compression
        case .dataset: return dataset
        }
    }

    public var description: String { "\(experiment)/\(model)/\(compression)/\(dataset)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.experiment, a.model, a.compression, a.dataset) < (b.experiment, b.model, b.compression, b.dataset)
    }
}

/// One cell's results: its settings, its metrics, the run's measurements and every sample's components.
public struct ResultCell: Sendable, Hashable {
    public var coordinates: CellCoordinates
    /// The cell's content key, when the source recorded it.
    public var key: String?
    /// Weight quantization as run; nil = weights as stored.
    public var weights: QuantizationSetting?
    /// KV-cache quantization as run (with its regime); nil = f16 KV cache.
    public var kv: QuantizationSetting?
    /// Aggregates, in the order the source listed them.
    public var metrics: [MetricResult]
    /// KV bytes per token, weight bytes, tokens/s.
    public var resources: ResourceUsage
    /// Per-sample components keyed by sample id, for paired tests.
    public var samples: [String: SampleComponents]
    /// Samples that failed in the run (not scored).
    public var failures: Int
    /// The KV regime the source recorded when it did not record the KV setting itself (filled in
    /// from the spec by `ResultSet.completingSettings(from:)`).
    public var regimeHint: String?
    /// True when `kv` and `weights` were recorded (nil then means "not quantized"), false when
    /// the source did not say.
    public var settingsKnown: Bool = true

    public init(coordinates: CellCoordinates, key: String? = nil, weights: QuantizationSetting? = nil,
                kv: QuantizationSetting? = nil, metrics: [MetricResult] = [], resources: ResourceUsage = ResourceUsage(),
                samples: [String: SampleComponents] = [:], failures: Int = 0) {
        self.coordinates = coordinates
        self.key = key
        self.weights = weights
        self.kv = kv
        self.metrics = metrics
        self.resources = resources
        self.samples = samples
        self.failures = failures
    }

    /// The metric named `name`: a spec name (`exact_match`) or an evaluator key (`exactMatch`, `CIDEr-D`).
    public func metric(_ name: String) -> MetricResult? {
        if let exact = metrics.first(where: { $0.key == name || $0.name == name }) { return exact }
        return metrics.first { MetricCatalog.specName(forKey: $0.key) == name }
    }

    /// Bits that describe the cell's compression for plots: KV bits, else weight bits, else 16.
    ///
    /// Without recorded settings, the `bits=N` part of an expanded name (`kivi/bits=2`) is used.
    public var bits: Int {
        if let bits = kv?.bits ?? weights?.bits { return bits }
        guard !settingsKnown else { return 16 }
        for part in coordinates.compression.split(separator: "/") {
            if let equals = part.firstIndex(of: "="), part[..<equals].hasSuffix("bits"), let bits = Int(part[part.index(after: equals)...]) {
                return bits
            }
        }
        return 16
    }

    /// The method for plots: `kivi`, `w-rtn`, `kivi+w-rtn`; `fp16` for the baseline. Without
    /// recorded settings, the configuration's definition name (`kivi` of `kivi/bits=2`).
    public var methodLabel: String {
        switch (kv, weights) {
        case (nil, nil):
            if settingsKnown || coordinates.compression == "fp16" { return "fp16" }
            return String(coordinates.compression.split(separator: "/").first ?? "")
        case (let kv?, nil): return kv.method
        case (nil, let weights?): return "w-" + weights.method
        case (let kv?, let weights?): return kv.method + "+w-" + weights.method
        }
    }

    /// True for the uncompressed baseline.
    public var isBaseline: Bool { kv == nil && weights == nil && (settingsKnown || coordinates.compression == "fp16") }
}

/// A configuration's KV and weight settings (nil = not quantized).
public struct QuantizationSettings: Sendable, Hashable {
    public var kv: QuantizationSetting?
    public var weights: QuantizationSetting?

    public init(kv: QuantizationSetting?, weights: QuantizationSetting?) {
        self.kv = kv
        self.weights = weights
    }
}

/// A quantization setting as recorded with a result: method, bits, regime (KV only) and the
/// other effective parameters as sorted `key=value` text.
public struct QuantizationSetting: Sendable, Hashable, CustomStringConvertible {
    public var method: String
    public var bits: Int
    /// `store`, `prefix` or `attention` for KV settings; nil for weights.
    public var regime: String?
    /// Everything else, `group_size=32`-style, sorted.
    public var parameters: [String]

    public init(method: String, bits: Int, regime: String? = nil, parameters: [String] = []) {
        self.method = method
        self.bits = bits
        self.regime = regime
        self.parameters = parameters.sorted()
    }

    public var description: String {
        ([method, "\(bits)-bit"] + (regime.map { ["regime=\($0)"] } ?? []) + parameters).joined(separator: " ")
    }
}

/// One aggregate metric of a cell.
public struct MetricResult: Sendable, Hashable {
    /// The evaluator's key (`exactMatch`, `CIDEr-D`, `accuracy[adversarial]`).
    public var key: String
    /// The spec's name for it (`exact_match`, `cider`), when it has one.
    public var name: String?
    public var value: Double
    public var standardError: Double?
    /// `analytic`, `bootstrap(1000, seed 1818453537)`, or nil when not recorded.
    public var errorMethod: String?
    public var higherIsBetter: Bool
    /// Units averaged over.
    public var count: Int?
    public var note: String?

    public init(key: String, name: String? = nil, value: Double, standardError: Double? = nil, errorMethod: String? = nil,
                higherIsBetter: Bool = true, count: Int? = nil, note: String? = nil) {
        self.key = key
        self.name = name ?? MetricCatalog.specName(forKey: key)
        self.value = value
        self.standardError = standardError
        self.errorMethod = errorMethod
        self.higherIsBetter = higherIsBetter
        self.count = count
        self.note = note
    }
}

/// Memory and speed measured by the run for one cell.
public struct ResourceUsage: Sendable, Hashable {
    /// Bytes of KV cache per token (packed, as stored).
    public var kvBytesPerToken: Double?
    /// Bytes of the language model's weights as run.
    public var weightBytes: Double?
    /// Generated tokens per second.
    public var tokensPerSecond: Double?
    /// Bytes of KV cache at the end of generation, mean over samples.
    public var kvBytes: Double?

    public init(kvBytesPerToken: Double? = nil, weightBytes: Double? = nil, tokensPerSecond: Double? = nil,
                kvBytes: Double? = nil) {
        self.kvBytesPerToken = kvBytesPerToken
        self.weightBytes = weightBytes
        self.tokensPerSecond = tokensPerSecond
        self.kvBytes = kvBytes
    }

    /// The measurement a spec names (`kv_bytes_per_token`, `weight_bytes`, `tokens_per_second`).
    public func value(_ name: String) -> Double? {
        switch name {
        case "kv_bytes_per_token": return kvBytesPerToken
        case "weight_bytes": return weightBytes
        case "tokens_per_second": return tokensPerSecond
        default: return nil
        }
    }
}

/// What one sample contributed to a cell: its parsed answer and named components (`correct`, `CIDEr-D` …).
public struct SampleComponents: Sendable, Hashable {
    public var parsed: String?
    public var components: [String: Double]
    /// The generated text, when the source kept it (diffs can show changed answers).
    public var output: String?
    /// The sub-benchmark the sample belongs to (a synthetic probe such as `spatial`), when recorded.
    public var group: String?

    public init(parsed: String? = nil, components: [String: Double], output: String? = nil, group: String? = nil) {
        self.parsed = parsed
        self.components = components
        self.output = output
        self.group = group
    }
}

/// Where a result set came from: enough to tell two runs apart in a diff.
public struct RunProvenance: Sendable, Hashable {
    public var runID: String?
    public var planHash: String?
    public var lcbVersion: String?
    public var lcbCommit: String?
    /// Model name → weights identity.
    public var modelHashes: [String: String]
    /// Dataset name → content hash.
    public var datasetHashes: [String: String]
    /// Spec file path → SHA-256.
    public var specFiles: [String: String]
    /// The spec file the run was started with (the first the manifest lists).
    public var rootSpecFile: String?
    /// CPU model, cores, memory, operating system, as one line.
    public var machine: String?
    public var threads: Int?
    public var startedAt: String?
    public var finishedAt: String?
    /// The commit of the repository holding the spec when it ran (`run.json`).
    public var specCommit: String?
    /// True when the source recorded the run's own facts (times, commits, tokens per second):
    /// a run's folder or the store do, a committed report (no `run.json`) does not.
    public var timingRecorded = false

    /// Facts particular to one run: compared only when both sides recorded them, since a
    /// committed report leaves them out.
    public static let perRunFacts: Set<String> = ["lcb commit", "spec commit"]

    public init(runID: String? = nil, planHash: String? = nil, lcbVersion: String? = nil, lcbCommit: String? = nil,
                modelHashes: [String: String] = [:], datasetHashes: [String: String] = [:],
                specFiles: [String: String] = [:], machine: String? = nil, threads: Int? = nil,
                startedAt: String? = nil, finishedAt: String? = nil) {
        self.runID = runID
        self.planHash = planHash
        self.lcbVersion = lcbVersion
        self.lcbCommit = lcbCommit
        self.modelHashes = modelHashes
        self.datasetHashes = datasetHashes
        self.specFiles = specFiles
        self.machine = machine
        self.threads = threads
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// Every fact as (name, value) pairs in a fixed order, for side-by-side comparison.
    public var facts: [(name: String, value: String)] {
        var out: [(String, String)] = []
        func add(_ name: String, _ value: String?) { if let value { out.append((name, value)) } }
        add("run", runID)
        add("plan hash", planHash)
        add("lcb version", lcbVersion)
        add("lcb commit", lcbCommit)
        add("spec commit", specCommit)
        add("machine", machine)
        add("threads", threads.map(String.init))
        for (name, hash) in modelHashes.sorted(by: { $0.key < $1.key }) { add("model \(name)", hash) }
        for (name, hash) in datasetHashes.sorted(by: { $0.key < $1.key }) { add("dataset \(name)", hash) }
        // Spec files by their path relative to the root spec's folder, so two clones of one
        // repository compare file by file.
        let base = rootSpecFile.map { ($0 as NSString).deletingLastPathComponent } ?? ""
        for (path, hash) in specFiles.sorted(by: { $0.key < $1.key }) {
            let shown = !base.isEmpty && path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
            add("spec file \(shown)", hash)
        }
        return out
    }
}
