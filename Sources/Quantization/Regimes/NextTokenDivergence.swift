import Foundation
import Engine

/// How far a compressed model's next-token distributions are from a reference's.
///
/// Compares teacher-forced: both runs are fed the same continuation (usually the FP16 greedy
/// answer), so each position's distributions are conditioned on the same tokens, and one early
/// disagreement does not make every later position incomparable.
public enum NextTokenDivergence {
    /// Logits after the prompt and after feeding each of `continuation` (all but its last token
    /// are fed): `continuation.count` distributions, prefilled in `kv`'s regime.
    public static func teacherForcedLogits(
        model: Model, prompt: RegimePrompt, kv: KVQuantizationConfig?, continuation: [Int]
    ) throws -> [[Float]] {
        let prefilled = try KVRegimeGeneration.prefill(model: model, prompt: prompt, config: kv, extraCapacity: continuation.count)
        var result = [prefilled.logits]
        for token in continuation.dropLast() {
            result.append(try model.decode(token: token, cache: prefilled.cache))
        }
        return result
    }

    /// `KL(P ‖ Q)` in nats of the softmax distributions of two logit vectors (computed in Double).
    public static func kl(reference p: [Float], candidate q: [Float]) -> Double {
        precondition(p.count == q.count && !p.isEmpty, "logit vectors must have one equal, non-zero length")
        let lp = logSoftmax(p)
        let lq = logSoftmax(q)
        var sum = 0.0
        for i in lp.indices { sum += exp(lp[i]) * (lp[i] - lq[i]) }
        return max(0, sum)
    }

    /// Mean KL over positions.
    public static func meanKL(reference: [[Float]], candidate: [[Float]]) -> Double {
        precondition(reference.count == candidate.count && !reference.isEmpty, "need the same, non-zero number of positions")
        return zip(reference, candidate).reduce(0) { $0 + kl(reference: $1.0, candidate: $1.1) } / Double(reference.count)
    }

    static func logSoftmax(_ x: [Float]) -> [Double] {
        let m = Double(x.max()!)
        let logSum = log(x.reduce(0.0) { $0 + exp(Double($1) - m) }) + m
        return x.map { Double($0) - logSum }
    }
}
