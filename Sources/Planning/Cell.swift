import SpecLanguage

/// Where a cell came from: names only, for reports. Never part of a content key.
public struct CellLabel: Sendable, Hashable {
    public var specFile: String
    public var experiment: String
    public var model: String
    /// The compression configuration's name (`fp16` for the baseline).
    public var compression: String
    public var dataset: String

    public init(specFile: String, experiment: String, model: String, compression: String, dataset: String) {
        self.specFile = specFile
        self.experiment = experiment
        self.model = model
        self.compression = compression
        self.dataset = dataset
    }
}

/// One point of an experiment grid: model × weight config × KV config × dataset × generation.
public struct Cell: Sendable, Hashable {
    public var model: ModelDescriptor
    /// Nil: the checkpoint's weights as stored.
    public var weights: WeightQuantization?
    /// Nil: an f16 KV cache (the baseline).
    public var kv: KVCacheQuantization?
    public var dataset: DatasetDescriptor
    public var generation: GenerationSettings
    /// The experiment's sample limit, applied after the dataset's own.
    public var sampleLimit: Int?
    /// What the weight configuration's calibration dataset is (`DatasetSource.canonical`), when
    /// it names one; keys hash this instead of the name.
    public var calibration: CanonicalValue?
    public var label: CellLabel

    public init(model: ModelDescriptor, weights: WeightQuantization?, kv: KVCacheQuantization?, dataset: DatasetDescriptor,
                generation: GenerationSettings, sampleLimit: Int? = nil, calibration: CanonicalValue? = nil,
                label: CellLabel) {
        self.model = model
        self.weights = weights
        self.kv = kv
        self.dataset = dataset
        self.generation = generation
        self.sampleLimit = sampleLimit
        self.calibration = calibration
        self.label = label
    }

    /// How the cell's KV cache meets its prompt. The baseline's f16 cache behaves as `store`: a
    /// full-precision prefill stored at f16, which is why it shares prefills with `store` configs.
    public var regime: KVRegime { kv?.regime ?? .store }
}
