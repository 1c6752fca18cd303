import Engine
import Foundation

/// One calibration input for AWQ and GPTQ: prompt ids (one image-token id per image) and the
/// preprocessed pixel values of its images (`[3, S, S]` each).
public struct CalibrationPrompt: Sendable {
    public var tokens: [Int]
    public var pixelValues: [[Float]]

    public init(tokens: [Int], pixelValues: [[Float]] = []) {
        self.tokens = tokens
        self.pixelValues = pixelValues
    }
}

/// What applying a weight configuration did to a model.
public struct WeightQuantizationSummary: Sendable {
    /// Names of the replaced layers (`layers.0.self_attn.q_proj`, `multi_modal_projector.linear_1`, …).
    public var layers: [String]
    /// Bytes of those layers before and after (exact `byteCount`s).
    public var bytesBefore: Int
    public var bytesAfter: Int
    /// AWQ: layers whose input scale `1/s` was folded into the preceding RMSNorm (the rest keep it).
    public var foldedLayers: [String]
    /// Calibration rows recorded per layer (AWQ, GPTQ), at most `maxCalibrationRows`.
    public var calibrationRows: Int
    public var seconds: Double
}

/// Applies a `WeightQuantizationConfig` to a loaded model: every targeted dense linear layer is
/// replaced by a packed `QuantizedLinear`.
///
/// Targets: `lm` = the decoder's attention and MLP projections (`layers.N.…`), `lm_head`, `vision`
/// = the CLIP tower's linears (patch embedding included), `projector` = the multimodal projector.
/// Embeddings are never quantized; a tied `lm_head` becomes a quantized copy and the embedding
/// table stays as it is.
///
/// `rtn` and `outlier` quantize each layer alone. `awq` and `gptq` first run the unquantized model
/// on `calibration` (recording every targeted layer's inputs through a wrapper layer), then:
/// - AWQ searches one scale vector per set of layers that read the same input — q/k/v, gate/up —
///   and each other layer alone, and (with `foldScales`, the default) **folds** `1/s` into the
///   RMSNorm before q/k/v and before gate/up (exact: the norms stay in f32). `o_proj`,
///   `down_proj`, `lm_head` and the vision and projector layers **keep** `1/s` as the layer's input
///   scale (one multiply per input; with GQA the preceding `v_proj` rows are shared by several
///   heads, so the scale cannot be folded there). Without `foldScales` every layer keeps its input
///   scale and the model's norms stay untouched, so the quantized layers alone (as the runner's
///   cache stores them) reproduce the quantized model. As in AWQ, q and k are not clipped.
/// - GPTQ quantizes each layer from its own recorded inputs (the fp16 model's, not sequentially
///   through already-quantized layers), with the config's `block` and `damp`.
///
/// Layers are quantized in parallel on the kernels' threads (`KernelThreads`).
public enum ModelWeightQuantization {
    /// The target a layer name belongs to.
    public static func target(ofLayer name: String) -> WeightTarget {
        if name == "lm_head" { return .lmHead }
        if name.hasPrefix("vision_tower.") { return .vision }
        if name.hasPrefix("multi_modal_projector.") { return .projector }
        return .lm
    }

    /// Every linear layer of `model` with its name, in the model's order.
    public static func linearLayers(of model: Model) -> [(name: String, layer: any LinearLayer)] {
        var result: [(String, any LinearLayer)] = []
        model.language.replaceLinearLayers { name, layer in
            result.append((name, layer))
            return layer
        }
        model.vision?.replaceLinearLayers { name, layer in
            result.append((name, layer))
            return layer
        }
        return result
    }

    /// Bytes of all weights the model computes with: linear layers (exact `byteCount`s, a tied
    /// `lm_head` counted once with the embeddings), embeddings and norms are not included.
    public static func linearBytes(of model: Model, targets: Set<WeightTarget>? = nil) -> Int {
        linearLayers(of: model).reduce(0) { sum, entry in
            guard targets?.contains(target(ofLayer: entry.name)) ?? true else { return sum }
            return sum + entry.layer.byteCount
        }
    }

