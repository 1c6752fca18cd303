import OrderedCollections

/// A checked experiment spec: every definition resolved, defaults filled in, lists expanded.
///
/// Produced by `SpecLoader`; all names in experiments and tables refer to entries of the
/// dictionaries here. Dictionaries keep the order the spec wrote things in.
public struct Spec: Sendable, Hashable {
    /// The spec's name (`name:`, or the root file's name without `.yaml`).
    public var name: String
    public var description: String?
    /// The root file and every included file, as shown in diagnostics, root first.
    public var files: [String]
    public var models: OrderedDictionary<String, ModelDefinition>
    public var datasets: OrderedDictionary<String, DatasetDefinition>
    /// The compression definitions as written (before list expansion).
    public var compressionDefinitions: OrderedDictionary<String, CompressionDefinition>
    /// Every concrete configuration after list expansion, keyed by its expanded name
    /// (`kivi/bits=2`); `fp16` is always present.
    public var configurations: OrderedDictionary<String, CompressionConfiguration>
    public var experiments: OrderedDictionary<String, Experiment>
    public var tables: OrderedDictionary<String, TableDefinition>

    public init(name: String, description: String? = nil, files: [String] = [],
                models: OrderedDictionary<String, ModelDefinition> = [:],
                datasets: OrderedDictionary<String, DatasetDefinition> = [:],
                compressionDefinitions: OrderedDictionary<String, CompressionDefinition> = [:],
                configurations: OrderedDictionary<String, CompressionConfiguration> = [:],
                experiments: OrderedDictionary<String, Experiment> = [:],
                tables: OrderedDictionary<String, TableDefinition> = [:]) {
        self.name = name
        self.description = description
        self.files = files
        self.models = models
        self.datasets = datasets
        self.compressionDefinitions = compressionDefinitions
        self.configurations = configurations
        self.experiments = experiments
        self.tables = tables
    }
}

// MARK: - Models

/// A named checkpoint: a Hugging Face LLaVA folder on disk and how to prompt it.
public struct ModelDefinition: Sendable, Hashable {
    public var name: String
    /// The path as written in the spec.
    public var path: String
    /// The path resolved against the directory of the file that defined the model.
    public var resolvedPath: String
    public var dtype: ModelDType
    public var template: PromptTemplate
    public var preprocess: ImagePreprocessing
    /// Where the definition is (not part of what a run computes: never hash it).
    public var definedAt: SourceRange

    public init(name: String, path: String, resolvedPath: String, dtype: ModelDType = .auto,
                template: PromptTemplate, preprocess: ImagePreprocessing = .pad, definedAt: SourceRange) {
        self.name = name
        self.path = path
        self.resolvedPath = resolvedPath
        self.dtype = dtype
        self.template = template
        self.preprocess = preprocess
        self.definedAt = definedAt
    }
}

/// The dtype weights are held in; computation is always f32.
public enum ModelDType: String, Sendable, Hashable, CaseIterable {
    /// As stored in the checkpoint.
    case auto
    case f32, f16, bf16
}

/// How a question becomes the model's prompt.
public enum PromptTemplate: Sendable, Hashable {
    /// `USER: <image>\n{question} ASSISTANT:` (llava-hf).
    case llava15
    /// LLaVA's `llava_v1` conversation: the system prompt, then `USER: <image>\n{question} ASSISTANT:`.
    case llavaV1
    /// `<bos><start_of_turn>user\n<image>\n{question}<end_of_turn>\n<start_of_turn>model\n`.
    case gemma
    /// A template written in the spec, with `<image>` and `{question}` placeholders.
    case custom(String)

    /// The names a spec may use for the built-in templates.
    public enum Name: String, Sendable, CaseIterable {
        case llava15 = "llava-1.5"
        case llavaV1 = "llava-v1"
        case gemma
    }

    /// The spec spelling: a built-in name or the custom text.
    public var specValue: String {
        switch self {
        case .llava15: return Name.llava15.rawValue
        case .llavaV1: return Name.llavaV1.rawValue
        case .gemma: return Name.gemma.rawValue
        case .custom(let text): return text
        }
    }
}

