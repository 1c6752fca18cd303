import Foundation

/// How the loader reads spec files; a protocol so tests can load specs from memory.
public protocol SpecFileSystem: Sendable {
    /// The file's bytes, or a short reason ("no such file") when it cannot be read.
    func read(_ absolutePath: String) -> Result<[UInt8], SpecFileError>
}

/// Why a file could not be read, in words for a diagnostic.
public struct SpecFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Reads files from disk (refusing anything larger than `maximumBytes`).
public struct LocalSpecFileSystem: SpecFileSystem {
    public var maximumBytes: Int

    public init(maximumBytes: Int = 16 << 20) {
        self.maximumBytes = maximumBytes
    }

    public func read(_ absolutePath: String) -> Result<[UInt8], SpecFileError> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolutePath, isDirectory: &isDirectory) else {
            return .failure(SpecFileError("no such file"))
        }
        if isDirectory.boolValue { return .failure(SpecFileError("it is a folder, not a file")) }
        guard let handle = FileHandle(forReadingAtPath: absolutePath) else {
            return .failure(SpecFileError("permission denied"))
        }
        defer { try? handle.close() }
        do {
            let data = try handle.read(upToCount: maximumBytes + 1) ?? Data()
            if data.count > maximumBytes {
                return .failure(SpecFileError("larger than \(maximumBytes >> 20) MiB; specs are never this large"))
            }
            return .success([UInt8](data))
        } catch {
            return .failure(SpecFileError("\(error.localizedDescription)"))
        }
    }
}

/// Files held in memory, keyed by absolute path (for tests and generated specs).
public struct InMemorySpecFileSystem: SpecFileSystem {
    public var files: [String: [UInt8]]

    public init(_ files: [String: String]) {
        self.files = files.mapValues { Array($0.utf8) }
    }

    /// Files as raw bytes (which need not be valid UTF-8).
    public init(bytes files: [String: [UInt8]]) {
        self.files = files
    }

    public func read(_ absolutePath: String) -> Result<[UInt8], SpecFileError> {
        guard let bytes = files[absolutePath] else { return .failure(SpecFileError("no such file")) }
        return .success(bytes)
    }
}

/// What the checker needs to know about a checkpoint, read from its `config.json`.
public struct CheckpointFacts: Sendable, Hashable {
    /// Size of one attention head of the language model.
    public var headDim: Int?
    /// Key/value heads of the language model (1 for Gemma-2B's multi-query attention).
    public var keyValueHeads: Int?
    /// The `<image>` placeholder's token id; nil when the config names none.
    public var imageTokenIndex: Int?

    public init(headDim: Int? = nil, keyValueHeads: Int? = nil, imageTokenIndex: Int? = nil) {
        self.headDim = headDim
        self.keyValueHeads = keyValueHeads
        self.imageTokenIndex = imageTokenIndex
    }

    /// Reads the facts from a Hugging Face `config.json` (LLaVA's `text_config`, or a plain LM's top level).
    public static func parse(configJSON data: [UInt8]) -> Result<CheckpointFacts, SpecFileError> {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(data))
        } catch {
            return .failure(SpecFileError("it is not valid JSON"))
        }
        guard let top = object as? [String: Any] else { return .failure(SpecFileError("it is not a JSON object")) }
        let text = top["text_config"] as? [String: Any] ?? top
        func int(_ dictionary: [String: Any], _ key: String) -> Int? {
            guard let number = dictionary[key] as? NSNumber else { return nil }
            let value = number.doubleValue
            guard value.isFinite, value == value.rounded(), abs(value) < 1e12 else { return nil }
            return Int(value)
        }
        var facts = CheckpointFacts()
        let heads = int(text, "num_attention_heads")
        if let headDim = int(text, "head_dim"), headDim > 0 {
            facts.headDim = headDim
        } else if let hidden = int(text, "hidden_size"), let heads, heads > 0, hidden % heads == 0 {
            facts.headDim = hidden / heads
        }
        facts.keyValueHeads = int(text, "num_key_value_heads") ?? heads
        facts.imageTokenIndex = int(top, "image_token_index") ?? int(top, "image_token_id")
        return .success(facts)
    }
}

/// Reads checkpoint facts for the checker's model-dependent checks.
public protocol CheckpointInspector: Sendable {
    /// Facts from `<modelPath>/config.json`, or why they cannot be read.
    func facts(forModelAt modelPath: String) -> Result<CheckpointFacts, SpecFileError>
}

/// Reads `config.json` from the model folder through a `SpecFileSystem`.
public struct ConfigFileInspector: CheckpointInspector {
    public var fileSystem: any SpecFileSystem

    public init(fileSystem: any SpecFileSystem = LocalSpecFileSystem()) {
        self.fileSystem = fileSystem
    }

    public func facts(forModelAt modelPath: String) -> Result<CheckpointFacts, SpecFileError> {
        let path = modelPath.hasSuffix("/") ? modelPath + "config.json" : modelPath + "/config.json"
        switch fileSystem.read(path) {
        case .failure(let error): return .failure(error)
        case .success(let bytes): return CheckpointFacts.parse(configJSON: bytes)
        }
    }
}
