import Dispatch
import Engine

/// The engine's f16 cache can be read back, so a quantized cache can take over its contents
/// (the `store` and `prefix` regimes).
extension F16KVCache: ReadableKVCache {}

/// A prompt turned into the language model's input embeddings, split where the `prefix` regime
/// splits it: the prefix through the last image position, then the question.
///
/// Token embeddings do not depend on their neighbours, so the two parts concatenated are exactly
/// `model.inputEmbeddings(tokens:images:)` of the whole prompt.
public struct RegimePrompt: Sendable {
    /// `[prefixPositions, hidden]`: BOS, the template's opening, the image features. Empty without an image.
    public let prefixEmbeddings: [Float]
    /// `[questionPositions, hidden]`: the text after the last image through the template's closing.
    public let questionEmbeddings: [Float]
    public let hiddenSize: Int

    public init(prefixEmbeddings: [Float], questionEmbeddings: [Float], hiddenSize: Int) {
        precondition(hiddenSize > 0 && prefixEmbeddings.count % hiddenSize == 0 && questionEmbeddings.count % hiddenSize == 0,
                     "embeddings must be whole rows of hiddenSize")
        self.prefixEmbeddings = prefixEmbeddings
        self.questionEmbeddings = questionEmbeddings
        self.hiddenSize = hiddenSize
    }

    /// Embeds `prompt` (one image-token id per image, as `PromptTemplate.encode` gives it) with
    /// `images` spliced in, split after the last image token.
    public init(model: Model, prompt: PromptTokens, images: [ImageFeatures]) throws {
        let prefix = Array(prompt.imagePrefix)
        let question = Array(prompt.question)
        hiddenSize = model.language.config.hiddenSize
        prefixEmbeddings = prefix.isEmpty && images.isEmpty ? [] : try model.inputEmbeddings(tokens: prefix, images: images)
        questionEmbeddings = question.isEmpty ? [] : try model.inputEmbeddings(tokens: question, images: [])
    }

    public var prefixPositions: Int { prefixEmbeddings.count / hiddenSize }
    public var questionPositions: Int { questionEmbeddings.count / hiddenSize }
    /// Prompt positions after image expansion.
    public var positions: Int { prefixPositions + questionPositions }
    /// The whole prompt, `[positions, hidden]`.
    public var embeddings: [Float] { prefixEmbeddings + questionEmbeddings }
}

/// A full-precision prefill that many KV configurations continue from (the planner's shared prefill).
///
/// Under `store` it covers the whole prompt and carries the last position's logits; under
/// `prefix` it covers the image prefix only. The cache is never modified: each continuation
/// quantizes (or copies) it first.
public struct SharedPrefill: @unchecked Sendable {
    public enum Coverage: Sendable, Equatable {
        case wholePrompt
        case prefix
    }

    public let coverage: Coverage
    /// The f16 cache holding the covered positions. Treat as read-only.
    public let cache: F16KVCache
    /// The last covered position's logits (nil when nothing was covered: a `prefix` prefill of a
    /// prompt without an image).
    public let logits: [Float]?
    public let seconds: Double
}

/// A prefilled cache ready for decoding, and the logits the first generated token comes from.
public struct PrefilledCache {
    public let cache: any KVCache
    public let logits: [Float]
    /// Prefill time spent in this step (for a continuation: conversion + question prefill only).
    public let seconds: Double
}

/// Greedy generation with a KV-cache configuration applied in its regime.
public struct RegimeGenerationResult: Sendable {
    /// Logits of the last prompt position after prefill (what the first token comes from).
    public var promptLogits: [Float]
    public var promptPositions: Int
    public var output: GreedyOutput
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    /// Decode steps run (generated tokens fed back).
    public var decodeSteps: Int
    /// Bytes the cache holds at the end (`byteCount`), and tokens it holds.
    public var cacheBytes: Int
    public var cacheTokens: Int
}

/// Runs a language model with a KV-cache quantization configuration in the regime it names.
///
/// - `attention`: an empty `QuantizedKVCache` receives the whole prefill; every attention call
///   reads quantized K/V.
/// - `store`: the prompt is prefilled into an f16 cache, whose contents become a
///   `QuantizedKVCache`; decoding reads it. The first token is exactly FP16's.
/// - `prefix`: the image prefix is prefilled into an f16 cache and converted; the question is
///   prefilled against the quantized prefix, then decoding. Without an image the prefix is empty
///   and this equals `attention`.
///
/// A nil configuration is the FP16 baseline (`F16KVCache`) in every regime. The steps are public
/// so a runner can prefill once (`sharedPrefill`) and `continue` it for many configurations.
public enum KVRegimeGeneration {
    /// The f16 prefill that `regime` shares between configurations: the whole prompt (`store`) or
    /// the image prefix (`prefix`). `attention` shares nothing and is refused.
    public static func sharedPrefill(
        model: Model, prompt: RegimePrompt, regime: KVQuantizationRegime, extraCapacity: Int = 0
    ) throws -> SharedPrefill {
        var clock = Lap()
        let cache = model.makeCache(capacity: prompt.positions + extraCapacity)
        switch regime {
        case .attention:
            throw KVCacheQuantizationError("the attention regime quantizes from the first token; it has no full-precision prefill to share")
        case .store:
            let logits = try model.language.prefill(embeddings: prompt.embeddings, cache: cache)
            return SharedPrefill(coverage: .wholePrompt, cache: cache, logits: logits, seconds: clock.lap())
        case .prefix:
            let logits = prompt.prefixEmbeddings.isEmpty
                ? nil : try model.language.prefill(embeddings: prompt.prefixEmbeddings, cache: cache)
            return SharedPrefill(coverage: .prefix, cache: cache, logits: logits, seconds: clock.lap())
        }
    }