/// How an image is made square before CLIP preprocessing.
public enum ImagePreprocessing: String, Sendable, Hashable, CaseIterable {
    /// Pad to square with the mean colour (LLaVA-1.5 and LLaVA-Gemma training).
    case pad
    /// Resize the shortest edge and centre-crop (llava-hf processors).
    case resize
}

// MARK: - Datasets

/// A named evaluation dataset: where its samples come from, how prompts end, what is scored.
public struct DatasetDefinition: Sendable, Hashable {
    public var name: String
    public var source: DatasetSource
    /// At most this many samples (the experiment's `limit` may lower it further).
    public var limit: Int?
    /// Appended to every question (a newline separates them); empty for none.
    public var promptSuffix: String
    /// What is scored, in the order the spec listed them (or the format's defaults).
    public var metrics: [Metric]
    public var definedAt: SourceRange

    public init(name: String, source: DatasetSource, limit: Int? = nil, promptSuffix: String,
                metrics: [Metric], definedAt: SourceRange) {
        self.name = name
        self.source = source
        self.limit = limit
        self.promptSuffix = promptSuffix
        self.metrics = metrics
        self.definedAt = definedAt
    }

    /// The kinds of answer its samples have (a synthetic suite mixes several).
    public var answerTypes: [AnswerType] { source.answerTypes }
}

/// Where a dataset's samples come from.
public enum DatasetSource: Sendable, Hashable {
    /// Generated by lcb's synthetic probe suite.
    case synthetic(SyntheticSuite)
    /// Read from files in a real benchmark's format.
    case files(DatasetFiles)

    public var answerTypes: [AnswerType] {
        switch self {
        case .synthetic(let suite): return suite.answerTypes
        case .files(let files): return [files.answerType]
        }
    }
}

/// lcb's own generated benchmark (rendered scenes with questions and reference answers).
public struct SyntheticSuite: Sendable, Hashable {
    public var suite: SyntheticSuiteName
    public var seed: Int
    /// Samples generated per probe.
    public var size: Int
    public var probes: [SyntheticProbe]

    public init(suite: SyntheticSuiteName = .shapes, seed: Int = 0, size: Int = 100,
                probes: [SyntheticProbe] = SyntheticProbe.allCases) {
        self.suite = suite
        self.seed = seed
        self.size = size
        self.probes = probes
    }

    /// Distinct answer types over the chosen probes, in probe order.
    public var answerTypes: [AnswerType] {
        var seen: [AnswerType] = []
        for probe in probes where !seen.contains(probe.answerType) { seen.append(probe.answerType) }
        return seen
    }
}

/// The synthetic suites lcb can generate.
public enum SyntheticSuiteName: String, Sendable, Hashable, CaseIterable {
    case shapes
}

/// The synthetic probes: one per capability of LVLM-Compress-Bench.
public enum SyntheticProbe: String, Sendable, Hashable, CaseIterable {
    case recognition, knowledge, captioning, spatial, reasoning, hallucination, illusion
    case toxicity, stereotypes, bias

    public var answerType: AnswerType {
        switch self {
        case .recognition, .knowledge, .spatial, .reasoning: return .short
        case .captioning: return .caption
        case .hallucination, .illusion: return .yesno
        case .toxicity, .stereotypes, .bias: return .counterfactual
        }
    }
}

/// A real benchmark on disk.
public struct DatasetFiles: Sendable, Hashable {
    public var format: DatasetFormat
    /// The path as written (a file or a folder, depending on the format).
    public var path: String
    /// The path resolved against the directory of the file that defined the dataset.
    public var resolvedPath: String
    /// The folder holding the images, when not beside the annotations.
    public var images: String?
    public var resolvedImages: String?
    /// The split (`adversarial` for POPE, `testdev-balanced` for GQA …); nil = the whole file.
    public var split: String?
    /// The kind of answer; fixed by the format except for `jsonl`.
    public var answerType: AnswerType

    public init(format: DatasetFormat, path: String, resolvedPath: String, images: String? = nil,
                resolvedImages: String? = nil, split: String? = nil, answerType: AnswerType) {
        self.format = format
        self.path = path
        self.resolvedPath = resolvedPath
        self.images = images
        self.resolvedImages = resolvedImages
        self.split = split
        self.answerType = answerType
    }
}

