/// `config.json` of a Llama causal LM (Llama-2, Vicuna: the LLaVA-1.5 language model).
///
/// Accepts the transformers 4.x (`rope_theta`, `rope_scaling`) and 5.x (`rope_parameters`) forms;
/// absent fields take transformers' defaults, as partial `text_config` sections rely on them.
public struct LlamaConfig: Decodable, Sendable {
    public var vocabSize: Int = 32000
    public var hiddenSize: Int = 4096
    public var intermediateSize: Int = 11008
    public var numHiddenLayers: Int = 32
    public var numAttentionHeads: Int = 32
    public var numKeyValueHeads: Int?
    public var headDim: Int?
    public var hiddenAct: String = "silu"
    public var rmsNormEps: Double = 1e-6
    public var tieWordEmbeddings: Bool = false
    public var attentionBias: Bool = false
    public var mlpBias: Bool = false
    public var bosTokenId: Int? = 1
    public var eosTokenIds: [Int] = [2]
    var ropeParameters: RopeParameters?
    var ropeTheta: Double?
    var ropeScaling: RopeParameters?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case hiddenAct = "hidden_act"
        case rmsNormEps = "rms_norm_eps"
        case tieWordEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case ropeParameters = "rope_parameters"
        case ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? vocabSize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? intermediateSize
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? numAttentionHeads
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads)
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? hiddenAct
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? rmsNormEps
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? tieWordEmbeddings
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? attentionBias
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? mlpBias
        if c.contains(.bosTokenId) { bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId) }
        if c.contains(.eosTokenId) { eosTokenIds = try c.decodeIfPresent(IntOrList.self, forKey: .eosTokenId)?.values ?? [] }
        ropeParameters = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta)
        ropeScaling = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeScaling)
    }

    /// The architecture-independent settings the shared decoder runs with.
    public func decoderConfig(file: String) throws -> DecoderConfig {
        let rope = try RopeParameters.resolve(
            parameters: ropeParameters, legacyTheta: ropeTheta, legacyScaling: ropeScaling, file: file)
        guard let activation = Activation(configName: hiddenAct) else {
            throw CheckpointError(.invalidConfig, "\(file): hidden_act '\(hiddenAct)' is not supported; expected silu")
        }
        let config = DecoderConfig(
            architecture: "llama", vocabSize: vocabSize, hiddenSize: hiddenSize, intermediateSize: intermediateSize,
            layerCount: numHiddenLayers, heads: numAttentionHeads, kvHeads: numKeyValueHeads ?? numAttentionHeads,
            headDim: headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0),
            rmsNormEpsilon: Float(rmsNormEps), ropeTheta: rope.theta, ropePositionScale: rope.positionScale,
            activation: activation, normStyle: .weight, embeddingScale: nil, tieWordEmbeddings: tieWordEmbeddings,
            attentionBias: attentionBias, mlpBias: mlpBias, bosTokenId: bosTokenId, eosTokenIds: eosTokenIds)
        try config.validate(file: file)
        return config
    }
}
