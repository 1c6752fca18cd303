import Crypto
import Foundation
import SpecLanguage

/// Lowers cells into a job graph keyed by content and removes the work the regimes let cells share.
///
/// Pure apart from what its injected `ModelInspecting` and `SampleSource` do: the same cells,
/// inspections and samples always give the same plan.
public struct Planner: Sendable {
    public var inspector: any ModelInspecting
    public var samples: any SampleSource
    /// False gives the naive plan: every cell does all its own work (`--no-dedup`).
    public var deduplicate: Bool
    public var keys: JobKeys
    /// Most cells one plan takes; a larger grid is refused before anything is allocated for it.
    public var maximumCells = 1_000_000
    /// Most jobs (counted naively: four per sample of every cell) one plan takes.
    public var maximumJobs = 20_000_000

    /// The engine numerics version keys use until the engine publishes its own constant.
    public static let defaultNumericsVersion = 1
    /// The metrics version scoring keys use until the metrics publish their own constant.
    public static let defaultMetricsVersion = 1

    public init(inspector: any ModelInspecting, samples: any SampleSource, deduplicate: Bool = true,
                numericsVersion: Int = Planner.defaultNumericsVersion, metricsVersion: Int = Planner.defaultMetricsVersion) {
        self.inspector = inspector
        self.samples = samples
        self.deduplicate = deduplicate
        self.keys = JobKeys(numerics: numericsVersion, metrics: metricsVersion)
    }

    /// Plans `cells` (from one or several specs) together.
    public func plan(_ cells: [Cell]) throws(PlanningError) -> Plan {
        guard cells.count <= maximumCells else { throw .tooManyCells(cells.count, limit: maximumCells) }
        var builder = PlanBuilder(planner: self)
        let (datasets, naiveJobs) = builder.reserve(for: cells)
        guard naiveJobs <= maximumJobs else { throw .tooManyJobs(naiveJobs, limit: maximumJobs) }
        for (cell, dataset) in zip(cells, datasets) { builder.add(cell, dataset: dataset) }
        return builder.finish()
    }
}

/// An open-addressing hash set of job keys with their handles.
///
/// The planner looks a key up for every job of every sample; `Dictionary` spends most of that in
/// SipHash, which a SHA-256 digest does not need: its first word already is a uniform hash.
struct KeyTable {
    /// Slots; a slot is empty while its handle's `local` is -1.
    private var keys: [ContentKey]
    private var handles: [JobHandle]
    private var mask: Int
    private(set) var count = 0
    private static let empty = JobHandle(kind: .scoring, local: -1)

    init(capacity: Int = 1024) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        keys = Array(repeating: ContentKey(digest: SHA256.hash(data: [UInt8]())), count: size)
        handles = Array(repeating: Self.empty, count: size)
        mask = size - 1
    }

    /// Inserts `key` with `handle` unless present; returns the handle already stored, if any.
    mutating func insert(_ key: ContentKey, _ handle: JobHandle) -> JobHandle? {
        if 2 * (count + 1) > keys.count { grow() }
        var slot = Int(truncatingIfNeeded: key.w0) & mask
        while handles[slot].local >= 0 {
            if keys[slot] == key { return handles[slot] }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        handles[slot] = handle
        count += 1
        return nil
    }

    private mutating func grow() {
        let old = zip(keys, handles).filter { $0.1.local >= 0 }
        self = KeyTable(capacity: keys.count)
        for (key, handle) in old { _ = insert(key, handle) }
    }
}

/// Why a plan was refused.
public enum PlanningError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooManyCells(Int, limit: Int)
    case tooManyJobs(Int, limit: Int)

    public var description: String {
        switch self {
        case let .tooManyCells(count, limit):
            return "the specs ask for \(count) cells; lcb plans at most \(limit) at once: split the experiment grids"
        case let .tooManyJobs(count, limit):
            return "the specs ask for \(count) jobs (before sharing); lcb plans at most \(limit) at once: "
                + "lower dataset sizes or set `limit`, or split the experiments"
        }
    }
}

/// A job not yet placed in the final order: `(kind, index among jobs of that kind)`.
struct JobHandle: Hashable {
    let kind: JobKind
    let local: Int32

    /// `kind.ordinal << 32 | local`: how pending jobs name their dependencies.
    var packed: Int { kind.ordinal << 32 | Int(local) }
}


