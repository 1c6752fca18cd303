import Foundation

/// Why a tokenizer could not be loaded; every case names the file it concerns.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file does not exist or cannot be read.
    case missingFile(path: String)
    /// The file is not valid JSON (byte offset of the problem).
    case malformedJSON(path: String, offset: Int, reason: String)
    /// A value in the file has the wrong shape (`where` is a JSON path such as `model.merges[3]`).
    case invalidValue(path: String, where: String, expected: String)
    /// A section names a `type` this implementation does not support.
    case unsupportedType(path: String, section: String, type: String, supported: [String])

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): file not found or unreadable; expected a Hugging Face tokenizer file "
                + "(a model folder must contain tokenizer.json)"
        case .malformedJSON(let path, let offset, let reason):
            return "\(path): malformed JSON at byte \(offset): \(reason); re-export the tokenizer "
                + "with `tokenizers` or `transformers`"
        case .invalidValue(let path, let location, let expected):
            return "\(path): \(location): expected \(expected)"
        case .unsupportedType(let path, let section, let type, let supported):
            return "\(path): \(section) type '\(type)' is not supported; supported: "
                + supported.joined(separator: ", ")
        }
    }
}

extension TokenizerError: LocalizedError {
    public var errorDescription: String? { description }
}