/// The on-disk formats lcb reads.
public enum DatasetFormat: String, Sendable, Hashable, CaseIterable {
    case pope, gqa, vqav2, mme, mmvp, hallusionbench, scienceqa
    case cocoCaptions = "coco-captions"
    case mmVet = "mm-vet"
    case counterfactualSets = "counterfactual-sets"
    case jsonl

    /// The answer type the format implies (`jsonl` declares its own; this is its default).
    public var answerType: AnswerType {
        switch self {
        case .pope, .mme, .hallusionbench: return .yesno
        case .gqa, .vqav2, .jsonl: return .short
        case .mmvp, .scienceqa: return .choice
        case .cocoCaptions: return .caption
        case .mmVet: return .open
        case .counterfactualSets: return .counterfactual
        }
    }

    /// LLaVA's evaluation suffix for the format.
    public var defaultPromptSuffix: String { answerType.defaultPromptSuffix }

    /// The official metrics, used when the spec lists none.
    public var defaultMetrics: [Metric] {
        switch self {
        case .pope: return [.accuracy, .f1]
        case .gqa: return [.exactMatch]
        case .vqav2: return [.vqaAccuracy]
        case .mme: return [.mmeScore]
        case .mmvp: return [.pairAccuracy]
        case .hallusionbench: return [.aAcc, .fAcc, .qAcc]
        case .scienceqa: return [.accuracy]
        case .cocoCaptions: return [.cider, .bleu4, .rougeL]
        case .mmVet: return [.judgeScore]
        case .counterfactualSets: return [.maxToxicity, .competencyRate]
        case .jsonl: return [.exactMatch]
        }
    }

    /// The splits a format defines, when it has a fixed set.
    public var knownSplits: [String]? {
        switch self {
        case .pope: return ["random", "popular", "adversarial"]
        case .mme: return ["perception", "cognition"]
        default: return nil
        }
    }
}

/// What kind of answer a sample expects; decides which metrics make sense.
public enum AnswerType: String, Sendable, Hashable, CaseIterable {
    /// LLaVA's evaluation suffix for this kind of answer ("" for free text).
    public var defaultPromptSuffix: String {
        switch self {
        case .yesno, .short: return "Answer the question using a single word or phrase."
        case .choice: return "Answer with the option's letter from the given choices directly."
        case .caption, .open, .counterfactual: return ""
        }
    }

    /// yes or no.
    case yesno
    /// A word or short phrase.
    case short
    /// An option letter.
    case choice
    /// A caption scored against references.
    case caption
    /// A free answer graded by a judge.
    case open
    /// Free text compared across a counterfactual image set.
    case counterfactual
}

/// A score lcb can compute, named as in specs and reports.
public enum Metric: String, Sendable, Hashable, CaseIterable {
    case exactMatch = "exact_match"
    case vqaAccuracy = "vqa_accuracy"
    case accuracy
    case precision, recall, f1
    case yesRatio = "yes_ratio"
    case mmeScore = "mme_score"
    case accPlus = "acc_plus"
    case pairAccuracy = "pair_accuracy"
    case aAcc = "aacc"
    case fAcc = "facc"
    case qAcc = "qacc"
    case cider, bleu1, bleu2, bleu3, bleu4
    case rougeL = "rouge_l"
    case judgeScore = "judge_score"
    case maxToxicity = "max_toxicity"
    case toxicitySpread = "toxicity_spread"
    case competencyRate = "competency_rate"
    case answerDisparity = "answer_disparity"
    case maxSkew = "max_skew"
    case kvBytesPerToken = "kv_bytes_per_token"
    case weightBytes = "weight_bytes"
    case tokensPerSecond = "tokens_per_second"

    /// Answer types the metric can score; nil = any (measurements of the run itself).
    public var answerTypes: Set<AnswerType>? {
        switch self {
        case .exactMatch: return [.short, .yesno, .choice]
        case .vqaAccuracy: return [.short]
        case .accuracy: return [.yesno, .choice]
        case .precision, .recall, .f1, .yesRatio, .mmeScore, .accPlus, .aAcc, .fAcc, .qAcc: return [.yesno]
        case .pairAccuracy: return [.choice, .yesno]
        case .cider, .bleu1, .bleu2, .bleu3, .bleu4, .rougeL: return [.caption]
        case .judgeScore: return [.open]
        case .maxToxicity, .toxicitySpread, .competencyRate, .answerDisparity, .maxSkew: return [.counterfactual]
        case .kvBytesPerToken, .weightBytes, .tokensPerSecond: return nil
        }
    }

