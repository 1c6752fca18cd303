import Foundation

/// The files `lcb run` writes to `Reports/<spec>/`, and which of them a repository commits.
///
/// A run writes two kinds of file. Those that depend only on the run's inputs (spec, checkpoints,
/// datasets, lcb's version) are byte-identical on every rerun, so a repository can commit them
/// and `git diff` shows only real changes:
///
/// - `results.json`: every cell's metrics, settings and memory measurements;
/// - `manifest.json`: provenance by content hash (spec files, models, datasets), lcb's version,
///   the machine and thread count; paths relative to the working directory;
/// - `samples.jsonl.gz`: the sample lines without their bulky reproducible fields (prompt,
///   token ids, byte counts), grouped by sample and gzip-compressed: what `lcb diff` pairs and tests.
///
/// The others are written for the machine that ran and are not committed:
///
/// - `samples.jsonl`: every field of every sample (prompt, output, tokens …), uncompressed;
/// - `run.json`: what is particular to this run: when, how long per job kind, tokens per
///   second per cell, cache hits, and the commits of lcb and of the spec's repository.
public enum ReportFiles {
    public static let results = "results.json"
    public static let manifest = "manifest.json"
    public static let samples = "samples.jsonl"
    public static let compactSamples = "samples.jsonl.gz"
    public static let run = "run.json"

    /// The byte-stable files a repository commits (`Reports/<spec>/` holds these and the tables).
    public static let committed = [results, manifest, compactSamples]
    /// Written beside them for local use, ignored by git (`Reports/.gitignore`).
    public static let local = [samples, run]

    /// Every file of a finished run, by name.
    ///
    /// `workingDirectory`: paths in `manifest.json` under it are written relative to it, so two
    /// checkouts of one repository write the same manifest.
    public static func make(spec: String, planHash: String, runID: Int, cells: [CellResult], lines: [SampleLine],
                            manifest: RunManifest, workingDirectory: URL) throws -> [String: Data] {
        let stableCells = cells.map { cell -> CellResult in
            var copy = cell
            copy.tokensPerSecond = nil
            return copy
        }
        let results = ResultsFile(spec: spec, planHash: planHash, cells: stableCells)
        let run = RunFile(manifest: manifest, runID: runID, cells: cells)
        return [
            Self.results: Data((try JSONText.encode(results, pretty: true) + "\n").utf8),
            Self.manifest: Data(try ManifestFile(manifest, workingDirectory: workingDirectory).json().utf8),
            Self.samples: try fullSamples(lines),
            Self.compactSamples: try compactSamples(lines),
            Self.run: Data((try JSONText.encode(run, pretty: true) + "\n").utf8),
        ]
    }

    /// `samples.jsonl`: one key-sorted JSON object per line.
    public static func fullSamples(_ lines: [SampleLine]) throws -> Data {
        Data(try lines.map { try JSONText.encode($0) + "\n" }.joined().utf8)
    }

    /// `samples.jsonl.gz`: the lines as `CompactSampleLine`s, grouped by sample, gzip-compressed.
    ///
    /// Grouping by (dataset, sample id) puts one sample's lines under every configuration next to
    /// each other: they are nearly alike, which deflate's 32 KiB window then sees (measured on
    /// kv-sweep: 217 KB against 374 KB in samples.jsonl's order), and a reader sees how each
    /// configuration answered the same question.
    public static func compactSamples(_ lines: [SampleLine]) throws -> Data {
        let grouped = lines.sorted {
            ($0.dataset, $0.sample, $0.experiment, $0.model, $0.compression) < ($1.dataset, $1.sample, $1.experiment, $1.model, $1.compression)
        }
        return try Gzip.compress(Data(try grouped.map { try JSONText.encode(CompactSampleLine($0)) + "\n" }.joined().utf8))
    }
}

/// A line of `samples.jsonl.gz`: a `samples.jsonl` line without prompt, token ids and byte
/// counts (the spec and checkpoints reproduce them; `results.json` holds the byte means).
/// Every field kept has the same name and meaning as in `samples.jsonl`.
public struct CompactSampleLine: Sendable, Codable, Equatable {
    public var experiment: String
    public var model: String
    public var compression: String
    public var dataset: String
    public var index: Int
    public var sample: String
    public var cell: String
    public var output: String
    public var parsed: String?
    public var probe: String?
    public var components: [String: Double]
    public var error: String?

