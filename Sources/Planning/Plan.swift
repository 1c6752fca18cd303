import SpecLanguage

/// The kinds of work a plan holds, in the order the runner must do them.
public enum JobKind: String, CaseIterable, Sendable, Hashable, Comparable {
    /// Quantize one checkpoint's weights with one configuration.
    case weightQuantization = "weight_quantization"
    /// Vision tower + projector on one image.
    case visionEncoding = "vision_encoding"
    /// Full-precision prefill of a whole prompt (`store`, the baseline), or a prefill with
    /// quantized attention (`attention`).
    case prefill
    /// Full-precision prefill of the prompt through the image (`prefix`).
    case prefixPrefill = "prefix_prefill"
    /// Quantize a copy of the cache for one KV configuration, prefill the question where the
    /// regime says so (`prefix`), then generate.
    case decode
    /// Score one generated answer with the dataset's metrics.
    case scoring

    public static func < (lhs: JobKind, rhs: JobKind) -> Bool { lhs.ordinal < rhs.ordinal }

    /// Position in `allCases`: the order jobs run in.
    public var ordinal: Int {
        switch self {
        case .weightQuantization: return 0
        case .visionEncoding: return 1
        case .prefill: return 2
        case .prefixPrefill: return 3
        case .decode: return 4
        case .scoring: return 5
        }
    }
}

/// Estimated work of one job.
public struct JobCost: Sendable, Hashable {
    /// Floating-point operations (a multiply-add counts 2).
    public var flops: Double
    /// Bytes read and written from memory (weights, KV cache, features).
    public var bytes: Double

    public init(flops: Double, bytes: Double) {
        self.flops = flops
        self.bytes = bytes
    }

    public static let zero = JobCost(flops: 0, bytes: 0)
    static func + (lhs: JobCost, rhs: JobCost) -> JobCost { JobCost(flops: lhs.flops + rhs.flops, bytes: lhs.bytes + rhs.bytes) }
}

/// A sample of a planned dataset: `plan.datasets[dataset].samples[index]`.
public struct SampleReference: Sendable, Hashable {
    public var dataset: Int
    public var index: Int
}

/// What a job does, in terms of the plan's tables, so the runner needs nothing else.
public enum JobWork: Sendable, Hashable {
    /// `plan.models[model]`'s weights quantized with `weights`.
    // The cases carrying configurations are `indirect` so that a job stays small: a plan holds
    // hundreds of thousands of decode and scoring jobs.
    indirect case quantizeWeights(model: Int, weights: WeightQuantization)
    /// The image of `sample` through `plan.models[model]`'s vision tower and projector, with
    /// `weights` if they touch the vision side.
    indirect case encodeImage(model: Int, weights: WeightQuantization?, sample: SampleReference)
    /// Prefill `sample`'s whole prompt; `kv` is set only under `attention`.
    indirect case prefill(model: Int, weights: WeightQuantization?, sample: SampleReference, kv: KVCacheQuantization?)
    /// Prefill the prompt of `sample` through its image.
    indirect case prefillPrefix(model: Int, weights: WeightQuantization?, sample: SampleReference)
    /// Generate the answer of `plan.cells[cell]` for its sample number `sample`.
    case decode(cell: Int, sample: Int)
    /// Score that answer.
    case score(cell: Int, sample: Int)
}

/// One unit of work: what it does, its content key, and the jobs whose outputs it reads.
public struct Job: Sendable, Hashable {
    public let kind: JobKind
    public let key: ContentKey
    /// Indices into `plan.jobs`; always smaller than this job's own index.
    public internal(set) var dependencies: [Int]
    /// Nil when the model's config.json could not be read.
    public let cost: JobCost?
    public let work: JobWork
}

/// A model of the plan with what its checkpoint told the planner.
public struct PlannedModel: Sendable {
    public let descriptor: ModelDescriptor
    public let inspection: ModelInspection
}

/// A dataset of the plan with its samples.
public struct PlannedDataset: Sendable {
    public let descriptor: DatasetDescriptor
    public let samples: SampleList
}

/// A cell of the plan and the jobs that produce its results.
public struct PlannedCell: Sendable {
    public let cell: Cell
    /// Every place the cell was asked for (several when identical cells were planned once).
    public let labels: [CellLabel]
    public let key: ContentKey
    /// Index into `plan.models`.
    public let model: Int
    /// Index into `plan.datasets`.
    public let dataset: Int
    /// Indices into the dataset's samples, in order (the limits applied).
    public let sampleCount: Int
    /// For each of its samples, the decode job and the scoring job.
    public let decodeJobs: [Int]
    public let scoringJobs: [Int]
}

/// Per-kind job counts and costs.
public struct JobTally: Sendable, Hashable {
    /// Counts by `JobKind.ordinal` (an array: the planner adds to it several times per sample).
    var countsByOrdinal = [Int](repeating: 0, count: JobKind.allCases.count)
    public var cost = JobCost.zero
    /// Jobs whose cost is unknown (their model's config.json was unreadable).
    public var unknownCost = 0

    public init() {}

    /// Jobs of each kind (every kind present, zero included).
    public var counts: [JobKind: Int] {
        Dictionary(uniqueKeysWithValues: JobKind.allCases.map { ($0, countsByOrdinal[$0.ordinal]) })
    }

    public var total: Int { countsByOrdinal.reduce(0, +) }

    mutating func add(_ kind: JobKind, _ cost: JobCost?) {
        countsByOrdinal[kind.ordinal] += 1
        if let cost {
            self.cost.flops += cost.flops
            self.cost.bytes += cost.bytes
        } else {
            unknownCost += 1
        }
    }
}

/// The lowered, deduplicated work of one or more specs.
public struct Plan: Sendable {
    public let models: [PlannedModel]
    public let datasets: [PlannedDataset]
    public let cells: [PlannedCell]
    /// In dependency order: every job's dependencies come before it.
    public let jobs: [Job]
    /// Cells the specs asked for, before identical ones were merged.
    public let requestedCells: Int
    /// What every cell doing all its own work would cost.
    public let naive: JobTally
    /// What this plan costs.
    public let planned: JobTally
    public let isDeduplicated: Bool
    /// Things the user should know (unreadable configs, stand-in samples).
    public let notes: [String]
    /// True when some keys stand for paths or stand-in samples rather than content.
    public let isProvisional: Bool
    /// SHA-256 over the sorted multiset of job keys and cell keys: the same specs always give the
    /// same hash, whatever order their grids are written in.
    public let hash: ContentKey
}
