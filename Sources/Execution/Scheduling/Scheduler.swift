import Engine
import Foundation
import Planning
import SpecLanguage

/// A sample that could not be computed, with the file or thing to blame.
public struct SampleFailure: Sendable, Hashable, Codable {
    /// Where the cell was asked for: `experiment: model / compression / dataset`.
    public var cell: String
    public var sampleID: String
    public var message: String
}

/// What the scheduler did: work computed and served per job kind, time per kind, failures.
public struct SchedulerStatistics: Sendable, Equatable {
    /// Jobs computed by this run, by `JobKind.rawValue`.
    public var computed: [String: Int] = [:]
    /// Work served without computing: `store` (answers already stored), `vision_features` (disk cache).
    public var cacheHits: [String: Int] = [:]
    /// Wall-clock seconds by job kind.
    public var wallSeconds: [String: Double] = [:]
    public var failures: [SampleFailure] = []

    mutating func count(_ kind: JobKind) { computed[kind.rawValue, default: 0] += 1 }
    mutating func hit(_ what: String, _ count: Int = 1) { cacheHits[what, default: 0] += count }
    mutating func time(_ kind: JobKind, _ seconds: Double) { wallSeconds[kind.rawValue, default: 0] += seconds }
}

/// Progress of one experiment, as the scheduler reports it.
public struct ExperimentProgress: Sendable, Equatable {
    public var experiment: String
    public var done: Int
    public var total: Int
    /// Samples this run computed so far.
    public var computed: Int
    /// Samples that failed in this run (the rest of `done` came from the store).
    public var failed: Int = 0

    public init(experiment: String, done: Int, total: Int, computed: Int, failed: Int = 0) {
        self.experiment = experiment
        self.done = done
        self.total = total
        self.computed = computed
        self.failed = failed
    }
}

/// Walks a plan's job graph with every sharing the plan allows, storing each answer as it finishes.
///
/// Work is grouped so that shared state lives only as long as it is needed: per session
/// (model × weight configuration, the weights quantized once), per prefill job (one
/// full-precision prefill, or prefix prefill, continued by every decode that depends on it).
/// Decodes whose keys are already in the store are skipped, and so are prefills and vision
/// encodings nothing pending needs: a rerun over unchanged inputs computes nothing.
public struct Scheduler {
    public var plan: Plan
    public var samples: RunSamples
    public var store: ResultStore
    /// Vision features on disk; nil disables it (`--no-dedup` runs the naive plan without caches).
    public var featureCache: ArtifactCache?
    public var backend: any InferenceBackend
    public var runID: Int?
    /// Called after each answer (and once at the start) with the experiment's progress.
    public var progress: (ExperimentProgress) -> Void = { _ in }
    /// Called with warnings (a corrupt cache entry recomputed).
    public var warn: (String) -> Void = { _ in }
    /// The calibration samples of an AWQ or GPTQ weight configuration.
    public var calibration: (WeightQuantization) -> [CalibrationSample] = { _ in [] }

    public init(plan: Plan, samples: RunSamples, store: ResultStore, featureCache: ArtifactCache?,
                backend: any InferenceBackend, runID: Int?) {
        self.plan = plan
        self.samples = samples
        self.store = store
        self.featureCache = featureCache
        self.backend = backend
        self.runID = runID
    }

    /// The sample a plan reference points at.
    func loaded(_ reference: SamplePosition) -> LoadedSample? {
        let entries = samples.dataset(plan.datasets[reference.dataset].descriptor).samples
        return reference.index < entries.count ? entries[reference.index] : nil
    }

    func label(_ cell: Int) -> String {
        let labels = plan.cells[cell].labels
        guard let first = labels.first else { return "cell \(plan.cells[cell].key.short)" }
        return "\(first.experiment): \(first.model) / \(first.compression) / \(first.dataset)"
    }

    /// Vision features kept in memory per session.
    static let featuresInMemory = 8