    /// Formats whose structure the metric needs (image pairs, per-subtask folders …); nil = any format.
    public var requiredFormats: Set<DatasetFormat>? {
        switch self {
        case .mmeScore, .accPlus: return [.mme]
        case .pairAccuracy: return [.mmvp]
        case .aAcc, .fAcc, .qAcc: return [.hallusionbench]
        default: return nil
        }
    }

    /// False for losses and costs (bytes, toxicity), where lower is better.
    public var higherIsBetter: Bool {
        switch self {
        case .kvBytesPerToken, .weightBytes, .maxToxicity, .toxicitySpread, .answerDisparity, .maxSkew: return false
        default: return true
        }
    }

    /// True when `dataset` can report this metric.
    public func fits(_ dataset: DatasetDefinition) -> Bool {
        if let formats = requiredFormats {
            switch dataset.source {
            case .files(let files): if !formats.contains(files.format) { return false }
            case .synthetic(let suite):
                // The synthetic illusion probe is HallusionBench-shaped; nothing else has that structure.
                guard formats.contains(.hallusionbench), suite.probes.contains(.illusion) else { return false }
            }
        }
        guard let types = answerTypes else { return true }
        return dataset.answerTypes.contains(where: types.contains)
    }
}

// MARK: - Compression

/// A compression definition as written, before its lists are expanded.
public struct CompressionDefinition: Sendable, Hashable {
    public var name: String
    /// Names of the configurations it expands into, in expansion order.
    public var expandedNames: [String]
    public var definedAt: SourceRange

    public init(name: String, expandedNames: [String], definedAt: SourceRange) {
        self.name = name
        self.expandedNames = expandedNames
        self.definedAt = definedAt
    }
}

/// One concrete compression setting: KV-cache quantization, weight quantization, both or neither.
public struct CompressionConfiguration: Sendable, Hashable {
    /// The expanded name: `kivi`, or `kivi/bits=2` for one value of a list.
    public var name: String
    /// The definition it came from (`kivi`); `fp16` for the built-in baseline.
    public var definition: String
    /// The values picked from each list, in the order the lists appear (empty when nothing expanded).
    public var expandedValues: OrderedDictionary<String, String>
    /// nil = f16 KV cache.
    public var kv: KVCacheQuantization?
    /// nil = weights as stored.
    public var weights: WeightQuantization?

    public init(name: String, definition: String, expandedValues: OrderedDictionary<String, String> = [:],
                kv: KVCacheQuantization? = nil, weights: WeightQuantization? = nil) {
        self.name = name
        self.definition = definition
        self.expandedValues = expandedValues
        self.kv = kv
        self.weights = weights
    }

    /// The uncompressed baseline (uncompressed weights, f16 KV cache).
    public static let fp16 = CompressionConfiguration(name: "fp16", definition: "fp16")

    public var isBaseline: Bool { kv == nil && weights == nil }

    /// Every effective parameter with defaults filled in, as sorted `key=value` text: the input
    /// for content keys (the name is left out, so two spellings of one setting share results).
    public var canonicalParameters: [String] {
        var out: [String] = []
        if let kv { out += kv.canonicalParameters.map { "kv.\($0)" } }
        if let weights { out += weights.canonicalParameters.map { "weights.\($0)" } }
        return out.sorted()
    }
}

/// When KV-cache quantization acts (see docs/spec-language.md and DESIGN.md).
public enum KVRegime: String, Sendable, Hashable, CaseIterable {
    /// Prefill in full precision, store quantized; only decoding reads the quantized cache (KIVI, HF).
    case store
    /// Prefill the image prefix in full precision, store it quantized, prefill the question against it.
    case prefix
    /// Quantize K/V before every attention read, prefill included (llama.cpp).
    case attention
}

/// The bit widths quantizers support.
public let supportedBitWidths: [Int] = [2, 3, 4, 8]

/// A KV-cache quantization setting with every parameter resolved.
public struct KVCacheQuantization: Sendable, Hashable {
    public var method: KVMethod
    public var bits: Int
    public var regime: KVRegime