/// Per-model facts the builder needs again and again.
private struct ModelEntry {
    let planned: PlannedModel
    var identity: ModelIdentity { planned.inspection.identity }
    var architecture: ModelArchitecture? { planned.inspection.architecture }
}

/// Everything a weight configuration means for one model, computed once.
private struct WeightsEntry {
    let quantizationJob: JobHandle?
    let languageWeights: ContentKey
    let visionWeights: ContentKey
    /// Interned ids so that per-sample caches can be keyed by integers.
    let languageID: Int
    let visionID: Int
}

/// A rendered prompt with its token estimates (text tokens; image tokens are added per model).
private struct PromptInfo {
    let rendered: RenderedPrompt
    let hasImage: Bool
    /// Text tokens of the prefix and the suffix, the image placeholder not counted.
    let prefixText: Int
    let suffixText: Int

    init(_ rendered: RenderedPrompt) {
        self.rendered = rendered
        let placeholder = rendered.prefix.range(of: PromptTemplate.imagePlaceholder)
        hasImage = placeholder != nil
        var prefix = rendered.prefix
        if let placeholder { prefix.removeSubrange(placeholder) }
        prefixText = prefix.isEmpty ? 0 : CostModel.estimatedTokens(prefix)
        suffixText = CostModel.estimatedTokens(rendered.suffix)
    }

    func prefix(_ architecture: ModelArchitecture) -> Int { prefixText + (hasImage ? architecture.imageTokens : 0) }
    func full(_ architecture: ModelArchitecture) -> Int { prefix(architecture) + suffixText }
}

private struct DatasetEntry {
    let planned: PlannedDataset
    /// Sample-list keys by sample count (a cell's limits pick a prefix of the list).
    var samplesKeys: [Int: ContentKey] = [:]
}

private struct SampleGroup: Hashable {
    let model: Int
    /// Interned language-side and vision-side weight identities.
    let language: Int
    let vision: Int
    let dataset: Int
    let regime: KVRegime
    /// Interned KV configuration under `attention`, -1 otherwise.
    let kv: Int
}

private struct PlanBuilder {
    let planner: Planner
    var keys: JobKeys { planner.keys }
    var deduplicate: Bool { planner.deduplicate }

    var models: [ModelEntry] = []
    var modelIndex: [ModelDescriptor: Int] = [:]
    var datasets: [DatasetEntry] = []
    var datasetIndex: [DatasetDescriptor: Int] = [:]
    var weightsEntries: [WeightsKey: WeightsEntry] = [:]
    var weightIdentityIDs: [ContentKey: Int] = [:]
    var kvIDs: [KVCacheQuantization: Int] = [:]
    var kvKeys: [KVCacheQuantization: ContentKey] = [:]
    var generationKeys: [GenerationSettings: ContentKey] = [:]
    var weightsKeys: [WeightsConfiguration: ContentKey] = [:]
    var modelKeys: [Int: ContentKey] = [:]

    /// Jobs by `JobKind.ordinal`, in the order they were first asked for.
    /// Their dependencies hold `JobHandle.packed` values until `finish` makes them plan indices.
    var pending: [[Job]] = Array(repeating: [], count: JobKind.allCases.count)
    var jobIndex = KeyTable()
    var prompts: [PromptGroup: [PromptInfo]] = [:]
    var visionCache: [SampleGroup: [JobHandle?]] = [:]
    var prefillCache: [SampleGroup: [JobHandle?]] = [:]

    var cells: [PendingCell] = []
    var cellIndex: [ContentKey: Int] = [:]
    var requestedCells = 0
    var naive = JobTally()
    var notes: [String] = []

    struct WeightsKey: Hashable {
        let model: Int
        let weights: WeightQuantization?
        let calibration: CanonicalValue?
    }

    struct WeightsConfiguration: Hashable {
        let weights: WeightQuantization
        let calibration: CanonicalValue?
    }

    struct PromptGroup: Hashable {
        let model: Int
        let dataset: Int
    }

    struct PendingCell {
        let cell: Cell
        var labels: [CellLabel]
        let key: ContentKey
        let model: Int
        let dataset: Int
        let sampleCount: Int
        let decodeJobs: [JobHandle]
        let scoringJobs: [JobHandle]
        /// The work this cell would do alone, added to `naive` again for each identical cell.
        let ownWork: JobTally
    }

    init(planner: Planner) { self.planner = planner }

    // MARK: Tables

