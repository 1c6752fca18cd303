/// The settings of a decoder-only language model, independent of which architecture's
/// config.json they came from (`LlamaConfig`, `GemmaConfig` produce it).
public struct DecoderConfig: Sendable, Equatable {
    /// How the RMSNorm weight is applied: `x̂·w` (Llama) or `x̂·(1 + w)` (Gemma).
    public enum NormStyle: String, Sendable { case weight, onePlusWeight }

    public var architecture: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var rmsNormEpsilon: Float
    public var ropeTheta: Double
    /// Positions are divided by this before rotation (linear RoPE scaling; 1 = none).
    public var ropePositionScale: Double
    public var activation: Activation
    public var normStyle: NormStyle
    /// Token embeddings are multiplied by this (Gemma: √hidden); nil for none.
    public var embeddingScale: Float?
    public var tieWordEmbeddings: Bool
    public var attentionBias: Bool
    public var mlpBias: Bool
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]

    /// Bytes of keys and values one token occupies in an f16 cache across all layers.
    public var kvBytesPerTokenF16: Int { 2 * layerCount * kvHeads * headDim * 2 }

    /// Checks relations transformers assumes but a hand-edited config may break.
    func validate(file: String) throws {
        func fail(_ message: String) -> CheckpointError {
            CheckpointError(.invalidConfig, "\(file): \(message)")
        }
        for (name, value) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                              ("num_hidden_layers", layerCount), ("num_attention_heads", heads),
                              ("num_key_value_heads", kvHeads), ("head_dim", headDim)] where value <= 0 {
            throw fail("\(name) is \(value); expected a positive integer")
        }
        if heads % kvHeads != 0 {
            throw fail("num_attention_heads (\(heads)) must be a multiple of num_key_value_heads (\(kvHeads))")
        }
        if headDim % 2 != 0 { throw fail("head_dim (\(headDim)) must be even for rotary embeddings") }
    }
}

/// An `Int` or a list of them (`eos_token_id` may be either).
struct IntOrList: Decodable {
    let values: [Int]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(Int.self) {
            values = [single]
        } else {
            values = try container.decode([Int].self)
        }
    }
}

/// RoPE settings as transformers 5 writes them (`rope_parameters`) or 4.x (`rope_scaling`).
struct RopeParameters: Decodable {
    var ropeType: String?
    var type: String?
    var ropeTheta: Double?
    var factor: Double?

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type"
        case type
        case ropeTheta = "rope_theta"
        case factor
    }

    /// Resolves theta and the position scale, rejecting scaling types the engine does not implement.
    static func resolve(parameters: RopeParameters?, legacyTheta: Double?, legacyScaling: RopeParameters?, file: String)
        throws -> (theta: Double, positionScale: Double)
    {
        let theta = parameters?.ropeTheta ?? legacyTheta ?? 10000
        let scaling = parameters ?? legacyScaling
        let kind = scaling?.ropeType ?? scaling?.type ?? "default"
        switch kind {
        case "default":
            return (theta, 1)
        case "linear":
            return (theta, scaling?.factor ?? 1)
        default:
            throw CheckpointError(
                .invalidConfig, "\(file): RoPE type '\(kind)' is not supported; lcb implements 'default' and 'linear'")
        }
    }
}
