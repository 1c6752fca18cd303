import Crypto
import Foundation
import Planning
import SpecLanguage

/// How `lcb run` runs a spec.
public struct RunOptions: Sendable {
    /// At most this many samples per cell (on top of the spec's limits).
    public var limit: Int?
    /// Threads the engine's kernels use (recorded in the manifest).
    public var threads: Int
    /// False runs the naive plan: no shared prefills, no shared or cached vision features.
    public var deduplicate: Bool
    /// Reports go to `<reportsRoot>/<spec name>/`.
    public var reportsRoot: URL
    /// lcb's version, for the manifest.
    public var version: String

    public init(limit: Int? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount, deduplicate: Bool = true,
                reportsRoot: URL = URL(fileURLWithPath: "Reports"), version: String = "unknown") {
        self.limit = limit
        self.threads = threads
        self.deduplicate = deduplicate
        self.reportsRoot = reportsRoot
        self.version = version
    }
}

/// What a run did.
public struct RunOutcome: Sendable {
    public var plan: Plan
    public var statistics: SchedulerStatistics
    public var cells: [CellResult]
    public var manifest: RunManifest
    /// Datasets that could not be loaded (their cells have no samples).
    public var datasetErrors: [String]
    public var reportFolder: URL
    public var runID: Int

    /// True when every sample of every cell has an answer and a score, and every dataset loaded.
    public var succeeded: Bool {
        statistics.failures.isEmpty && datasetErrors.isEmpty && cells.allSatisfy { $0.failed == 0 && $0.scoringError == nil }
    }
}

/// Runs one checked spec end to end: load samples, plan, schedule, score, write reports.
public struct Runner {
    public var spec: Spec
    public var specPath: String
    public var home: LCBHome
    public var options: RunOptions
    public var backend: any InferenceBackend

    public init(spec: Spec, specPath: String, home: LCBHome, options: RunOptions, backend: any InferenceBackend) {
        self.spec = spec
        self.specPath = specPath
        self.home = home
        self.options = options
        self.backend = backend
    }

    /// The spec's cells with `--limit` applied.
    public var cells: [Cell] {
        spec.cells(specFile: specPath).map { cell in
            var cell = cell
            if let limit = options.limit { cell.sampleLimit = min(cell.sampleLimit ?? limit, limit) }
            return cell
        }
    }

    /// Loads every dataset the cells use, and the calibration datasets of AWQ/GPTQ configurations
    /// (rendering synthetic suites once).
    public func loadSamples() -> RunSamples {
        var descriptors: [DatasetDescriptor] = []
        for cell in cells where !descriptors.contains(cell.dataset) { descriptors.append(cell.dataset) }
        for descriptor in calibrationDatasets.values where !descriptors.contains(descriptor) { descriptors.append(descriptor) }
        return RunSamples(descriptors: descriptors, syntheticRoot: home.syntheticData)
    }

    /// The calibration dataset of every AWQ/GPTQ configuration, by the dataset's spec name.
    var calibrationDatasets: [String: DatasetDescriptor] {
        var result: [String: DatasetDescriptor] = [:]
        for cell in cells {
            guard let name = cell.weights.flatMap(Self.calibrationName), let definition = spec.datasets[name] else { continue }
            result[name] = DatasetDescriptor(definition)
        }
        return result
    }

    static func calibrationName(_ weights: WeightQuantization) -> String? {
        switch weights.method {
        case .awq(let parameters): return parameters.calibration
        case .gptq(let parameters): return parameters.calibration
        case .rtn, .outlier: return nil
        }
    }

    static func calibrationCount(_ weights: WeightQuantization) -> Int {
        switch weights.method {
        case .awq(let parameters): return parameters.calibrationSamples
        case .gptq(let parameters): return parameters.calibrationSamples
        case .rtn, .outlier: return 0
        }
    }

    /// The first `calibration_samples` samples of a configuration's calibration dataset.
    func calibration(for weights: WeightQuantization, samples: RunSamples) -> [CalibrationSample] {
        guard let name = Self.calibrationName(weights), let descriptor = calibrationDatasets[name] else { return [] }
        return samples.dataset(descriptor).samples.prefix(Self.calibrationCount(weights)).map {
            CalibrationSample(userText: descriptor.userText(for: $0.descriptor), image: $0.imageProblem == nil ? $0.imageURL : nil)
        }
    }

    /// The plan over the real samples.
    public func plan(samples: RunSamples) throws -> Plan {
        let digests = FileDigestCache(file: home.fileDigests)
        let planner = Planner(inspector: CheckpointFolderInspector(digests: digests), samples: samples,
                              deduplicate: options.deduplicate)
        let plan = try planner.plan(cells)
        digests.save()
        return plan
    }

