import Foundation

/// A loaded checkpoint folder: the language model and, for LLaVA, the vision encoder.
///
/// This is the engine's front door:
/// ```swift
/// let model = try Model(directory: url)
/// let features = try model.imageFeatures(pixelValues: pixels)      // cacheable per image
/// let cache = model.makeCache()
/// let logits = try model.prefill(tokens: promptIds, images: [features], cache: cache)
/// let output = try model.generateGreedy(cache: cache, firstLogits: logits, maxNewTokens: 64)
/// ```
/// Prompt ids carry one image-token id per `<image>` placeholder; `prefill` expands each into
/// the image's embeddings. Not thread-safe (scratch buffers); one instance per thread.
public final class Model {
    public let directory: URL
    public let config: ModelConfig
    public let weights: CheckpointWeights
    public let language: LanguageModel
    /// The CLIP tower and projector; nil for text-only checkpoints.
    public var vision: LlavaVisionEncoder?
    /// Whether image features get the language model's embedding scale (Gemma's √hidden) when they
    /// are spliced into the prompt. transformers 5 does not scale them (`false`, the default, which
    /// the fixtures verify); transformers 4.38–4.4x scaled all input embeddings, which is how the
    /// original LLaVA-Gemma was trained. No effect on Llama (no embedding scale).
    public var scalesImageFeatures = false

    /// Loads `config.json` and the safetensors weights from `directory` (memory-mapped; the
    /// mapping lives as long as the model).
    public init(directory: URL) throws {
        self.directory = directory
        config = try ModelRegistry.config(directory: directory)
        switch config {
        case .causalLM(let text):
            weights = try CheckpointWeights(directory: directory) { TensorNames.canonical($0, textOnly: true) }
            language = try LanguageModel(config: text, weights: weights, tied: text.tieWordEmbeddings)
            vision = nil
        case .llava(let llava):
            weights = try CheckpointWeights(directory: directory) { TensorNames.canonical($0, textOnly: false) }
            language = try LanguageModel(config: llava.text, weights: weights, tied: llava.tieWordEmbeddings)
            vision = try LlavaVisionEncoder(config: llava, weights: weights)
        }
    }

    /// The `<image>` placeholder id, for LLaVA models.
    public var imageTokenId: Int? {
        if case .llava(let llava) = config { return llava.imageTokenId }
        return nil
    }

    /// Ids that end generation by default: the config's eos ids.
    public var eosTokenIds: [Int] { config.text.eosTokenIds }

    /// A fresh f16 KV cache for this model ("FP16 baseline").
    public func makeCache(capacity: Int = 0) -> F16KVCache { language.makeCache(capacity: capacity) }

    /// Vision tower + projector for pixel values `[3, size, size]` (CHW, already normalised).
    public func imageFeatures(pixelValues: [Float]) throws -> ImageFeatures {
        guard let vision else { throw GenerationError.notMultimodal }
        return try vision.imageFeatures(pixelValues: pixelValues)
    }

    /// Input embeddings `[n, hidden]` for prompt ids with each image-token id replaced by the
    /// matching image's features (in order). Token embeddings carry Gemma's √hidden scale; image
    /// features do not, as in transformers 5, unless `scalesImageFeatures` is set.
    public func inputEmbeddings(tokens: [Int], images: [ImageFeatures]) throws -> [Float] {
        let placeholders = imageTokenId.map { id in tokens.filter { $0 == id }.count } ?? 0
        guard placeholders == images.count else {
            if !images.isEmpty && vision == nil { throw GenerationError.notMultimodal }
            throw GenerationError.imageCountMismatch(placeholders: placeholders, images: images.count)
        }
        let h = language.config.hiddenSize
        guard placeholders > 0, let imageId = imageTokenId else { return try language.embed(tokens) }
        var result: [Float] = []
        result.reserveCapacity((tokens.count - placeholders + images.reduce(0) { $0 + $1.count }) * h)
        var next = 0
        var run: [Int] = []
        for token in tokens {
            if token == imageId {
                result += try language.embed(run)
                run.removeAll(keepingCapacity: true)
                let image = images[next]
                guard image.dimension == h else {
                    throw GenerationError.imageFeatureShape("image \(next) has width \(image.dimension); the language model's hidden size is \(h)")
                }
                if scalesImageFeatures, let scale = language.config.embeddingScale {
                    result += image.values.map { $0 * scale }
                } else {
                    result += image.values
                }
                next += 1
            } else {
                run.append(token)
            }
        }
        result += try language.embed(run)
        return result
    }

    /// Prefills `cache` with the prompt (images spliced in); returns the last position's logits.
    public func prefill(tokens: [Int], images: [ImageFeatures] = [], cache: any KVCache) throws -> [Float] {
        try language.prefill(embeddings: inputEmbeddings(tokens: tokens, images: images), cache: cache)
    }

    /// One decode step: feeds `token`, returns the logits for the next position.
    public func decode(token: Int, cache: any KVCache) throws -> [Float] {
        try language.decode(token: token, cache: cache)
    }

    /// Greedy continuation from `firstLogits` (a prefill's result), stopping on `stopTokenIds`
    /// (default: the config's eos ids) or after `maxNewTokens`.
    public func generateGreedy(
        cache: any KVCache, firstLogits: [Float], maxNewTokens: Int, stopTokenIds: Set<Int>? = nil
    ) throws -> GreedyOutput {
        try GreedyDecoding.run(
            language: language, cache: cache, firstLogits: firstLogits, maxNewTokens: maxNewTokens,
            stopTokenIds: stopTokenIds ?? Set(eosTokenIds))
    }

    /// Sizes and counts for `lcb inspect`, memory reports and the cost model.
    public var facts: ModelFacts { ModelFacts(model: self) }
}