    public init(method: KVMethod, bits: Int, regime: KVRegime = .store) {
        self.method = method
        self.bits = bits
        self.regime = regime
    }

    public var canonicalParameters: [String] {
        ["bits=\(bits)", "regime=\(regime.rawValue)", "method=\(method.name.rawValue)"]
            + method.parameters.map { "\($0.key)=\($0.value)" }
    }
}

/// A KV-cache quantization method and its parameters.
public enum KVMethod: Sendable, Hashable {
    /// Asymmetric min–max over the whole tensor or each token (GEAR's `uniformquantization`).
    case uniform(scope: UniformKVScope)
    /// Dense-and-sparse: the top and bottom `outlierFraction/2` kept exact, the rest per-tensor uniform.
    case outlier(outlierFraction: Double)
    /// Keys per-channel in groups of `groupSize` tokens, values per-token in groups of `groupSize`
    /// channels; the newest `residual` tokens stay in full precision.
    case group(GroupKVParameters)
    /// KIVI: `group` with KIVI's defaults (G=32, R=128).
    case kivi(GroupKVParameters)
    /// GEAR: KIVI backbone + sparse outliers + low-rank error correction.
    case gear(GEARParameters)
    /// GEAR-L: GEAR without the sparse part.
    case gearL(GEARParameters)

    public var name: KVMethodName {
        switch self {
        case .uniform: return .uniform
        case .outlier: return .outlier
        case .group: return .group
        case .kivi: return .kivi
        case .gear: return .gear
        case .gearL: return .gearL
        }
    }

    /// Effective parameters by spec name, in a fixed order.
    public var parameters: [(key: String, value: String)] {
        switch self {
        case .uniform(let scope): return [("scope", scope.rawValue)]
        case .outlier(let fraction): return [("outlier_fraction", formatNumber(fraction))]
        case .group(let p), .kivi(let p):
            // The KIVI layout is written without `variant`, so keys from before FlexGen existed stay valid.
            if p.variant == .flexgen { return [("variant", p.variant.rawValue)] }
            return [("group_size", "\(p.groupSize)"), ("residual", "\(p.residual)")]
        case .gear(let p), .gearL(let p):
            return [("group_size", "\(p.groupSize)"), ("outlier_fraction", formatNumber(p.outlierFraction)),
                    ("rank", "\(p.rank)"), ("prefill_rank", "\(p.prefillRank)"),
                    ("iterations", "\(p.iterations)"), ("seed", "\(p.seed)")]
        }
    }
}

/// KV method names as written in specs.
public enum KVMethodName: String, Sendable, Hashable, CaseIterable {
    case uniform, outlier, group, kivi, gear
    case gearL = "gear-l"
}

/// What one min–max range covers in uniform KV quantization.
public enum UniformKVScope: String, Sendable, Hashable, CaseIterable {
    case perTensor = "per_tensor"
    case perToken = "per_token"
}

/// How `group` KV quantization forms its groups.
public enum GroupKVVariant: String, Sendable, Hashable, CaseIterable {
    /// KIVI: keys per channel in groups of `group_size` tokens, values per token in groups of
    /// `group_size` channels, the newest `residual` tokens in full precision.
    case kivi
    /// FlexGen (GEAR's `groupquantization`): one group per head_dim index over all tokens and
    /// heads of a stored chunk, keys and values alike; no window, no group size.
    case flexgen
}

/// Group (KIVI-style) KV parameters.
public struct GroupKVParameters: Sendable, Hashable {
    public var groupSize: Int
    /// Newest tokens kept in full precision; a multiple of `groupSize` (or 0).
    public var residual: Int
    /// `kivi` unless a `group` entry says `variant: flexgen` (then size and window do not apply).
    public var variant: GroupKVVariant

    public init(groupSize: Int, residual: Int, variant: GroupKVVariant = .kivi) {
        self.groupSize = groupSize
        self.residual = residual
        self.variant = variant
    }

    public static let groupDefaults = GroupKVParameters(groupSize: 128, residual: 0)
    public static let kiviDefaults = GroupKVParameters(groupSize: 32, residual: 128)
}