    /// Runs everything not yet in the store and writes `Reports/<spec>/`.
    public func run(progress: @escaping (ExperimentProgress) -> Void = { _ in },
                    warn: @escaping (String) -> Void = { _ in }) throws -> RunOutcome {
        let started = Date()
        let samples = loadSamples()
        let plan = try plan(samples: samples)
        let store = try ResultStore(url: home.store)
        let runID = try store.beginRun(specName: spec.name, planHash: plan.hash.hex, startedAt: started)

        var scheduler = Scheduler(plan: plan, samples: samples, store: store,
                                  featureCache: options.deduplicate ? home.cache : nil, backend: backend, runID: runID)
        scheduler.progress = progress
        scheduler.warn = warn
        scheduler.calibration = { calibration(for: $0, samples: samples) }
        var statistics = try scheduler.run()

        let scoringStart = Date()
        let keys = plan.cells.flatMap { $0.decodeJobs.map { plan.jobs[$0].key.hex } }
        let records = try store.records(keys: keys)
        let scored = CellScoring(plan: plan, samples: samples).score(records: records)
        statistics.wallSeconds["scoring"] = Date().timeIntervalSince(scoringStart)
        for cell in scored.cells {
            try store.recordCell(StoredCellResult(cellKey: cell.key, descriptionJSON: try JSONText.encode(cell),
                                                  metricsJSON: try JSONText.encode(cell.metrics)), runID: runID)
        }
        let datasetErrors = samples.errors.map(\.message)
        let finished = Date()
        let manifest = makeManifest(plan: plan, samples: samples, statistics: statistics, started: started, finished: finished)
        let manifestJSON = try manifest.json()

        let folder = options.reportsRoot.appendingPathComponent(spec.name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let reportFiles = try ReportFiles.make(
            spec: spec.name, planHash: plan.hash.hex, runID: Int(runID), cells: scored.cells, lines: scored.lines,
            manifest: manifest, workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        for (name, content) in reportFiles.sorted(by: { $0.key < $1.key }) {
            try content.write(to: folder.appendingPathComponent(name), options: .atomic)
        }
        // The same bytes in the store: `lcb report run:N` renders this run later, whatever
        // has been written to the report folder since. (The compressed samples would only
        // repeat samples.jsonl there.)
        try store.recordReportFiles(reportFiles.filter { $0.key != ReportFiles.compactSamples }, runID: runID)

        let outcome = RunOutcome(plan: plan, statistics: statistics, cells: scored.cells, manifest: manifest,
                                 datasetErrors: datasetErrors, reportFolder: folder, runID: runID)
        try store.finishRun(runID, status: outcome.succeeded ? "ok" : "failed",
                            computed: statistics.computed[JobKind.decode.rawValue] ?? 0, manifestJSON: manifestJSON,
                            finishedAt: finished)
        return outcome
    }

    func makeManifest(plan: Plan, samples: RunSamples, statistics: SchedulerStatistics, started: Date, finished: Date) -> RunManifest {
        let specDirectory = URL(fileURLWithPath: specPath).deletingLastPathComponent()
        // The planner's digest cache already hashed the checkpoint files; reuse it rather than reading GBs again.
        let digests = FileDigestCache(file: home.fileDigests)
        let models = plan.models.map { model -> RunManifest.Model in
            let folder = URL(fileURLWithPath: model.descriptor.path)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
                .filter { $0.hasSuffix(".safetensors") || $0.hasSuffix(".json") }.sorted()
            return RunManifest.Model(
                name: model.descriptor.name, path: model.descriptor.path,
                weights: model.inspection.identity.weights.hex, tokenizer: model.inspection.identity.tokenizer.hex,
                files: names.map { name in
                    let path = folder.appendingPathComponent(name).path
                    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
                    return RunManifest.FileHash(path: path, sha256: digests.digest(ofFileAt: path)?.hex, bytes: size)
                })
        }
        digests.save()
        let datasets = plan.datasets.map { dataset -> RunManifest.Dataset in
            var hasher = SHA256()
            for sample in dataset.samples.samples {
                let line = [sample.id, sample.image?.hex ?? "-", sample.question] + sample.references
                hasher.update(data: Array((line.joined(separator: "\u{1F}") + "\u{1E}").utf8))
            }
            return RunManifest.Dataset(name: dataset.descriptor.name, content: hex(Array(hasher.finalize())),
                                       samples: dataset.samples.samples.count)
        }
        return RunManifest(
            spec: spec.name, specFiles: spec.files.map { Provenance.fileHash($0) }, planHash: plan.hash.hex,
            specRepository: Provenance.gitState(of: specDirectory), lcb: Provenance.lcbState(version: options.version),
            models: models, datasets: datasets, machine: Provenance.machine(), threads: options.threads,
            deduplicated: options.deduplicate, startedAt: Timestamp.string(started), finishedAt: Timestamp.string(finished),
            wallSeconds: statistics.wallSeconds, cacheHits: statistics.cacheHits, computed: statistics.computed,
            failures: statistics.failures.count)
    }
}

/// `results.json`: the cells' aggregates.
public struct ResultsFile: Sendable, Codable, Equatable {
    public var spec: String
    public var planHash: String
    public var cells: [CellResult]

    enum CodingKeys: String, CodingKey { case spec, planHash = "plan_hash", cells }
}
