import Dispatch
import Engine
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Speed and memory of a language model under one weight and one KV configuration
/// (`lcb bench`): random prompt ids, a prefill, then greedy decode steps.
public struct ModelBenchmarkReport: Sendable, Encodable {
    public var weights: String
    public var kv: String
    public var promptTokens: Int
    public var decodeSteps: Int
    public var prefillSeconds: Double
    public var prefillTokensPerSecond: Double
    /// Linear-layer and attention FLOPs of the prefill per second (10⁹/s).
    public var prefillGFLOPs: Double
    public var decodeSeconds: Double
    public var decodeTokensPerSecond: Double
    /// Exact bytes of the decoder's linear layers and output head (what one decode step reads).
    public var linearWeightBytes: Int
    /// Bytes of the KV cache after decoding ÷ tokens it holds (metadata and fp16 windows included).
    public var kvBytesPerToken: Double
    /// The same right after the prefill, when the cache holds exactly the prompt's tokens (with
    /// `group` KV and a prompt of whole groups no key group is partial yet; the decoded tokens then
    /// wait in fp16 until their key group fills).
    public var kvBytesPerTokenAfterPrefill: Double
    /// The f16 cache's bytes per token, for comparison.
    public var kvBytesPerTokenF16: Int
    /// Bytes one decode step reads: the linear weights + the whole KV cache at the end of the run.
    public var bytesReadPerToken: Double
    /// `maxrss` of the process after this configuration (a process-wide peak: with several
    /// configurations in one run it covers the earlier ones too).
    public var peakResidentBytes: Int
    /// Seconds spent quantizing the weights (not part of any speed).
    public var weightQuantizationSeconds: Double
    /// Filled in by `ModelBenchmark.withBandwidth`.
    public var bandwidthGBs: Double?
    /// Decode tokens/s ÷ (bandwidth ÷ bytes read per token).
    public var fractionOfBandwidthBound: Double?
}

/// The measurements behind `lcb bench`.
public enum ModelBenchmark {
    /// Loads `directory`, applies `weights` (AWQ/GPTQ calibrate on the benchmark prompt), prefills
    /// `promptTokens` random ids (seeded) in `kv`'s regime and decodes `decodeSteps` greedy tokens.
    /// Only the language model runs (LLaVA checkpoints: the text part).
    public static func run(
        directory: URL, promptTokens: Int, decodeSteps: Int, kv: KVQuantizationConfig?, weights: WeightQuantizationConfig?,
        seed: UInt64 = 1
    ) throws -> ModelBenchmarkReport {
        guard promptTokens > 0, decodeSteps > 0 else {
            throw GenerationRequestError("--prompt-tokens and --gen-tokens must be positive")
        }
        let model = try Model(directory: directory)
        let c = model.language.config
        var state = seed
        let ids = (0..<promptTokens).map { _ in Int(splitMix(&state) % UInt64(c.vocabSize)) }
        var clock = Lap()
        if let weights {
            var lmOnly = weights
            lmOnly.targets.subtract([.vision, .projector])
            try ModelWeightQuantization.apply(lmOnly, to: model, calibration: [CalibrationPrompt(tokens: Array(ids.prefix(256)))])
        }
        let quantization = clock.lap()
        let prompt = RegimePrompt(prefixEmbeddings: [], questionEmbeddings: try model.language.embed(ids), hiddenSize: c.hiddenSize)
        let prefilled = try KVRegimeGeneration.prefill(model: model, prompt: prompt, config: kv, extraCapacity: decodeSteps)
        let prefillCacheBytes = prefilled.cache.byteCount, prefillTokens = prefilled.cache.count(layer: 0)
        var token = GreedyDecoding.argmax(prefilled.logits)
        _ = clock.lap()
        for _ in 0..<decodeSteps {
            token = GreedyDecoding.argmax(try model.decode(token: token, cache: prefilled.cache))
        }
        let decode = clock.lap()
        let linear = ModelWeightQuantization.linearLayers(of: model)
            .filter { [.lm, .lmHead].contains(ModelWeightQuantization.target(ofLayer: $0.name)) }
            .reduce(0) { $0 + $1.layer.byteCount }
        let tokens = prefilled.cache.count(layer: 0)
        let cacheBytes = prefilled.cache.byteCount
        // Linear layers: 2 FLOPs per weight per token (the output head only for the last position);
        // attention: Q·Kᵀ and P·V over the causal half.
        let lmHead = c.vocabSize * c.hiddenSize
        let perToken = 2.0 * Double(model.language.parameterCount - c.vocabSize * c.hiddenSize
                                    - (model.language.isTied ? 0 : lmHead))
        let attention = 4.0 * Double(promptTokens) * Double(promptTokens + 1) / 2 * Double(c.heads * c.headDim * c.layerCount)
        let flops = perToken * Double(promptTokens) + 2.0 * Double(lmHead) + attention
        return ModelBenchmarkReport(
            weights: weights?.canonicalDescription ?? "fp16", kv: kv?.canonicalDescription ?? "fp16",
            promptTokens: promptTokens, decodeSteps: decodeSteps, prefillSeconds: prefilled.seconds,
            prefillTokensPerSecond: Double(promptTokens) / prefilled.seconds, prefillGFLOPs: flops / prefilled.seconds / 1e9,
            decodeSeconds: decode, decodeTokensPerSecond: Double(decodeSteps) / decode, linearWeightBytes: linear,
            kvBytesPerToken: Double(cacheBytes) / Double(max(tokens, 1)),
            kvBytesPerTokenAfterPrefill: Double(prefillCacheBytes) / Double(max(prefillTokens, 1)), kvBytesPerTokenF16: c.kvBytesPerTokenF16,
            bytesReadPerToken: Double(linear + cacheBytes), peakResidentBytes: peakResidentBytes(),
            weightQuantizationSeconds: quantization, bandwidthGBs: nil, fractionOfBandwidthBound: nil)
    }

    /// The report with the bandwidth bound filled in from a measured read bandwidth (10⁹ bytes/s).
    public static func withBandwidth(_ report: ModelBenchmarkReport, gigabytesPerSecond: Double) -> ModelBenchmarkReport {
        var r = report
        r.bandwidthGBs = gigabytesPerSecond
        r.fractionOfBandwidthBound = report.decodeTokensPerSecond / (gigabytesPerSecond * 1e9 / report.bytesReadPerToken)
        return r
    }

    /// `ru_maxrss` of this process in bytes (Linux reports KiB).
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #endif
    }

    /// Read bandwidth in 10⁹ bytes/s: the median of the kernels' streaming-read samples
    /// (`KernelBenchmark.measureBandwidth`, 128 MiB cold windows of a 1 GiB buffer) on
    /// `KernelThreads.count` threads.
    public static func measureReadBandwidth(bytes: Int = 1 << 30, repeats: Int = 3) -> Double {
        let samples = KernelBenchmark.measureBandwidth(bytes: bytes, threads: KernelThreads.count, repeats: repeats).all.sorted()
        return samples.isEmpty ? .nan : samples[samples.count / 2]
    }

    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