    mutating func modelEntry(_ descriptor: ModelDescriptor) -> Int {
        if let index = modelIndex[descriptor] { return index }
        let inspection = planner.inspector.inspect(descriptor)
        notes.append(contentsOf: inspection.notes)
        models.append(ModelEntry(planned: PlannedModel(descriptor: descriptor, inspection: inspection)))
        modelIndex[descriptor] = models.count - 1
        return models.count - 1
    }

    mutating func datasetEntry(_ descriptor: DatasetDescriptor) -> Int {
        if let index = datasetIndex[descriptor] { return index }
        var list = planner.samples.samples(of: descriptor)
        if let limit = descriptor.limit, list.samples.count > limit { list.samples.removeLast(list.samples.count - limit) }
        if let note = list.note { notes.append(note) }
        datasets.append(DatasetEntry(planned: PlannedDataset(descriptor: descriptor, samples: list)))
        datasetIndex[descriptor] = datasets.count - 1
        return datasets.count - 1
    }

    mutating func samplesKey(dataset: Int, count: Int) -> ContentKey {
        if let key = datasets[dataset].samplesKeys[count] { return key }
        let samples = datasets[dataset].planned.samples.samples.prefix(count).map { sample -> CanonicalValue in
            .object([
                "image": .optional(sample.image, CanonicalValue.key), "question": .string(sample.question),
                "references": .array(sample.references.map(CanonicalValue.string)),
            ])
        }
        let key = ContentKey(.array(samples))
        datasets[dataset].samplesKeys[count] = key
        return key
    }

    mutating func interned(_ identity: ContentKey) -> Int {
        if let id = weightIdentityIDs[identity] { return id }
        weightIdentityIDs[identity] = weightIdentityIDs.count
        return weightIdentityIDs.count - 1
    }

    mutating func interned(_ kv: KVCacheQuantization) -> Int {
        if let id = kvIDs[kv] { return id }
        kvIDs[kv] = kvIDs.count
        return kvIDs.count - 1
    }

    /// The weights entry of (model, configuration); creates the quantization job in dedup mode.
    mutating func weightsEntry(model: Int, weights: WeightQuantization?, calibration: CanonicalValue?,
                               tally: inout JobTally) -> WeightsEntry {
        let lookup = WeightsKey(model: model, weights: weights, calibration: calibration)
        if deduplicate, let entry = weightsEntries[lookup] {
            if let job = entry.quantizationJob { tally.add(.weightQuantization, cost(of: job)) }
            return entry
        }
        let entry = models[model]
        let dtype = effectiveDType(model)
        var job: JobHandle?
        var jobKey: ContentKey?
        if let weights {
            let key = keys.weightQuantization(model: entry.identity, dtype: dtype, weights: weights, calibration: calibration)
            let cost = entry.architecture.map { CostModel.weightQuantization($0, weights) }
            job = addJob(.weightQuantization, key: key, dependencies: [], cost: cost,
                         work: .quantizeWeights(model: model, weights: weights), tally: &tally)
            jobKey = key
        }
        let touchesLanguage = weights?.touchesLanguage ?? false
        let touchesVision = weights?.touchesVision ?? false
        let language = keys.weightsIdentity(model: entry.identity, dtype: dtype, quantization: touchesLanguage ? jobKey : nil)
        let vision = keys.weightsIdentity(model: entry.identity, dtype: dtype, quantization: touchesVision ? jobKey : nil)
        let result = WeightsEntry(quantizationJob: job, languageWeights: language, visionWeights: vision,
                                  languageID: interned(language), visionID: interned(vision))
        if deduplicate { weightsEntries[lookup] = result }
        return result
    }

    /// Keys of configurations' canonical forms, computed once per distinct configuration.
    mutating func configurationKey(_ kv: KVCacheQuantization) -> ContentKey {
        if let key = kvKeys[kv] { return key }
        let key = ContentKey(kv.canonical)
        kvKeys[kv] = key
        return key
    }

    mutating func configurationKey(_ generation: GenerationSettings) -> ContentKey {
        if let key = generationKeys[generation] { return key }
        let key = ContentKey(generation.canonical)
        generationKeys[generation] = key
        return key
    }

    mutating func weightsConfigurationKey(_ weights: WeightQuantization, calibration: CanonicalValue?) -> ContentKey {
        let lookup = WeightsConfiguration(weights: weights, calibration: calibration)
        if let key = weightsKeys[lookup] { return key }
        let key = ContentKey(weights.canonical(calibration: calibration))
        weightsKeys[lookup] = key
        return key
    }