    /// A decodable cache for `config` (nil = f16) continued from `shared`; `shared` is unchanged.
    /// `config`'s regime must be the one `shared` was made for.
    public static func `continue`(
        _ shared: SharedPrefill, model: Model, prompt: RegimePrompt, config: KVQuantizationConfig?
    ) throws -> PrefilledCache {
        if let config, config.regime != (shared.coverage == .wholePrompt ? .store : .prefix) {
            throw KVCacheQuantizationError(
                "a \(shared.coverage == .wholePrompt ? "store" : "prefix")-regime prefill cannot continue '\(config.canonicalDescription)'; prefill once per regime")
        }
        var clock = Lap()
        let cache: any KVCache = try config.map { try QuantizedKVCache(config: $0, copying: shared.cache) } ?? shared.cache.copy()
        switch shared.coverage {
        case .wholePrompt:
            guard let logits = shared.logits else { throw KVCacheQuantizationError("a whole-prompt prefill has logits") }
            return PrefilledCache(cache: cache, logits: logits, seconds: clock.lap())
        case .prefix:
            guard !prompt.questionEmbeddings.isEmpty else {
                // The prompt ends with the image: the prefix prefill's logits start the answer.
                guard let logits = shared.logits else { throw GenerationError.emptyInput }
                return PrefilledCache(cache: cache, logits: logits, seconds: clock.lap())
            }
            let logits = try model.language.prefill(embeddings: prompt.questionEmbeddings, cache: cache)
            return PrefilledCache(cache: cache, logits: logits, seconds: clock.lap())
        }
    }

    /// Prefills `prompt` for `config` in its regime (nil = the FP16 baseline, one f16 prefill).
    public static func prefill(
        model: Model, prompt: RegimePrompt, config: KVQuantizationConfig?, extraCapacity: Int = 0
    ) throws -> PrefilledCache {
        guard let config else {
            var clock = Lap()
            let cache = model.makeCache(capacity: prompt.positions + extraCapacity)
            let logits = try model.language.prefill(embeddings: prompt.embeddings, cache: cache)
            return PrefilledCache(cache: cache, logits: logits, seconds: clock.lap())
        }
        switch config.regime {
        case .attention:
            var clock = Lap()
            let c = model.language.config
            let cache = try QuantizedKVCache(config: config, layerCount: c.layerCount, kvHeads: c.kvHeads, headDim: c.headDim)
            let logits = try model.language.prefill(embeddings: prompt.embeddings, cache: cache)
            return PrefilledCache(cache: cache, logits: logits, seconds: clock.lap())
        case .store, .prefix:
            let shared = try sharedPrefill(model: model, prompt: prompt, regime: config.regime)
            let continued = try self.continue(shared, model: model, prompt: prompt, config: config)
            return PrefilledCache(cache: continued.cache, logits: continued.logits, seconds: shared.seconds + continued.seconds)
        }
    }

    /// Greedy decoding from a prefilled cache (the cache is advanced).
    public static func decode(
        model: Model, prefilled: PrefilledCache, promptPositions: Int, maxNewTokens: Int, stopTokenIds: Set<Int>
    ) throws -> RegimeGenerationResult {
        var clock = Lap()
        let output = try GreedyDecoding.run(
            language: model.language, cache: prefilled.cache, firstLogits: prefilled.logits,
            maxNewTokens: maxNewTokens, stopTokenIds: stopTokenIds)
        let seconds = clock.lap()
        let tokens = prefilled.cache.count(layer: 0)
        return RegimeGenerationResult(
            promptLogits: prefilled.logits, promptPositions: promptPositions, output: output,
            prefillSeconds: prefilled.seconds, decodeSeconds: seconds, decodeSteps: max(0, tokens - promptPositions),
            cacheBytes: prefilled.cache.byteCount, cacheTokens: tokens)
    }

    /// Prefill in the configuration's regime, then greedy decoding.
    public static func generate(
        model: Model, prompt: RegimePrompt, config: KVQuantizationConfig?, maxNewTokens: Int, stopTokenIds: Set<Int>
    ) throws -> RegimeGenerationResult {
        let prefilled = try prefill(model: model, prompt: prompt, config: config, extraCapacity: maxNewTokens)
        return try decode(model: model, prefilled: prefilled, promptPositions: prompt.positions,
                          maxNewTokens: maxNewTokens, stopTokenIds: stopTokenIds)
    }
}

/// Monotonic lap timer.
struct Lap {
    private var last = DispatchTime.now().uptimeNanoseconds

    /// Seconds since the previous lap (or creation).
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
