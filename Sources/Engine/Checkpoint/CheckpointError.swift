import Foundation

/// Why a checkpoint folder could not be loaded; the message names the file, the tensor or field,
/// what was expected and what to do.
public struct CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, for callers that branch on it (tests, exit codes).
    public enum Kind: String, Sendable {
        case missingFile
        case corruptFile
        case unsupportedDType
        case missingTensor
        case shapeMismatch
        case unsupportedModelType
        case invalidConfig
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func missingFile(_ url: URL, what: String) -> CheckpointError {
        CheckpointError(.missingFile, "\(url.path): file not found (expected \(what)); check the --model folder")
    }

    static func corrupt(_ url: URL, _ detail: String) -> CheckpointError {
        CheckpointError(.corruptFile,
            "\(url.path): not a valid safetensors file: \(detail); the file may be truncated or damaged — download it again")
    }

    static func corruptTensor(_ url: URL, tensor: String, _ detail: String) -> CheckpointError {
        CheckpointError(.corruptFile,
            "\(url.path): tensor '\(tensor)': \(detail); the file may be truncated or damaged — download it again")
    }

    static func invalidConfig(_ url: URL, _ detail: String) -> CheckpointError {
        CheckpointError(.invalidConfig, "\(url.path): \(detail)")
    }
}