    /// Replaces the targeted layers of `model` with quantized ones (see the type's notes).
    ///
    /// `foldScales: false` keeps AWQ's `1/s` in every layer instead of folding it into the norms.
    @discardableResult
    public static func apply(
        _ config: WeightQuantizationConfig, to model: Model, calibration: [CalibrationPrompt] = [],
        maxCalibrationRows: Int = 512, foldScales: Bool = true
    ) throws -> WeightQuantizationSummary {
        var clock = Lap()
        if config.targets.contains(.vision) || config.targets.contains(.projector), model.vision == nil {
            throw WeightQuantizationError(
                "targets \(config.targets.sorted().map(\.rawValue).joined(separator: "+")) name the vision tower or projector, but this model has none; use targets=lm")
        }
        let selected = linearLayers(of: model).filter { config.targets.contains(target(ofLayer: $0.name)) }
        var dense: [String: DenseLinear] = [:]
        for (name, layer) in selected {
            guard let d = layer as? DenseLinear else {
                throw WeightQuantizationError("layer '\(name)' is already quantized; load the model again to apply another weight configuration")
            }
            dense[name] = d
        }
        var replacements: [String: any LinearLayer] = [:]
        var folded: [String] = []
        var rows = 0
        switch config.method {
        case .rtn, .outlier:
            let names = selected.map(\.name)
            let dense = dense
            let quantized = try parallelMap(names) { name in
                try WeightQuantizer.quantize(dense[name]!.weights, bias: dense[name]!.bias, config: config) as any LinearLayer
            }
            for (name, layer) in zip(names, quantized) { replacements[name] = layer }
        case .awq, .gptq:
            guard !calibration.isEmpty else {
                throw WeightQuantizationError("\(config.method.rawValue) needs calibration prompts (the runner takes them from the spec's calibration dataset)")
            }
            let recorded = try record(model: model, layers: Set(selected.map(\.name)), calibration: calibration, maxRows: maxCalibrationRows)
            rows = selected.map { (recorded[$0.name]?.count ?? 0) / $0.layer.inFeatures }.min() ?? 0
            if config.method == .gptq {
                let names = selected.map(\.name)
                let dense = dense
                let quantized = try parallelMap(names) { name in
                    let d = dense[name]!
                    let x = recorded[name] ?? []
                    return try GPTQ.quantize(d.weights.floats(), outFeatures: d.outFeatures, inFeatures: d.inFeatures, bias: d.bias,
                                             calibration: x, samples: x.count / d.inFeatures, config: config,
                                             blocksize: config.block, damp: config.damp) as any LinearLayer
                }
                for (name, layer) in zip(names, quantized) { replacements[name] = layer }
            } else {
                folded = try applyAWQ(config, model: model, dense: dense, selected: selected.map(\.name),
                                      recorded: recorded, foldScales: foldScales, into: &replacements)
            }
        }
        var before = 0
        var after = 0
        func swap(_ name: String, _ layer: any LinearLayer) -> any LinearLayer {
            guard let replacement = replacements[name] else { return layer }
            before += layer.byteCount
            after += replacement.byteCount
            return replacement
        }
        model.language.replaceLinearLayers(swap)
        model.vision?.replaceLinearLayers(swap)
        return WeightQuantizationSummary(
            layers: selected.map(\.name), bytesBefore: before, bytesAfter: after, foldedLayers: folded,
            calibrationRows: rows, seconds: clock.lap())
    }

    // MARK: Calibration

    /// Runs the model on `calibration` with recording wrappers around `layers`; returns each
    /// layer's inputs `[rows, inFeatures]` (at most `maxRows` rows, the first ones seen).
    static func record(
        model: Model, layers: Set<String>, calibration: [CalibrationPrompt], maxRows: Int
    ) throws -> [String: [Float]] {
        let recorder = CalibrationRecorder(maxRows: maxRows)
        func wrap(_ name: String, _ layer: any LinearLayer) -> any LinearLayer {
            layers.contains(name) ? RecordingLinear(base: layer, name: name, recorder: recorder) : layer
        }
        func unwrap(_ name: String, _ layer: any LinearLayer) -> any LinearLayer {
            (layer as? RecordingLinear)?.base ?? layer
        }
        model.language.replaceLinearLayers(wrap)
        model.vision?.replaceLinearLayers(wrap)
        defer {
            model.language.replaceLinearLayers(unwrap)
            model.vision?.replaceLinearLayers(unwrap)
        }
        for prompt in calibration {
            let images = try prompt.pixelValues.map { try model.imageFeatures(pixelValues: $0) }
            let cache = model.makeCache()
            _ = try model.prefill(tokens: prompt.tokens, images: images, cache: cache)
        }
        return recorder.inputs
    }

    // MARK: AWQ

