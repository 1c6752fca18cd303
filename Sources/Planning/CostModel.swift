import Foundation
import SpecLanguage

/// FLOPs and bytes of each job kind, from a checkpoint's sizes.
///
/// Estimates, not measurements: text tokens are counted as UTF-8 bytes / 4 (the planner has no
/// tokenizer), decoding is charged the full `max_new_tokens`, and bytes count weight, KV-cache and
/// feature traffic once per forward pass (no cache reuse). Multiply-adds count 2 FLOPs.
public enum CostModel {
    /// Estimated tokens of a text.
    public static func estimatedTokens(_ text: String) -> Int { max(1, (text.utf8.count + 3) / 4) }

    /// Bytes of the LM's linears as quantized (codes plus an fp16 scale and minimum per group),
    /// plus the unquantized lm_head.
    static func languageWeightBytes(_ arch: ModelArchitecture, _ weights: WeightQuantization?) -> Double {
        let lm = arch.language
        let head = Double(lm.hiddenSize * lm.vocabSize * arch.bytesPerWeight)
        let parameters = Double(lm.linearParameters)
        guard let weights, weights.targets.contains(.lm) else {
            return parameters * Double(arch.bytesPerWeight) + head
        }
        let overhead = weights.groupSize.map { 4.0 / Double(max($0, 1)) } ?? 0
        return parameters * (Double(weights.bits) / 8 + overhead) + head
    }

    /// Quantizing one checkpoint: round-to-nearest methods touch every weight a few times; AWQ
    /// and GPTQ run calibration passes (AWQ: 20 scale candidates per block; GPTQ: Hessians and
    /// column updates).
    static func weightQuantization(_ arch: ModelArchitecture, _ weights: WeightQuantization) -> JobCost {
        let lm = arch.language
        let parameters = Double(lm.linearParameters)
        let io = parameters * Double(arch.bytesPerWeight) + languageWeightBytes(arch, weights)
        // Calibration sequences are charged 512 tokens each, AWQ's default.
        let calibrationTokens = Double(weights.calibrationSamples ?? 128) * 512
        switch weights.method.name {
        case .rtn, .outlier:
            return JobCost(flops: 8 * parameters, bytes: io)
        case .awq:
            return JobCost(flops: 2 * parameters * calibrationTokens * 21, bytes: io)
        case .gptq:
            let d = Double(lm.hiddenSize), f = Double(lm.intermediateSize), a = Double(lm.heads * lm.headDim)
            let kv = Double(lm.kvHeads * lm.headDim)
            // Columns in (d_in) and rows out (d_out) of q, k, v, o, gate, up, down.
            let shapes: [(Double, Double)] = [(d, a), (d, kv), (d, kv), (a, d), (d, f), (d, f), (f, d)]
            let perLayer = shapes.reduce(0.0) { sum, shape in
                sum + 2 * calibrationTokens * shape.0 * shape.0 + 2 * shape.1 * shape.0 * shape.0 + shape.0 * shape.0 * shape.0
            }
            return JobCost(flops: 2 * parameters * calibrationTokens + Double(lm.layers) * perLayer, bytes: io)
        }
    }

    /// Vision tower up to the feature layer, then the projector, for one image.
    static func visionEncoding(_ arch: ModelArchitecture) -> JobCost {
        let v = arch.vision
        let tokens = Double(v.patches + 1), d = Double(v.hiddenSize), f = Double(v.intermediateSize)
        let perLayer = 2 * tokens * (4 * d * d + 2 * d * f) + 4 * tokens * tokens * d
        let patchEmbedding = 2 * Double(v.patches) * 3 * Double(v.patchSize * v.patchSize) * d
        let projector = 2 * Double(arch.imageTokens) * Double(arch.projectorParameters)
        let flops = Double(arch.visionLayersRun) * perLayer + patchEmbedding + projector
        let weightBytes = Double((v.parameters + arch.projectorParameters) * arch.bytesPerWeight)
        let featureBytes = Double(arch.imageTokens * arch.language.hiddenSize * 4)
        return JobCost(flops: flops, bytes: weightBytes + featureBytes)
    }

    /// `tokens` new prompt tokens after `context` cached ones: linears, causal attention, the
    /// logits of the last token; stores the new K/V at `storedBits`.
    static func prefill(_ arch: ModelArchitecture, _ weights: WeightQuantization?, context: Int, tokens: Int,
                        storedBits: Double) -> JobCost {
        let lm = arch.language
        let t = Double(tokens), c = Double(context)
        let attention = 4 * Double(lm.heads * lm.headDim * lm.layers) * (t * c + t * (t + 1) / 2)
        let flops = 2 * Double(lm.linearParameters) * t + attention + 2 * Double(lm.hiddenSize * lm.vocabSize)
        let bytes = languageWeightBytes(arch, weights) + t * Double(lm.kvElementsPerToken) * storedBits / 8
        return JobCost(flops: flops, bytes: bytes)
    }

    /// Quantizing the cache copy, the question prefill under `prefix` (`questionTokens` after
    /// `context`), then `generated` tokens, each reading the weights and the whole cache.
    static func decode(_ arch: ModelArchitecture, _ weights: WeightQuantization?, kv: KVCacheQuantization?,
                       context: Int, questionTokens: Int, generated: Int) -> JobCost {
        let lm = arch.language
        let kvBits = kv?.storedBits ?? 16
        var cost = JobCost.zero
        if questionTokens > 0 {
            cost = prefill(arch, weights, context: context, tokens: questionTokens, storedBits: kvBits)
        }
        let start = Double(context + questionTokens), g = Double(generated)
        let perTokenLinear = 2 * Double(lm.linearParameters) + 2 * Double(lm.hiddenSize * lm.vocabSize)
        let attentionPositions = g * start + g * (g + 1) / 2
        let flops = g * perTokenLinear + 4 * Double(lm.heads * lm.headDim * lm.layers) * attentionPositions
        let cacheBytes = attentionPositions * Double(lm.kvElementsPerToken) * kvBits / 8
        let quantizeCopy = start * Double(lm.kvElementsPerToken) * (2 + kvBits / 8)
        let bytes = g * languageWeightBytes(arch, weights) + cacheBytes + quantizeCopy
        return cost + JobCost(flops: flops + 4 * start * Double(lm.kvElementsPerToken), bytes: bytes)
    }
}