    public init(_ line: SampleLine) {
        experiment = line.experiment
        model = line.model
        compression = line.compression
        dataset = line.dataset
        index = line.index
        sample = line.sample
        cell = line.cell
        output = line.output
        parsed = line.parsed
        probe = line.probe
        components = line.components
        error = line.error
    }
}

/// `manifest.json`: the provenance that depends only on the run's inputs.
public struct ManifestFile: Sendable, Codable, Equatable {
    public struct Lcb: Sendable, Codable, Equatable {
        public var version: String
    }

    public var spec: String
    public var specFiles: [RunManifest.FileHash]
    public var planHash: String
    public var lcb: Lcb
    public var models: [RunManifest.Model]
    public var datasets: [RunManifest.Dataset]
    public var machine: RunManifest.Machine
    public var threads: Int
    public var deduplicated: Bool
    public var failures: Int

    enum CodingKeys: String, CodingKey {
        case spec, specFiles = "spec_files", planHash = "plan_hash", lcb, models, datasets, machine, threads, deduplicated,
             failures
    }

    public init(_ manifest: RunManifest, workingDirectory: URL) {
        let relative = { (path: String) in ManifestFile.relativePath(path, to: workingDirectory) }
        spec = manifest.spec
        specFiles = manifest.specFiles.map { RunManifest.FileHash(path: relative($0.path), sha256: $0.sha256, bytes: $0.bytes) }
        planHash = manifest.planHash
        lcb = Lcb(version: manifest.lcb.version)
        models = manifest.models.map { model in
            var copy = model
            copy.path = relative(model.path)
            copy.files = model.files.map { RunManifest.FileHash(path: relative($0.path), sha256: $0.sha256, bytes: $0.bytes) }
            return copy
        }
        datasets = manifest.datasets
        machine = manifest.machine
        threads = manifest.threads
        deduplicated = manifest.deduplicated
        failures = manifest.failures
    }

    /// Pretty, key-sorted JSON.
    public func json() throws -> String { try JSONText.encode(self, pretty: true) + "\n" }

    /// `path` relative to `directory` when it lies inside it; otherwise unchanged.
    static func relativePath(_ path: String, to directory: URL) -> String {
        guard path.hasPrefix("/") else { return path }
        let base = directory.standardizedFileURL.path
        let standardized = URL(fileURLWithPath: path).standardizedFileURL.path
        if standardized == base { return "." }
        return standardized.hasPrefix(base + "/") ? String(standardized.dropFirst(base.count + 1)) : path
    }
}

/// `run.json`: what differs between two runs of the same inputs.
public struct RunFile: Sendable, Codable, Equatable {
    /// One cell's speed.
    public struct CellSpeed: Sendable, Codable, Equatable {
        public var key: String
        public var model: String
        public var compression: String
        public var dataset: String
        public var tokensPerSecond: Double?

        enum CodingKeys: String, CodingKey {
            case key, model, compression, dataset, tokensPerSecond = "tokens_per_second"
        }
    }

    public var spec: String
    /// The result store's run id (`lcb report run:N`).
    public var run: Int
    public var lcb: RunManifest.Lcb
    public var specRepository: RunManifest.GitState
    public var startedAt: String
    public var finishedAt: String
    public var wallSeconds: [String: Double]
    public var cacheHits: [String: Int]
    public var computed: [String: Int]
    public var cells: [CellSpeed]

    enum CodingKeys: String, CodingKey {
        case spec, run, lcb, specRepository = "spec_repository", startedAt = "started_at", finishedAt = "finished_at",
             wallSeconds = "wall_seconds", cacheHits = "cache_hits", computed, cells
    }

    public init(manifest: RunManifest, runID: Int, cells: [CellResult]) {
        spec = manifest.spec
        run = runID
        lcb = manifest.lcb
        specRepository = manifest.specRepository
        startedAt = manifest.startedAt
        finishedAt = manifest.finishedAt
        wallSeconds = manifest.wallSeconds
        cacheHits = manifest.cacheHits
        computed = manifest.computed
        self.cells = cells.map {
            CellSpeed(key: $0.key, model: $0.model, compression: $0.compression, dataset: $0.dataset,
                      tokensPerSecond: $0.tokensPerSecond)
        }
    }
}