    /// AWQ over input-sharing sets; returns the layers whose scale was folded into a norm.
    static func applyAWQ(
        _ config: WeightQuantizationConfig, model: Model, dense: [String: DenseLinear], selected: [String],
        recorded: [String: [Float]], foldScales: Bool, into replacements: inout [String: any LinearLayer]
    ) throws -> [String] {
        var folded: [String] = []
        var done = Set<String>()
        let chosen = Set(selected)
        for i in model.language.layers.indices {
            let p = "layers.\(i)."
            let attention = ["q_proj", "k_proj", "v_proj"].map { p + "self_attn." + $0 }
            let mlp = ["gate_proj", "up_proj"].map { p + "mlp." + $0 }
            for (set, isAttention) in [(attention, true), (mlp, false)] where set.allSatisfy(chosen.contains) {
                let result = try awq(set, config: config, dense: dense, recorded: recorded,
                                     clip: isAttention ? [false, false, true] : nil)
                done.formUnion(set)
                guard foldScales else {
                    for (name, layer) in zip(set, result.layers) { replacements[name] = layer }
                    continue
                }
                for (name, layer) in zip(set, result.layers) { replacements[name] = layer.removingInputScale() }
                let s = result.scales
                let norm = isAttention ? model.language.layers[i].inputNorm : model.language.layers[i].postAttentionNorm
                let scaled = RMSNorm(weight: zip(norm.scale, s).map { $0 / $1 }, epsilon: norm.epsilon, addsOne: false)
                if isAttention { model.language.layers[i].inputNorm = scaled } else { model.language.layers[i].postAttentionNorm = scaled }
                folded += set
            }
        }
        for name in selected where !done.contains(name) {
            let clip = !(name.hasSuffix("q_proj") || name.hasSuffix("k_proj"))
            replacements[name] = try awq([name], config: config, dense: dense, recorded: recorded, clip: [clip]).layers[0]
        }
        return folded
    }

    private static func awq(
        _ names: [String], config: WeightQuantizationConfig, dense: [String: DenseLinear],
        recorded: [String: [Float]], clip: [Bool]?
    ) throws -> AWQResult {
        let layers = names.map { dense[$0]! }
        let x = recorded[names[0]] ?? []
        let n = layers[0].inFeatures
        return try AWQ.quantize(
            weights: layers.map { $0.weights.floats() }, outFeatures: layers.map(\.outFeatures), inFeatures: n,
            biases: layers.map(\.bias), calibration: x, samples: x.count / n, config: config, clipLayers: clip)
    }

    /// `transform` over `items` on the kernels' threads, results in order.
    ///
    /// The kernels' pool, not a second one, so quantization and kernels never compete for cores;
    /// kernels called from inside `transform` then run on the calling thread (`parallelFor`'s rule).
    static func parallelMap(
        _ items: [String], _ transform: @escaping @Sendable (String) throws -> any LinearLayer
    ) throws -> [any LinearLayer] {
        let results = ResultSlots<any LinearLayer>(count: items.count)
        KernelThreads.parallelFor(items.count) { i in
            results.set(i, Result { try transform(items[i]) })
        }
        return try results.values.map { try $0!.get() }
    }
}

/// Slots written from concurrent iterations, each index once.
private final class ResultSlots<R>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<R, any Error>?]

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: Result<R, any Error>) {
        lock.lock()
        values[i] = value
        lock.unlock()
    }
}

/// Collects the inputs of named layers during calibration runs.
final class CalibrationRecorder: @unchecked Sendable {
    private let lock = NSLock()
    let maxRows: Int
    private(set) var inputs: [String: [Float]] = [:]

    init(maxRows: Int) { self.maxRows = maxRows }

    func record(_ name: String, _ input: UnsafeBufferPointer<Float>, rows: Int, width: Int) {
        lock.lock()
        defer { lock.unlock() }
        let have = (inputs[name]?.count ?? 0) / width
        let take = min(rows, maxRows - have)
        guard take > 0 else { return }
        inputs[name, default: []] += UnsafeBufferPointer(rebasing: input[0..<(take * width)])
    }
}

/// A layer that records its inputs, then computes as its base layer.
struct RecordingLinear: LinearLayer {
    let base: any LinearLayer
    let name: String
    let recorder: CalibrationRecorder

    var inFeatures: Int { base.inFeatures }
    var outFeatures: Int { base.outFeatures }
    var byteCount: Int { base.byteCount }

    func apply(_ input: UnsafeBufferPointer<Float>, rows: Int, into output: UnsafeMutableBufferPointer<Float>) {
        recorder.record(name, input, rows: rows, width: inFeatures)
        base.apply(input, rows: rows, into: output)
    }
}
