import Foundation

/// What `config.json` describes: a plain causal LM or a LLaVA model.
public enum ModelConfig: Sendable {
    case causalLM(DecoderConfig)
    case llava(LlavaConfig)

    /// The language model's settings in either case.
    public var text: DecoderConfig {
        switch self {
        case .causalLM(let config): config
        case .llava(let config): config.text
        }
    }
}

/// The `model_type` values lcb can run and how each one's config is read.
public enum ModelRegistry {
    /// Decoder configs by `model_type` (used at the top level and for a LLaVA `text_config`).
    static let languageModels: [String: @Sendable (Data, String) throws -> (DecoderConfig, tie: Bool)] = [
        "llama": { data, file in
            let config = try JSONDecoder().decode(LlamaConfig.self, from: data)
            return (try config.decoderConfig(file: file), config.tieWordEmbeddings)
        },
        "gemma": { data, file in
            let config = try JSONDecoder().decode(GemmaConfig.self, from: data)
            return (try config.decoderConfig(file: file), config.tieWordEmbeddings)
        },
    ]

    /// Multimodal wrappers by `model_type`.
    static let multimodalModels: Set<String> = ["llava"]

    /// Every supported top-level `model_type`, sorted (for error messages and docs).
    public static var supportedModelTypes: [String] { (Array(languageModels.keys) + multimodalModels).sorted() }

    /// Reads and resolves `config.json` in `directory`.
    public static func config(directory: URL) throws -> ModelConfig {
        let url = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CheckpointError.missingFile(url, what: "the model's config.json")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.missingFile(url, what: "a readable config.json")
        }
        return try config(data: data, file: url.path)
    }

    /// Resolves config JSON; `file` names it in errors.
    public static func config(data: Data, file: String) throws -> ModelConfig {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CheckpointError(.invalidConfig, "\(file): not a JSON object")
        }
        guard let modelType = json["model_type"] as? String else {
            throw CheckpointError(.invalidConfig, "\(file): no \"model_type\"; expected one of \(supportedModelTypes.joined(separator: ", "))")
        }
        do {
            if let decode = languageModels[modelType] {
                return .causalLM(try decode(data, file).0)
            }
            if modelType == "llava" {
                let textJSON = json["text_config"] as? [String: Any] ?? ["model_type": "llama"]
                let textType = textJSON["model_type"] as? String ?? "llama"
                guard let decode = languageModels[textType] else {
                    throw CheckpointError(
                        .unsupportedModelType,
                        "\(file): text_config model_type '\(textType)' is not supported; expected one of \(languageModels.keys.sorted().joined(separator: ", "))")
                }
                let (text, tie) = try decode(try JSONSerialization.data(withJSONObject: textJSON), file)
                // The text config's own default counts (Gemma ties, Llama does not), as in transformers.
                return .llava(try LlavaConfig(json: json, text: text, textTie: tie, file: file))
            }
        } catch let error as DecodingError {
            throw CheckpointError(.invalidConfig, "\(file): \(describe(error))")
        }
        throw CheckpointError(
            .unsupportedModelType,
            "\(file): model_type '\(modelType)' is not supported; lcb runs \(supportedModelTypes.joined(separator: ", "))")
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "field '\(path)' should be \(type)"
        case .keyNotFound(let key, _):
            return "missing field '\(key.stringValue)'"
        case .dataCorrupted(let context):
            return context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }
}
