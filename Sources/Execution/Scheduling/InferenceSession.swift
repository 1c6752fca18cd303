import Engine
import Foundation
import Planning
import SpecLanguage

/// Vision tower + projector output for one image: `[tokens, width]` float32, row-major.
public struct VisionFeatures: Sendable, Equatable {
    public var tokens: Int
    public var width: Int
    public var values: [Float]

    public init(tokens: Int, width: Int, values: [Float]) {
        precondition(values.count == tokens * width, "feature values do not match their shape")
        self.tokens = tokens
        self.width = width
        self.values = values
    }

    /// The cache payload: tokens and width (UInt32, little-endian), then the floats' bits.
    public var payload: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + values.count * 4)
        appendInteger(UInt32(tokens), to: &bytes)
        appendInteger(UInt32(width), to: &bytes)
        for value in values { appendInteger(value.bitPattern, to: &bytes) }
        return bytes
    }

    /// Decodes a payload; nil when its length does not match its shape.
    public init?(payload bytes: [UInt8]) {
        guard bytes.count >= 8 else { return nil }
        let tokens = Int(readInteger(bytes, at: 0, as: UInt32.self))
        let width = Int(readInteger(bytes, at: 4, as: UInt32.self))
        guard bytes.count == 8 + tokens * width * 4 else { return nil }
        var values = [Float](repeating: 0, count: tokens * width)
        for index in values.indices {
            values[index] = Float(bitPattern: readInteger(bytes, at: 8 + index * 4, as: UInt32.self))
        }
        self.init(tokens: tokens, width: width, values: values)
    }
}

/// One calibration input for AWQ or GPTQ: a question (with the dataset's suffix) and its image.
public struct CalibrationSample: Sendable, Hashable {
    public var userText: String
    public var image: URL?

    public init(userText: String, image: URL?) {
        self.userText = userText
        self.image = image
    }
}

/// A prompt's token ids, split where the `prefix` regime splits it.
public struct PromptIDs: Sendable, Equatable {
    /// Through the (last) image placeholder; before the question when there is no image.
    public var prefix: [Int]
    /// The question and the template's closing text.
    public var question: [Int]

    public init(prefix: [Int], question: [Int]) {
        self.prefix = prefix
        self.question = question
    }

    public var full: [Int] { prefix + question }
}

/// What greedy generation produced.
public struct GeneratedAnswer: Sendable, Equatable {
    /// Generated ids, the stop token included when one was hit.
    public var tokens: [Int]
    /// Decoded text without the stop token and cut at the first stop string.
    public var text: String
    /// Bytes the KV cache held at the end.
    public var kvBytes: Int
    /// Tokens the KV cache held at the end (prompt with image tokens, plus generated ones).
    public var kvTokens: Int

    public init(tokens: [Int], text: String, kvBytes: Int, kvTokens: Int = 0) {
        self.tokens = tokens
        self.text = text
        self.kvBytes = kvBytes
        self.kvTokens = kvTokens
    }
}

/// The seam between the scheduler and the inference engine: one model with one weight
/// configuration, ready to encode images, prefill and decode.
///
/// The scheduler decides what is shared (a prefilled cache continued for several KV
/// configurations, a prefix continued with several questions); a session only does the steps.
/// `EngineInferenceBackend` implements it over Engine and Quantization; tests may use a double.
public protocol InferenceSession: AnyObject {
    /// True when the session read its calibrated layers from the `quantized-weights` cache.
    var loadedStoredWeights: Bool { get }

    /// Bytes of the model's linear layers as this session runs them (packed when quantized): the
    /// language model's, the vision tower's and the projector's — `ModelWeightQuantization.linearBytes`.
    var weightBytes: Int { get }

    /// Vision tower + projector output for the image file at `image`.
    func visionFeatures(image: URL) throws -> VisionFeatures

    /// The prompt's ids (one image-token id per image placeholder), split after the image.
    func tokenize(_ prompt: RenderedPrompt, hasImage: Bool) throws -> PromptIDs

    /// An empty cache: f16 when `kv` is nil, otherwise quantized from the start (`attention`).
    func makeCache(kv: KVCacheQuantization?) throws -> any KVCache

    /// Appends `tokens` (image placeholders replaced by `images`) to `cache`; returns the logits
    /// of the last position.
    func prefill(_ tokens: [Int], images: [VisionFeatures], cache: any KVCache) throws -> [Float]

    /// An independent copy of a full-precision `cache`, stored with `kv` (a plain copy when nil).
    func quantizedCopy(of cache: any KVCache, kv: KVCacheQuantization?) throws -> any KVCache

    /// Greedy generation continuing `cache` from `firstLogits`.
    func generate(cache: any KVCache, firstLogits: [Float], generation: GenerationSettings) throws -> GeneratedAnswer
}

/// Builds sessions: one per (model, weight configuration) the plan needs.
public protocol InferenceBackend: Sendable {
    /// `calibration` holds the calibration dataset's samples when `weights` is AWQ or GPTQ.
    func session(model: PlannedModel, weights: WeightQuantization?, calibration: [CalibrationSample]) throws
        -> any InferenceSession

    /// As above; a calibrated configuration's packed layers may be read from and written to
    /// `stored` (the `quantized-weights` cache under the weight-quantization job's key).
    func session(model: PlannedModel, weights: WeightQuantization?, calibration: [CalibrationSample],
                 stored: StoredQuantizedWeights?) throws -> any InferenceSession
}

extension InferenceSession {
    public var loadedStoredWeights: Bool { false }
}

extension InferenceBackend {
    /// Backends that keep nothing on disk ignore `stored`.
    public func session(model: PlannedModel, weights: WeightQuantization?, calibration: [CalibrationSample],
                        stored: StoredQuantizedWeights?) throws -> any InferenceSession {
        try session(model: model, weights: weights, calibration: calibration)
    }
}

/// Where the packed layers of one calibrated weight configuration live on disk.
public struct StoredQuantizedWeights: Sendable {
    public var cache: ArtifactCache
    /// The planner's weight-quantization job key (weights, configuration, calibration content).
    public var key: String

    public init(cache: ArtifactCache, key: String) {
        self.cache = cache
        self.key = key
    }
}