/// GEAR parameters (names follow the GEAR code's flags).
public struct GEARParameters: Sendable, Hashable {
    /// GEAR's full-precision window in tokens: fixed, not a parameter; `groupSize` must divide it.
    public static let residual = 64

    public var groupSize: Int
    /// Fraction of entries kept exact as sparse outliers (0 for GEAR-L).
    public var outlierFraction: Double
    /// Low-rank rank while decoding.
    public var rank: Int
    /// Low-rank rank for the prefill.
    public var prefillRank: Int
    /// Power-iteration steps.
    public var iterations: Int
    /// Seed of the power iteration's random start.
    public var seed: Int

    public init(groupSize: Int = 64, outlierFraction: Double = 0.02, rank: Int = 2, prefillRank: Int = 4,
                iterations: Int = 3, seed: Int = 0) {
        self.groupSize = groupSize
        self.outlierFraction = outlierFraction
        self.rank = rank
        self.prefillRank = prefillRank
        self.iterations = iterations
        self.seed = seed
    }
}

/// A weight quantization setting with every parameter resolved.
public struct WeightQuantization: Sendable, Hashable {
    public var method: WeightMethod
    public var bits: Int
    /// Which weights are quantized, in `WeightTarget.allCases` order.
    public var targets: [WeightTarget]

    public init(method: WeightMethod, bits: Int, targets: [WeightTarget] = [.lm]) {
        self.method = method
        self.bits = bits
        self.targets = targets
    }

    /// True when only language-model weights change (vision features can then be shared with FP16).
    public var leavesVisionUntouched: Bool { !targets.contains(.visionTower) && !targets.contains(.projector) }

    public var canonicalParameters: [String] {
        ["bits=\(bits)", "method=\(method.name.rawValue)", "targets=\(targets.map(\.rawValue).joined(separator: ","))"]
            + method.parameters.map { "\($0.key)=\($0.value)" }
    }
}

/// Which weights a weight configuration quantizes.
public enum WeightTarget: String, Sendable, Hashable, CaseIterable {
    /// The language model's linear layers (attention and MLP projections).
    case lm
    case lmHead = "lm_head"
    /// Never valid: the checker rejects it (the engine reads the embedding table as stored).
    case embeddings
    case projector
    case visionTower = "vision_tower"

    /// The targets a spec may name (every case but `embeddings`).
    public static let supported: [WeightTarget] = [.lm, .lmHead, .projector, .visionTower]
}

/// A weight quantization method and its parameters.
public enum WeightMethod: Sendable, Hashable {
    /// Round-to-nearest, asymmetric with a zero-point.
    case rtn(scope: RTNScope, groupSize: Int)
    /// Dense-and-sparse RTN: the top and bottom `outlierFraction/2` kept exact.
    case outlier(outlierFraction: Double)
    case awq(AWQParameters)
    case gptq(GPTQParameters)

    public var name: WeightMethodName {
        switch self {
        case .rtn: return .rtn
        case .outlier: return .outlier
        case .awq: return .awq
        case .gptq: return .gptq
        }
    }

    public var parameters: [(key: String, value: String)] {
        switch self {
        case .rtn(let scope, let groupSize):
            return [("scope", scope.rawValue)] + (scope == .perGroup ? [("group_size", "\(groupSize)")] : [])
        case .outlier(let fraction): return [("outlier_fraction", formatNumber(fraction))]
        case .awq(let p):
            return [("group_size", "\(p.groupSize)"), ("grid", "\(p.grid)"),
                    ("calibration", p.calibration), ("calibration_samples", "\(p.calibrationSamples)")]
        case .gptq(let p):
            return [("group_size", "\(p.groupSize)"), ("damp", formatNumber(p.damp)), ("block", "\(p.block)"),
                    ("calibration", p.calibration), ("calibration_samples", "\(p.calibrationSamples)")]
        }
    }
}

/// Weight method names as written in specs.
public enum WeightMethodName: String, Sendable, Hashable, CaseIterable {
    case rtn, outlier, awq, gptq
}

/// What one RTN scale covers.
public enum RTNScope: String, Sendable, Hashable, CaseIterable {
    case perTensor = "per_tensor"
    case perChannel = "per_channel"
    case perGroup = "per_group"
}

