import Dispatch

/// One complete generation: vision, prefill, greedy decoding, with timings.
public struct GenerationResult: Sendable {
    /// Logits of the last prompt position after prefill (what `--dump-logits` writes).
    public var promptLogits: [Float]
    /// Prompt positions after image expansion.
    public var promptPositions: Int
    public var output: GreedyOutput
    public var timings: Timings

    public struct Timings: Sendable, Equatable {
        /// Vision tower + projector, all images.
        public var visionSeconds: Double
        public var prefillSeconds: Double
        /// All decode steps (the first generated token comes from the prefill logits).
        public var decodeSeconds: Double
        public var decodeSteps: Int
    }
}

extension Model {
    /// Runs the whole pipeline on a fresh f16 cache: image features for each `pixelValues`
    /// (`[3, S, S]`, preprocessed), prefill of `tokens` (one image-token id per image), greedy
    /// decoding until a stop id or `maxNewTokens`.
    public func generate(
        tokens: [Int], pixelValues: [[Float]] = [], maxNewTokens: Int, stopTokenIds: Set<Int>? = nil
    ) throws -> GenerationResult {
        var clock = Stopwatch()
        let images = try pixelValues.map { try imageFeatures(pixelValues: $0) }
        let visionLap = clock.lap()
        let vision = pixelValues.isEmpty ? 0 : visionLap
        let inputs = try inputEmbeddings(tokens: tokens, images: images)
        let positions = inputs.count / language.config.hiddenSize
        let cache = makeCache(capacity: positions + maxNewTokens)
        let logits = try language.prefill(embeddings: inputs, cache: cache)
        let prefill = clock.lap()
        let output = try generateGreedy(cache: cache, firstLogits: logits, maxNewTokens: maxNewTokens, stopTokenIds: stopTokenIds)
        let decode = clock.lap()
        return GenerationResult(
            promptLogits: logits, promptPositions: positions, output: output,
            timings: .init(visionSeconds: vision, prefillSeconds: prefill, decodeSeconds: decode,
                           decodeSteps: max(0, cache.count(layer: 0) - positions)))
    }
}

/// Monotonic lap timer.
struct Stopwatch {
    private var last = DispatchTime.now().uptimeNanoseconds

    /// Seconds since the previous lap (or creation).
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