    /// Runs every decode not already stored.
    public func run() throws -> SchedulerStatistics {
        var statistics = SchedulerStatistics()
        let jobs = plan.jobs
        let completed = try store.completedKeys()

        // Progress bookkeeping per experiment (a merged cell counts in each experiment that asked for it).
        var experimentOrder: [String] = []
        var tallies: [String: ExperimentProgress] = [:]
        var experimentsOfCell: [[String]] = []
        for cell in plan.cells {
            let names = Array(Set(cell.labels.map(\.experiment))).sorted()
            experimentsOfCell.append(names)
            for name in names {
                if tallies[name] == nil {
                    experimentOrder.append(name)
                    tallies[name] = ExperimentProgress(experiment: name, done: 0, total: 0, computed: 0)
                }
                tallies[name]!.total += cell.sampleCount
            }
        }

        // Two samples with the same content (same image and question) share one decode job, so
        // progress counts, per job, every (cell, sample) that reads it.
        var readers: [Int: [Int]] = [:]
        for (cellIndex, cell) in plan.cells.enumerated() {
            for decode in cell.decodeJobs { readers[decode, default: []].append(cellIndex) }
        }

        // Pending decodes, grouped by the prefill they continue.
        var pendingByPrefill: [Int: [Int]] = [:]
        var prefillOrder: [Int] = []
        for (index, job) in jobs.enumerated() where job.kind == .decode {
            if completed.contains(job.key.hex) {
                statistics.hit("store")
                for cell in readers[index] ?? [] {
                    for name in experimentsOfCell[cell] { tallies[name]!.done += 1 }
                }
                continue
            }
            guard let prefill = job.dependencies.first(where: { jobs[$0].kind == .prefill || jobs[$0].kind == .prefixPrefill })
            else { continue }
            if pendingByPrefill[prefill] == nil { prefillOrder.append(prefill) }
            pendingByPrefill[prefill, default: []].append(index)
        }
        for name in experimentOrder { progress(tallies[name]!) }

        // Sessions: one per (model, weight quantization job); prefills grouped under them.
        struct SessionKey: Hashable {
            var model: Int
            var quantizationJob: Int
        }
        var sessionOrder: [SessionKey] = []
        var prefillsOfSession: [SessionKey: [Int]] = [:]
        for prefill in prefillOrder {
            let model: Int
            switch jobs[prefill].work {
            case .prefill(let m, _, _, _), .prefillPrefix(let m, _, _): model = m
            default: continue
            }
            let quantization = jobs[prefill].dependencies.first { jobs[$0].kind == .weightQuantization } ?? -1
            let key = SessionKey(model: model, quantizationJob: quantization)
            if prefillsOfSession[key] == nil { sessionOrder.append(key) }
            prefillsOfSession[key, default: []].append(prefill)
        }

        func finish(decode: Int, record: SampleRecord) throws {
            try store.record(record, runID: runID)
            guard case .decode(let cell, _) = jobs[decode].work else { return }
            if let error = record.error {
                statistics.failures.append(SampleFailure(cell: label(cell), sampleID: record.sampleID, message: error))
            }
            var touched: [String] = []
            for reader in readers[decode] ?? [] {
                for name in experimentsOfCell[reader] {
                    tallies[name]!.done += 1
                    if record.error == nil { tallies[name]!.computed += 1 } else { tallies[name]!.failed += 1 }
                    if !touched.contains(name) { touched.append(name) }
                }
            }
            for name in touched { progress(tallies[name]!) }
        }

        func failAll(_ decodes: [Int], message: String) throws {
            for decode in decodes {
                guard case .decode(let cell, let sample) = jobs[decode].work else { continue }
                let reference = SamplePosition(dataset: plan.cells[cell].dataset, index: sample)
                let id = loaded(reference)?.descriptor.id ?? "#\(sample)"
                try finish(decode: decode, record: SampleRecord(
                    key: jobs[decode].key.hex, cellKey: plan.cells[cell].key.hex, sampleIndex: sample, sampleID: id,
                    prompt: "", output: "", tokens: [], error: message))
            }
        }

        for sessionKey in sessionOrder {
            let prefills = prefillsOfSession[sessionKey] ?? []
            let decodesOfSession = prefills.flatMap { pendingByPrefill[$0] ?? [] }
            let weights: WeightQuantization? = sessionKey.quantizationJob >= 0 ? {
                if case .quantizeWeights(_, let weights) = jobs[sessionKey.quantizationJob].work { return weights }
                return nil
            }() : nil
            let session: any InferenceSession
            let started = Date()
            do {
                // Calibrated layers (AWQ/GPTQ: minutes of work) are kept beside the vision features.
                let stored = weights.flatMap { weights -> StoredQuantizedWeights? in
                    guard let featureCache, weights.calibrationDataset != nil else { return nil }
                    return StoredQuantizedWeights(cache: featureCache, key: jobs[sessionKey.quantizationJob].key.hex)
                }
                session = try backend.session(model: plan.models[sessionKey.model], weights: weights,
                                              calibration: weights.map(calibration) ?? [], stored: stored)
            } catch {
                try failAll(decodesOfSession, message: "model '\(plan.models[sessionKey.model].descriptor.name)': \(error)")
                continue
            }
            if session.loadedStoredWeights {
                statistics.hit("quantized_weights")
            } else if sessionKey.quantizationJob >= 0 {
                statistics.count(.weightQuantization)
                statistics.time(.weightQuantization, Date().timeIntervalSince(started))
            }
            // A few recent images' features in memory (questions on one image are planned next to
            // each other); the rest come from the disk cache. Real features are MBs per image.
            var features: [Int: VisionFeatures] = [:]
            var featureOrder: [Int] = []
            var tokens: [SamplePosition: PromptIDs] = [:]

            func prompt(for reference: SamplePosition, model: Int) -> (RenderedPrompt, hasImage: Bool)? {
                guard let sample = loaded(reference) else { return nil }
                let descriptor = plan.datasets[reference.dataset].descriptor
                let hasImage = sample.descriptor.image != nil
                return (plan.models[model].descriptor.template.render(userText: descriptor.userText(for: sample.descriptor),
                                                                      hasImage: hasImage), hasImage)
            }
            func promptTokens(for reference: SamplePosition) throws -> PromptIDs {
                if let cached = tokens[reference] { return cached }
                guard let (rendered, hasImage) = prompt(for: reference, model: sessionKey.model) else {
                    throw SchedulerError(message: "sample \(reference.index) of dataset '\(plan.datasets[reference.dataset].descriptor.name)' is missing")
                }
                let ids = try session.tokenize(rendered, hasImage: hasImage)
                tokens[reference] = ids
                return ids
            }

            for prefill in prefills {
                let decodes = pendingByPrefill[prefill] ?? []
                var prefillSeconds = 0.0
                var visionSeconds = 0.0
                let cache: any KVCache
                var logits: [Float] = []
                let reference: SamplePosition
                let isPrefix: Bool
                let attentionKV: KVCacheQuantization?
                switch jobs[prefill].work {
                case .prefill(_, _, let sample, let kv):
                    reference = SamplePosition(sample)
                    isPrefix = false
                    attentionKV = kv
                case .prefillPrefix(_, _, let sample):
                    reference = SamplePosition(sample)
                    isPrefix = true
                    attentionKV = nil
                default:
                    continue
                }
                do {
                    // Vision features: memory, then disk, then the vision tower.
                    var images: [VisionFeatures] = []
                    if let visionJob = jobs[prefill].dependencies.first(where: { jobs[$0].kind == .visionEncoding }) {
                        if let known = features[visionJob] {
                            images = [known]
                        } else {
                            let visionStart = Date()
                            let computed = try visionFeatures(job: visionJob, session: session, statistics: &statistics)
                            visionSeconds = Date().timeIntervalSince(visionStart)
                            features[visionJob] = computed
                            featureOrder.append(visionJob)
                            if featureOrder.count > Self.featuresInMemory { features[featureOrder.removeFirst()] = nil }
                            images = [computed]
                        }
                    }
                    let ids = try promptTokens(for: reference)
                    let prefillStart = Date()
                    let fresh = try session.makeCache(kv: attentionKV)
                    if isPrefix {
                        // A text-only prompt whose template opens with nothing has an empty prefix.
                        if !ids.prefix.isEmpty { _ = try session.prefill(ids.prefix, images: images, cache: fresh) }
                    } else {
                        logits = try session.prefill(ids.full, images: images, cache: fresh)
                    }
                    cache = fresh
                    prefillSeconds = Date().timeIntervalSince(prefillStart)
                    statistics.count(jobs[prefill].kind)
                    statistics.time(jobs[prefill].kind, prefillSeconds)
                } catch {
                    try failAll(decodes, message: "\(error)")
                    continue
                }

                for (position, decode) in decodes.enumerated() {
                    guard case .decode(let cellIndex, let sampleIndex) = jobs[decode].work else { continue }
                    let cell = plan.cells[cellIndex]
                    let sampleReference = SamplePosition(dataset: cell.dataset, index: sampleIndex)
                    let sampleID = loaded(sampleReference)?.descriptor.id ?? "#\(sampleIndex)"
                    let promptText = prompt(for: sampleReference, model: sessionKey.model)?.0.full ?? ""
                    let decodeStart = Date()
                    do {
                        let continued: any KVCache
                        var first = logits
                        if isPrefix {
                            continued = try session.quantizedCopy(of: cache, kv: cell.cell.kv)
                            first = try session.prefill(try promptTokens(for: sampleReference).question, images: [], cache: continued)
                        } else if attentionKV != nil {
                            continued = cache.copy()
                        } else {
                            continued = try session.quantizedCopy(of: cache, kv: cell.cell.kv)
                        }
                        let answer = try session.generate(cache: continued, firstLogits: first, generation: cell.cell.generation)
                        let seconds = Date().timeIntervalSince(decodeStart)
                        statistics.count(.decode)
                        statistics.time(.decode, seconds)
                        var timings: [String: Double] = ["decode": seconds]
                        // Shared work is charged to the sample that ran it.
                        if position == 0 {
                            timings[jobs[prefill].kind.rawValue] = prefillSeconds
                            if visionSeconds > 0 { timings[JobKind.visionEncoding.rawValue] = visionSeconds }
                        }
                        try finish(decode: decode, record: SampleRecord(
                            key: jobs[decode].key.hex, cellKey: cell.key.hex, sampleIndex: sampleIndex, sampleID: sampleID,
                            prompt: promptText, output: answer.text, tokens: answer.tokens, timings: timings,
                            kvBytes: answer.kvBytes, kvTokens: answer.kvTokens, weightBytes: session.weightBytes))
                    } catch {
                        try finish(decode: decode, record: SampleRecord(
                            key: jobs[decode].key.hex, cellKey: cell.key.hex, sampleIndex: sampleIndex, sampleID: sampleID,
                            prompt: promptText, output: "", tokens: [], error: "\(error)"))
                    }
                }
            }
        }
        return statistics
    }