/// AWQ parameters.
public struct AWQParameters: Sendable, Hashable {
    public var groupSize: Int
    /// Grid points for the scale exponent α = i/grid.
    public var grid: Int
    /// The dataset whose samples calibrate the activation statistics.
    public var calibration: String
    public var calibrationSamples: Int

    public init(groupSize: Int = 128, grid: Int = 20, calibration: String, calibrationSamples: Int = 128) {
        self.groupSize = groupSize
        self.grid = grid
        self.calibration = calibration
        self.calibrationSamples = calibrationSamples
    }
}

/// GPTQ parameters.
public struct GPTQParameters: Sendable, Hashable {
    public var groupSize: Int
    /// Dampening as a fraction of the Hessian's mean diagonal.
    public var damp: Double
    /// Columns per lazy-update block.
    public var block: Int
    public var calibration: String
    public var calibrationSamples: Int

    public init(groupSize: Int = 128, damp: Double = 0.01, block: Int = 128, calibration: String,
                calibrationSamples: Int = 128) {
        self.groupSize = groupSize
        self.damp = damp
        self.block = block
        self.calibration = calibration
        self.calibrationSamples = calibrationSamples
    }
}

// MARK: - Experiments and tables

/// A grid: every model × dataset × compression configuration, with generation settings.
public struct Experiment: Sendable, Hashable {
    public var name: String
    public var models: [String]
    public var datasets: [String]
    /// Expanded configuration names (a definition name stands for all of its expansions).
    public var compression: [String]
    public var generation: GenerationSettings
    /// At most this many samples per dataset (applied after the dataset's own limit).
    public var limit: Int?
    public var definedAt: SourceRange

    public init(name: String, models: [String], datasets: [String], compression: [String],
                generation: GenerationSettings = GenerationSettings(), limit: Int? = nil, definedAt: SourceRange) {
        self.name = name
        self.models = models
        self.datasets = datasets
        self.compression = compression
        self.generation = generation
        self.limit = limit
        self.definedAt = definedAt
    }

    /// models × datasets × configurations.
    public var cellCount: Int { models.count * datasets.count * compression.count }
}

/// Greedy decoding settings.
public struct GenerationSettings: Sendable, Hashable {
    public var maxNewTokens: Int
    /// Extra stop strings (the template's own end-of-turn always stops).
    public var stop: [String]

    public init(maxNewTokens: Int = 32, stop: [String] = []) {
        self.maxNewTokens = maxNewTokens
        self.stop = stop
    }
}

/// A table to render from an experiment's results.
public struct TableDefinition: Sendable, Hashable {
    public var name: String
    public var experiments: [String]
    /// Dimensions down the side, outermost first.
    public var rows: [TableDimension]
    /// Dimensions across the top, outermost first.
    public var columns: [TableDimension]
    /// The metrics shown for each dataset, by dataset name, in table order.
    public var metrics: OrderedDictionary<String, [Metric]>
    /// The configuration that deltas are taken against; nil = no deltas.
    public var baseline: String?
    public var formats: [TableFormat]
    public var decimals: Int
    /// Show ± standard errors.
    public var standardErrors: Bool
    public var caption: String?
    public var label: String?
    public var definedAt: SourceRange

    public init(name: String, experiments: [String], rows: [TableDimension] = [.compression],
                columns: [TableDimension] = [.dataset, .metric], metrics: OrderedDictionary<String, [Metric]>,
                baseline: String? = nil, formats: [TableFormat] = [.md], decimals: Int = 2,
                standardErrors: Bool = false, caption: String? = nil, label: String? = nil, definedAt: SourceRange) {
        self.name = name
        self.experiments = experiments
        self.rows = rows
        self.columns = columns
        self.metrics = metrics
        self.baseline = baseline
        self.formats = formats
        self.decimals = decimals
        self.standardErrors = standardErrors
        self.caption = caption
        self.label = label
        self.definedAt = definedAt
    }
}

/// What a table's rows or columns range over.
public enum TableDimension: String, Sendable, Hashable, CaseIterable {
    case model, dataset, compression, metric
}

/// Output formats of a table.
public enum TableFormat: String, Sendable, Hashable, CaseIterable {
    case md, csv, tex
}

/// Numbers as the spec would write them: `0.02`, `1e-05` stays `1e-05`, `4.0` becomes `4`.
func formatNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return "\(value)"
}
