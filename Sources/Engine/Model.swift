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
        generationEosTokenIds = try Self.generationEos(directory.appendingPathComponent("generation_config.json"))
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

    private static func generationEos(_ url: URL) throws -> [Int]? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CheckpointError.invalidConfig(url, "not a JSON object; fix or delete the file")
        }
        switch json["eos_token_id"] {
        case nil: return nil
        case let id as Int: return [id]
        case let ids as [Int]: return ids
        default: throw CheckpointError.invalidConfig(url, "eos_token_id must be an integer or a list of integers")
        }
    }

    /// The `<image>` placeholder id, for LLaVA models.
    public var imageTokenId: Int? {
        if case .llava(let llava) = config { return llava.imageTokenId }
        return nil
    }

    /// `eos_token_id` of `generation_config.json`, when the folder has one.
    public let generationEosTokenIds: [Int]?

    /// Ids that end generation by default, as transformers' `generate` picks them: those of
    /// `generation_config.json` if present, else the config's.
    public var eosTokenIds: [Int] { generationEosTokenIds ?? config.text.eosTokenIds }

    /// A fresh f16 KV cache for this model ("FP16 baseline").
    public func makeCache(capacity: Int = 0) -> F16KVCache { language.makeCache(capacity: capacity) }

    /// Vision tower + projector for pixel values `[3, size, size]` (CHW, already normalised).
    public func imageFeatures(pixelValues: [Float]) throws -> ImageFeatures {
        guard let vision else { throw GenerationError.notMultimodal }
        return try vision.imageFeatures(pixelValues: pixelValues)
    }

    /// Input embeddings `[n, hidden]` for prompt ids with each image placeholder replaced by the
    /// matching image's features (in order). A placeholder is one image-token id, or a run of
    /// `imageTokenCount` of them (prompts a Hugging Face processor already expanded). Token
    /// embeddings carry Gemma's √hidden scale; image features do not, as in transformers 5, unless
    /// `scalesImageFeatures` is set.
    public func inputEmbeddings(tokens: [Int], images: [ImageFeatures]) throws -> [Float] {
        guard let imageId = imageTokenId, let vision else {
            if !images.isEmpty { throw GenerationError.notMultimodal }
            return try language.embed(tokens)
        }
        // Split the prompt into text runs and runs of image-token ids.
        var segments: [(text: ArraySlice<Int>, images: Int)] = []
        var index = 0
        var placeholders = 0
        let perImage = vision.config.imageTokenCount
        while index < tokens.count {
            let textEnd = tokens[index...].firstIndex(of: imageId) ?? tokens.count
            var runEnd = textEnd
            while runEnd < tokens.count && tokens[runEnd] == imageId { runEnd += 1 }
            let run = runEnd - textEnd
            var count = run
            if run > 1 {
                guard run % perImage == 0 else {
                    throw GenerationError.imageFeatureShape(
                        "the prompt has a run of \(run) image tokens; use one image token per image, or \(perImage) (already expanded)")
                }
                count = run / perImage
            }
            segments.append((tokens[index..<textEnd], count))
            placeholders += count
            index = runEnd
        }
        guard placeholders == images.count else {
            throw GenerationError.imageCountMismatch(placeholders: placeholders, images: images.count)
        }
        let h = language.config.hiddenSize
        var result: [Float] = []
        result.reserveCapacity((tokens.count + images.reduce(0) { $0 + $1.count }) * h)
        var next = 0
        for segment in segments {
            result += try language.embed(Array(segment.text))
            for _ in 0..<segment.images {
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
            }
        }
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