    /// Features for a vision job: the disk cache when enabled, else the session's vision tower.
    func visionFeatures(job index: Int, session: any InferenceSession, statistics: inout SchedulerStatistics) throws -> VisionFeatures {
        let job = plan.jobs[index]
        guard case .encodeImage(_, _, let reference) = job.work, let sample = loaded(SamplePosition(reference)) else {
            throw SchedulerError(message: "vision job \(job.key.short) has no sample")
        }
        if let problem = sample.imageProblem { throw SchedulerError(message: problem) }
        guard let url = sample.imageURL else { throw SchedulerError(message: "sample '\(sample.descriptor.id)' has no image") }
        let key = job.key.hex
        if let featureCache {
            switch featureCache.read(kind: .visionFeatures, key: key) {
            case .hit(let payload):
                if let features = VisionFeatures(payload: payload) {
                    statistics.hit(JobKind.visionEncoding.rawValue)
                    return features
                }
                warn("vision feature cache entry \(key) has a payload of the wrong shape; recomputing it")
            case .corrupt(let reason):
                warn("corrupt cache entry recomputed: \(reason)")
            case .miss:
                break
            }
        }
        let started = Date()
        let features = try session.visionFeatures(image: url)
        statistics.count(.visionEncoding)
        statistics.time(.visionEncoding, Date().timeIntervalSince(started))
        if let featureCache {
            do { try featureCache.write(kind: .visionFeatures, key: key, payload: features.payload) } catch {
                warn("\(error)")
            }
        }
        return features
    }
}

/// A sample of the plan: `plan.datasets[dataset].samples[index]`.
struct SamplePosition: Hashable {
    var dataset: Int
    var index: Int

    init(dataset: Int, index: Int) {
        self.dataset = dataset
        self.index = index
    }

    init(_ reference: SampleReference) {
        self.init(dataset: reference.dataset, index: reference.index)
    }
}

/// A problem the scheduler itself found.
public struct SchedulerError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
