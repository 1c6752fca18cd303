import Foundation

extension ModelFacts: Encodable {
    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", languageArchitecture = "language_architecture", layers
        case hiddenSize = "hidden_size", heads, kvHeads = "kv_heads", headDim = "head_dim"
        case intermediateSize = "intermediate_size", vocabSize = "vocab_size", tiedEmbeddings = "tied_embeddings"
        case languageParameters = "language_parameters", visionParameters = "vision_parameters"
        case projectorParameters = "projector_parameters", totalParameters = "total_parameters"
        case visionLayersUsed = "vision_layers_used", imageTokenCount = "image_tokens"
        case kvBytesPerTokenF16 = "kv_bytes_per_token_f16", storage, storedBytes = "stored_bytes"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(languageArchitecture, forKey: .languageArchitecture)
        try c.encode(layers, forKey: .layers)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(heads, forKey: .heads)
        try c.encode(kvHeads, forKey: .kvHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(tiedEmbeddings, forKey: .tiedEmbeddings)
        try c.encode(languageParameters, forKey: .languageParameters)
        try c.encode(visionParameters, forKey: .visionParameters)
        try c.encode(projectorParameters, forKey: .projectorParameters)
        try c.encode(totalParameters, forKey: .totalParameters)
        try c.encodeIfPresent(visionLayersUsed, forKey: .visionLayersUsed)
        try c.encodeIfPresent(imageTokenCount, forKey: .imageTokenCount)
        try c.encode(kvBytesPerTokenF16, forKey: .kvBytesPerTokenF16)
        try c.encode(storage, forKey: .storage)
        try c.encode(storedBytes, forKey: .storedBytes)
    }
}



extension ModelFacts {
    /// The human-readable summary `lcb inspect` prints.
    public func textReport(directory: String) -> String {
        var lines = ["model:          \(directory)"]
        if modelType == "llava" {
            lines.append("architecture:   llava (CLIP vision tower → projector → \(languageArchitecture))")
        } else {
            lines.append("architecture:   \(languageArchitecture) causal LM (text only)")
        }
        let attention = kvHeads == 1 ? "MQA" : kvHeads == heads ? "MHA" : "GQA"
        lines.append(
            "language model: \(layers) layers, hidden \(hiddenSize), \(heads) heads / \(kvHeads) KV heads (\(attention)), "
                + "head_dim \(headDim), MLP \(intermediateSize), vocab \(vocabSize), "
                + (tiedEmbeddings ? "tied embeddings" : "separate lm_head"))
        if let imageTokenCount, let visionLayersUsed {
            lines.append("vision:         \(visionLayersUsed) CLIP layers used, \(imageTokenCount) image tokens per image")
        }
        lines.append("parameters:     \(Self.grouped(totalParameters)) total")
        lines.append("  language:     \(Self.grouped(languageParameters))")
        if modelType == "llava" {
            lines.append("  vision:       \(Self.grouped(visionParameters))")
            lines.append("  projector:    \(Self.grouped(projectorParameters))")
        }
        lines.append("weights:        \(Self.bytes(storedBytes)) on disk")
        for dtype in storage.keys.sorted() {
            guard let entry = storage[dtype] else { continue }
            lines.append("  \(dtype.padding(toLength: 12, withPad: " ", startingAt: 0))\(entry.tensors) tensors, "
                         + "\(Self.grouped(entry.elements)) elements, \(Self.bytes(entry.bytes))")
        }
        lines.append("KV cache (f16): \(Self.grouped(kvBytesPerTokenF16)) bytes per token (\(Self.bytes(kvBytesPerTokenF16)))")
        return lines.joined(separator: "\n")
    }

    /// `1234567` → `1,234,567` (locale-independent).
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (i, character) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// Bytes in binary units with one decimal (`18.0 KiB`).
    static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024 && unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        if unit == 0 { return "\(value) B" }
        let tenths = Int((amount * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
