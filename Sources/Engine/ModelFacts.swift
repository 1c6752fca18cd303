/// Facts about a loaded model: shape, parameter counts, storage, KV-cache cost.
public struct ModelFacts: Sendable, Equatable {
    /// `llava` or the text `model_type`.
    public var modelType: String
    /// `llama` or `gemma`.
    public var languageArchitecture: String
    public var layers: Int
    public var hiddenSize: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var intermediateSize: Int
    public var vocabSize: Int
    public var tiedEmbeddings: Bool
    /// Decoder parameters including embeddings (and lm_head when untied).
    public var languageParameters: Int
    /// CLIP tower parameters actually used (layers past the feature layer are not loaded) and projector.
    public var visionParameters: Int
    public var projectorParameters: Int
    public var visionLayersUsed: Int?
    public var imageTokenCount: Int?
    /// Bytes of one token's keys and values in an f16 cache, all layers.
    public var kvBytesPerTokenF16: Int
    /// Stored tensors per dtype name ("F32", "F16", "BF16"): count, elements, bytes — the whole
    /// checkpoint, including tensors the engine does not read.
    public var storage: [String: StorageEntry]

    public struct StorageEntry: Sendable, Equatable, Encodable {
        public var tensors: Int
        public var elements: Int
        public var bytes: Int
    }

    public var totalParameters: Int { languageParameters + visionParameters + projectorParameters }
    public var storedBytes: Int { storage.values.reduce(0) { $0 + $1.bytes } }

    init(model: Model) {
        let text = model.language.config
        modelType = {
            if case .llava = model.config { return "llava" }
            return text.architecture
        }()
        languageArchitecture = text.architecture
        layers = text.layerCount
        hiddenSize = text.hiddenSize
        heads = text.heads
        kvHeads = text.kvHeads
        headDim = text.headDim
        intermediateSize = text.intermediateSize
        vocabSize = text.vocabSize
        tiedEmbeddings = model.language.isTied
        languageParameters = model.language.parameterCount
        if let vision = model.vision {
            visionParameters = vision.tower.parameterCount
            projectorParameters = vision.parameterCount - vision.tower.parameterCount
            visionLayersUsed = vision.tower.layers.count
            imageTokenCount = vision.config.imageTokenCount
        } else {
            visionParameters = 0
            projectorParameters = 0
        }
        kvBytesPerTokenF16 = text.kvBytesPerTokenF16
        var storage: [String: StorageEntry] = [:]
        for (dtype, entry) in model.weights.storageSummary() {
            storage[dtype.rawValue] = StorageEntry(tensors: entry.tensors, elements: entry.elements, bytes: entry.bytes)
        }
        self.storage = storage
    }
}
