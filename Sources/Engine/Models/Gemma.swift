/// `config.json` of a Gemma (1) causal LM, the LLaVA-Gemma language model.
///
/// Gemma differs from Llama in the decoder settings only: `(1 + w)` RMSNorm, embeddings scaled by
/// √hidden, GeGLU with the tanh GELU, its own `head_dim`, tied embeddings. Older configs say
/// `hidden_act: gelu` (and 4.x may carry `hidden_activation`); transformers runs the tanh
/// approximation for both, and so does this.
public struct GemmaConfig: Decodable, Sendable {
    public var vocabSize: Int = 256000
    public var hiddenSize: Int = 3072
    public var intermediateSize: Int = 24576
    public var numHiddenLayers: Int = 28
    public var numAttentionHeads: Int = 16
    public var numKeyValueHeads: Int = 16
    public var headDim: Int = 256
    public var hiddenAct: String = "gelu_pytorch_tanh"
    public var hiddenActivation: String?
    public var rmsNormEps: Double = 1e-6
    public var tieWordEmbeddings: Bool = true
    public var attentionBias: Bool = false
    public var bosTokenId: Int? = 2
    public var eosTokenIds: [Int] = [1]
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
        case hiddenActivation = "hidden_activation"
        case rmsNormEps = "rms_norm_eps"
        case tieWordEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
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
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numKeyValueHeads
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? headDim
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? hiddenAct
        hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation)
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? rmsNormEps
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? tieWordEmbeddings
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? attentionBias
        if c.contains(.bosTokenId) { bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId) }
        if c.contains(.eosTokenId) { eosTokenIds = try c.decodeIfPresent(IntOrList.self, forKey: .eosTokenId)?.values ?? [] }
        ropeParameters = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta)
        ropeScaling = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeScaling)
    }

    /// The activation transformers runs: `hidden_activation` if set, else `hidden_act`, where the
    /// legacy value `gelu` means the tanh approximation.
    public var resolvedActivation: String {
        let name = hiddenActivation ?? hiddenAct
        return name == "gelu" ? "gelu_pytorch_tanh" : name
    }

    public func decoderConfig(file: String) throws -> DecoderConfig {
        let rope = try RopeParameters.resolve(
            parameters: ropeParameters, legacyTheta: ropeTheta, legacyScaling: ropeScaling, file: file)
        guard let activation = Activation(configName: resolvedActivation) else {
            throw CheckpointError(
                .invalidConfig, "\(file): hidden activation '\(resolvedActivation)' is not supported; expected gelu_pytorch_tanh")
        }
        let config = DecoderConfig(
            architecture: "gemma", vocabSize: vocabSize, hiddenSize: hiddenSize, intermediateSize: intermediateSize,
            layerCount: numHiddenLayers, heads: numAttentionHeads, kvHeads: numKeyValueHeads, headDim: headDim,
            rmsNormEpsilon: Float(rmsNormEps), ropeTheta: rope.theta, ropePositionScale: rope.positionScale,
            activation: activation, normStyle: .onePlusWeight,
            embeddingScale: Float(Double(hiddenSize).squareRoot()), tieWordEmbeddings: tieWordEmbeddings,
            attentionBias: attentionBias, mlpBias: false, bosTokenId: bosTokenId, eosTokenIds: eosTokenIds)
        try config.validate(file: file)
        return config
    }
}
