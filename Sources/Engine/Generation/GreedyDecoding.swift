/// Why generation ended.
public enum StopReason: Equatable, Sendable {
    /// A stop id was produced (it is the last entry of `tokens`, as in transformers' `generate`).
    case stopToken(Int)
    case maxNewTokens
}

/// Generated ids of one greedy run.
public struct GreedyOutput: Equatable, Sendable {
    public var tokens: [Int]
    public var stopReason: StopReason
}

/// Greedy decoding (`do_sample=False`): take the arg-max, feed it back, repeat.
public enum GreedyDecoding {
    /// Index of the largest value; the first one on ties, as `torch.argmax`.
    public static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// Continues from `firstLogits` (the prefill's result) until a stop id or `maxNewTokens` ids.
    /// The last generated id is not fed back, so the cache ends holding prompt + tokens − 1.
    public static func run(
        language: LanguageModel, cache: any KVCache, firstLogits: [Float], maxNewTokens: Int, stopTokenIds: Set<Int>
    ) throws -> GreedyOutput {
        var tokens: [Int] = []
        var logits = firstLogits
        while tokens.count < maxNewTokens {
            let next = argmax(logits)
            tokens.append(next)
            if stopTokenIds.contains(next) { return GreedyOutput(tokens: tokens, stopReason: .stopToken(next)) }
            if tokens.count == maxNewTokens { break }
            logits = try language.decode(token: next, cache: cache)
        }
        return GreedyOutput(tokens: tokens, stopReason: .maxNewTokens)
    }
}