    mutating func modelKey(_ model: Int) -> ContentKey {
        if let key = modelKeys[model] { return key }
        let descriptor = models[model].planned.descriptor
        let key = keys.model(identity: models[model].identity, dtype: effectiveDType(model), template: descriptor.template,
                             preprocessing: descriptor.preprocessing)
        modelKeys[model] = key
        return key
    }

    /// The dtype weights are held in: `auto` resolves to the stored dtype when config.json says it.
    func effectiveDType(_ model: Int) -> String {
        let requested = models[model].planned.descriptor.dtype
        guard requested == .auto else { return requested.rawValue }
        return models[model].architecture?.storedDType ?? requested.rawValue
    }

    func cost(of handle: JobHandle) -> JobCost? { pending[handle.kind.ordinal][Int(handle.local)].cost }
    func key(of handle: JobHandle) -> ContentKey { pending[handle.kind.ordinal][Int(handle.local)].key }

    /// Adds a job, or finds the one with the same key; counts it in `tally` either way.
    mutating func addJob(_ kind: JobKind, key: ContentKey, dependencies: [JobHandle], cost: JobCost?, work: JobWork,
                         tally: inout JobTally) -> JobHandle {
        tally.add(kind, cost)
        let handle = JobHandle(kind: kind, local: Int32(pending[kind.ordinal].count))
        if deduplicate, let existing = jobIndex.insert(key, handle) { return existing }
        pending[kind.ordinal].append(Job(kind: kind, key: key, dependencies: dependencies.map(\.packed), cost: cost, work: work))
        return handle
    }

    /// Enumerates every cell's dataset first, to size the key table and the decode and scoring
    /// lists before the jobs arrive; returns each cell's dataset index and the naive job count
    /// (four per sample, one per cell).
    mutating func reserve(for cells: [Cell]) -> (datasets: [Int], naiveJobs: Int) {
        var samples = 0
        var indices: [Int] = []
        indices.reserveCapacity(cells.count)
        for cell in cells {
            let index = datasetEntry(cell.dataset)
            indices.append(index)
            let count = datasets[index].planned.samples.samples.count
            samples += min(count, cell.sampleLimit ?? count)
        }
        let naiveJobs = 4 * samples + cells.count
        guard naiveJobs <= planner.maximumJobs else { return (indices, naiveJobs) }
        // Decode and scoring jobs are rarely shared, the rest mostly: 2 per sample is a fair guess.
        if deduplicate { jobIndex = KeyTable(capacity: min(2 * samples + cells.count, 1 << 24)) }
        pending[JobKind.decode.ordinal].reserveCapacity(samples)
        pending[JobKind.scoring.ordinal].reserveCapacity(samples)
        return (indices, naiveJobs)
    }

    // MARK: Lowering

