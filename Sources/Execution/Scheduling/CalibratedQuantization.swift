import Engine
import Foundation
import Quantization
import SpecLanguage

/// One calibration input for AWQ or GPTQ: a question (with the dataset's suffix) and its image.
public struct CalibrationSample: Sendable, Hashable {
    public var userText: String
    public var image: URL?

    public init(userText: String, image: URL?) {
        self.userText = userText
        self.image = image
    }
}

/// Records the rows a linear layer is applied to (its real inputs), up to `capacity` rows.
final class InputRecorder: LinearLayer, @unchecked Sendable {
    let base: any LinearLayer
    let capacity: Int
    private(set) var rows: [Float] = []
    private(set) var rowCount = 0

    init(base: any LinearLayer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    var inFeatures: Int { base.inFeatures }
    var outFeatures: Int { base.outFeatures }
    var byteCount: Int { base.byteCount }

    func apply(_ input: UnsafeBufferPointer<Float>, rows count: Int, into output: UnsafeMutableBufferPointer<Float>) {
        let take = min(count, capacity - rowCount)
        if take > 0 {
            rows.append(contentsOf: input[0..<(take * base.inFeatures)])
            rowCount += take
        }
        base.apply(input, rows: count, into: output)
    }
}

/// AWQ and GPTQ over a loaded model: run the calibration samples through the full-precision model
/// recording each linear layer's inputs, then quantize the layers from those inputs.
///
/// Inputs are recorded in one pass of the unquantized model (not layer by layer with the already
/// quantized layers before it, as the reference implementations do): a simplification that keeps
/// calibration to one prefill per sample. AWQ layers keep their scales as an input scale instead
/// of folding them into the preceding norm, which computes the same product.
enum CalibratedQuantization {
    /// Calibration rows recorded per layer (tokens over all samples).
    static let rowsPerLayer = 512

    /// Which layers read the same input (AWQ searches one scale for them together).
    static func inputGroup(_ name: String) -> String {
        for suffix in ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count)) + "attention-input"
        }
        for suffix in ["mlp.gate_proj", "mlp.up_proj"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count)) + "mlp-input"
        }
        return name
    }

    static func floats(_ dense: DenseLinear) -> [Float] {
        let weights = dense.weights
        var values = [Float](repeating: 0, count: weights.outFeatures * weights.inFeatures)
        for o in 0..<weights.outFeatures {
            for i in 0..<weights.inFeatures { values[o * weights.inFeatures + i] = weights.element(o, i) }
        }
        return values
    }

    /// Quantizes the language model's linear layers (lm_head only when `includeHead`) with AWQ or
    /// GPTQ, calibrated by prefilling `prompts` (ids and image features) through the model.
    static func apply(
        to model: EngineModel, method: SpecLanguage.WeightMethod, config: WeightQuantizationConfig, includeHead: Bool,
        prompts: [(tokens: [Int], images: [ImageFeatures])]
    ) throws {
        guard !prompts.isEmpty else {
            throw EngineSessionError(message: "weights: \(method.name.rawValue) needs calibration samples; the calibration dataset has none")
        }
        var recorders: [String: InputRecorder] = [:]
        var order: [String] = []
        model.language.replaceLinearLayers { name, layer in
            guard name != "lm_head" || includeHead, layer is DenseLinear else { return layer }
            let recorder = InputRecorder(base: layer, capacity: rowsPerLayer)
            recorders[name] = recorder
            order.append(name)
            return recorder
        }
        defer {
            // Whatever happens, the model never keeps the recorders.
            model.language.replaceLinearLayers { _, layer in (layer as? InputRecorder)?.base ?? layer }
        }
        for prompt in prompts {
            _ = try model.prefill(tokens: prompt.tokens, images: prompt.images, cache: model.makeCache())
        }

        var quantized: [String: any LinearLayer] = [:]
        switch method {
        case .awq:
            var groups: [String: [String]] = [:]
            var groupOrder: [String] = []
            for name in order {
                let group = inputGroup(name)
                if groups[group] == nil { groupOrder.append(group) }
                groups[group, default: []].append(name)
            }
            for group in groupOrder {
                let names = groups[group]!
                let recorder = recorders[names[0]]!
                let denses = names.compactMap { recorders[$0]?.base as? DenseLinear }
                // AWQ leaves q/k unclipped (their errors are amplified by the softmax).
                let clip = names.map { !$0.hasSuffix("q_proj") && !$0.hasSuffix("k_proj") }
                let result = try AWQ.quantize(
                    weights: denses.map(floats), outFeatures: denses.map(\.outFeatures), inFeatures: recorder.inFeatures,
                    biases: denses.map(\.bias), calibration: recorder.rows, samples: recorder.rowCount, config: config,
                    clipLayers: clip)
                for (name, layer) in zip(names, result.layers) { quantized[name] = layer }
            }
        case .gptq(let parameters):
            for name in order {
                guard let recorder = recorders[name], let dense = recorder.base as? DenseLinear else { continue }
                quantized[name] = try GPTQ.quantize(
                    floats(dense), outFeatures: dense.outFeatures, inFeatures: dense.inFeatures, bias: dense.bias,
                    calibration: recorder.rows, samples: recorder.rowCount, config: config,
                    blocksize: parameters.block, damp: parameters.damp)
            }
        default:
            throw EngineSessionError(message: "weights: \(method.name.rawValue) is not a calibrated method")
        }
        model.language.replaceLinearLayers { name, layer in quantized[name] ?? ((layer as? InputRecorder)?.base ?? layer) }
    }
}