    mutating func add(_ cell: Cell, dataset: Int) {
        requestedCells += 1
        let model = modelEntry(cell.model)
        let available = datasets[dataset].planned.samples.samples.count
        let sampleCount = min(available, cell.sampleLimit ?? available)
        let identity = models[model].identity
        let kvKey = cell.kv.map { configurationKey($0) }
        let generationKey = configurationKey(cell.generation)
        let cellKey = keys.cell(
            model: modelKey(model), weights: cell.weights.map { weightsConfigurationKey($0, calibration: cell.calibration) },
            kv: kvKey, samples: samplesKey(dataset: dataset, count: sampleCount), promptSuffix: cell.dataset.promptSuffix,
            metrics: cell.dataset.metrics, generation: generationKey)
        if deduplicate, let existing = cellIndex[cellKey] {
            cells[existing].labels.append(cell.label)
            naive.add(cells[existing].ownWork)
            return
        }

        var tally = JobTally()
        let weights = weightsEntry(model: model, weights: cell.weights, calibration: cell.calibration, tally: &tally)
        let architecture = models[model].architecture
        let regime = cell.regime
        let attentionKV = regime == .attention ? cell.kv.map { interned($0) } : nil
        let group = SampleGroup(model: model, language: weights.languageID, vision: weights.visionID, dataset: dataset,
                                regime: regime, kv: attentionKV ?? -1)
        let visionGroup = SampleGroup(model: model, language: -1, vision: weights.visionID, dataset: dataset,
                                      regime: .store, kv: -1)
        let prompts = renderedPrompts(model: model, dataset: dataset)
        let samples = datasets[dataset].planned.samples.samples
        let settings = keys.decodeSettings(kv: kvKey, generation: generationKey)
        let metricList = JobKeys.metricList(cell.dataset.metrics)
        let quantizationDependency = weights.quantizationJob.map { [$0] } ?? []
        // Taken out of the caches for the loop (one lookup per cell, not per sample) and put back after.
        var visionHandles = deduplicate ? (visionCache.removeValue(forKey: visionGroup) ?? Array(repeating: nil, count: available)) : []
        var prefillHandles = deduplicate ? (prefillCache.removeValue(forKey: group) ?? Array(repeating: nil, count: available)) : []
        defer {
            if deduplicate {
                visionCache[visionGroup] = visionHandles
                prefillCache[group] = prefillHandles
            }
        }
        let cellNumber = cells.count
        var decodeJobs: [JobHandle] = []
        var scoringJobs: [JobHandle] = []
        decodeJobs.reserveCapacity(sampleCount)
        scoringJobs.reserveCapacity(sampleCount)

        for index in 0..<sampleCount {
            let sample = samples[index]
            let prompt = prompts[index].rendered
            let tokens = prompts[index]
            let reference = SampleReference(dataset: dataset, index: index)

            // Vision features: shared by everything that does not change the vision weights.
            var vision: JobHandle?
            if let image = sample.image {
                if deduplicate, let cached = visionHandles[index] {
                    tally.add(.visionEncoding, cost(of: cached))
                    vision = cached
                } else {
                    let key = keys.visionEncoding(
                        visionWeights: weights.visionWeights, preprocessor: models[model].identity.preprocessor,
                        preprocessing: cell.model.preprocessing, image: image)
                    let touches = cell.weights?.touchesVision ?? false
                    vision = addJob(.visionEncoding, key: key, dependencies: touches ? quantizationDependency : [],
                                    cost: architecture.map(CostModel.visionEncoding),
                                    work: .encodeImage(model: model, weights: touches ? cell.weights : nil, sample: reference),
                                    tally: &tally)
                    if deduplicate { visionHandles[index] = vision }
                }
            }
            let visionKey = vision.map { key(of: $0) }

            // Prefill: per (LM weights, sample) under store, per (LM weights, image, prefix) under
            // prefix, per (LM weights, KV config, sample) under attention.
            let prefill: JobHandle
            let prefillKind: JobKind = regime == .prefix ? .prefixPrefill : .prefill
            if deduplicate, let cached = prefillHandles[index] {
                tally.add(prefillKind, cost(of: cached))
                prefill = cached
            } else {
                let key: ContentKey
                let work: JobWork
                var prefillCost: JobCost?
                switch regime {
                case .store, .attention:
                    let kv = regime == .attention ? cell.kv : nil
                    key = keys.prefill(languageWeights: weights.languageWeights, tokenizer: identity.tokenizer,
                                       prompt: prompt.full, vision: visionKey, kv: kv)
                    work = .prefill(model: model, weights: cell.weights, sample: reference, kv: kv)
                    prefillCost = architecture.map {
                        CostModel.prefill($0, cell.weights, context: 0, tokens: tokens.full($0), storedBits: kv?.storedBits ?? 32)
                    }
                case .prefix:
                    key = keys.prefixPrefill(languageWeights: weights.languageWeights, tokenizer: identity.tokenizer,
                                             prefix: prompt.prefix, vision: visionKey)
                    work = .prefillPrefix(model: model, weights: cell.weights, sample: reference)
                    prefillCost = architecture.map {
                        CostModel.prefill($0, cell.weights, context: 0, tokens: tokens.prefix($0), storedBits: 32)
                    }
                }
                let upstream = (vision.map { [$0] } ?? []) + quantizationDependency
                prefill = addJob(prefillKind, key: key, dependencies: upstream, cost: prefillCost, work: work, tally: &tally)
                if deduplicate { prefillHandles[index] = prefill }
            }

            let question = regime == .prefix ? prompt.suffix : nil
            let decodeKey = keys.decode(prefill: key(of: prefill), question: question, settings: settings)
            let decodeCost = architecture.map { arch -> JobCost in
                let split = regime == .prefix
                return CostModel.decode(arch, cell.weights, kv: cell.kv, context: split ? tokens.prefix(arch) : tokens.full(arch),
                                        questionTokens: split ? tokens.suffixText : 0, generated: cell.generation.maxNewTokens)
            }
            let decode = addJob(.decode, key: decodeKey, dependencies: [prefill] + quantizationDependency, cost: decodeCost,
                                work: .decode(cell: cellNumber, sample: index), tally: &tally)
            let scoringKey = keys.scoring(answer: decodeKey, references: sample.references, metricList: metricList)
            let scoring = addJob(.scoring, key: scoringKey, dependencies: [decode], cost: JobCost.zero,
                                 work: .score(cell: cellNumber, sample: index), tally: &tally)
            decodeJobs.append(decode)
            scoringJobs.append(scoring)
        }

        naive.add(tally)
        cells.append(PendingCell(cell: cell, labels: [cell.label], key: cellKey, model: model, dataset: dataset,
                                 sampleCount: sampleCount, decodeJobs: decodeJobs, scoringJobs: scoringJobs, ownWork: tally))
        if deduplicate { cellIndex[cellKey] = cells.count - 1 }
    }

    /// Rendered prompts and their estimated token counts, once per (model, dataset).
    mutating func renderedPrompts(model: Int, dataset: Int) -> [PromptInfo] {
        let group = PromptGroup(model: model, dataset: dataset)
        if let cached = prompts[group] { return cached }
        let template = models[model].planned.descriptor.template
        let descriptor = datasets[dataset].planned.descriptor
        let rendered = datasets[dataset].planned.samples.samples.map { sample in
            PromptInfo(template.render(userText: descriptor.userText(for: sample), hasImage: sample.image != nil))
        }
        prompts[group] = rendered
        return rendered
    }

    // MARK: Result

    mutating func finish() -> Plan {
        var offsets: [Int] = []
        var total = 0
        for kind in JobKind.allCases {
            offsets.append(total)
            total += pending[kind.ordinal].count
        }
        func global(_ handle: JobHandle) -> Int { offsets[handle.kind.ordinal] + Int(handle.local) }

        var jobs: [Job] = []
        jobs.reserveCapacity(total)
        var planned = JobTally()
        for kind in JobKind.allCases {
            // Rewritten in place (each dependency list is uniquely owned), then moved over.
            var list = pending[kind.ordinal]
            pending[kind.ordinal] = []
            for index in list.indices {
                for position in list[index].dependencies.indices {
                    let packed = list[index].dependencies[position]
                    list[index].dependencies[position] = offsets[packed >> 32] + (packed & 0xFFFF_FFFF)
                }
                planned.add(kind, list[index].cost)
            }
            jobs.append(contentsOf: list)
        }
        let plannedCells = cells.map { cell in
            PlannedCell(cell: cell.cell, labels: cell.labels, key: cell.key, model: cell.model, dataset: cell.dataset,
                        sampleCount: cell.sampleCount, decodeJobs: cell.decodeJobs.map(global),
                        scoringJobs: cell.scoringJobs.map(global))
        }
        let provisional = models.contains { $0.identity.isProvisional } || datasets.contains { $0.planned.samples.isProvisional }
        return Plan(
            models: models.map(\.planned), datasets: datasets.map(\.planned), cells: plannedCells, jobs: jobs,
            requestedCells: requestedCells, naive: naive, planned: planned, isDeduplicated: deduplicate,
            notes: notes, isProvisional: provisional,
            hash: Self.planHash(jobs: jobs, cells: plannedCells, deduplicated: deduplicate))
    }

    static func planHash(jobs: [Job], cells: [PlannedCell], deduplicated: Bool) -> ContentKey {
        var hasher = SHA256()
        // A header, then each list's count and its sorted keys as raw 32-byte digests.
        var bytes = Array("lcb-plan-v1 \(deduplicated ? "dedup" : "naive")\n".utf8)
        for (title, keys) in [("cells", cells.map(\.key)), ("jobs", jobs.map(\.key))] {
            bytes.append(contentsOf: Array("\(title) \(keys.count)\n".utf8))
            bytes.reserveCapacity(bytes.count + 32 * keys.count)
            for key in keys.sorted() { key.appendBytes(to: &bytes) }
            hasher.update(data: bytes)
            bytes.removeAll(keepingCapacity: true)
        }
        return ContentKey(digest: hasher.finalize())
    }
}

extension JobTally {
    mutating func add(_ other: JobTally) {
        for index in countsByOrdinal.indices { countsByOrdinal[index] += other.countsByOrdinal[index] }
        cost = cost + other.cost
        unknownCost += other.unknownCost
    }
}
