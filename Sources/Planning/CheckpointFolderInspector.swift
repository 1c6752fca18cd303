import Crypto
import Foundation

/// What the planner learns about one model's checkpoint: its content identity and its sizes.
public struct ModelInspection: Sendable {
    public var identity: ModelIdentity
    /// Nil when config.json could not be read; the plan then reports unknown cost for the model.
    public var architecture: ModelArchitecture?
    /// Problems worth telling the user (unreadable files, provisional identity).
    public var notes: [String]

    public init(identity: ModelIdentity, architecture: ModelArchitecture?, notes: [String] = []) {
        self.identity = identity
        self.architecture = architecture
        self.notes = notes
    }
}

/// Looks at a model's checkpoint. The CLI uses `CheckpointFolderInspector`; tests inject their own.
public protocol ModelInspecting: Sendable {
    func inspect(_ model: ModelDescriptor) -> ModelInspection
}

/// Inspects a Hugging Face LLaVA folder on disk, hashing its files through a digest cache.
public struct CheckpointFolderInspector: ModelInspecting {
    public let digests: FileDigestCache

    public init(digests: FileDigestCache) { self.digests = digests }

    /// Files whose content is the tokenizer.
    static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model"]

    public func inspect(_ model: ModelDescriptor) -> ModelInspection {
        let folder = URL(fileURLWithPath: model.path)
        var notes: [String] = []
        var architecture: ModelArchitecture?
        do { architecture = try ModelArchitecture.read(checkpoint: folder) } catch {
            notes.append("model '\(model.name)': \(error.description); its cost is unknown")
        }

        let listing = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let weightFiles = listing.filter { $0.hasSuffix(".safetensors") }.sorted()
        var provisional = false
        if listing.isEmpty {
            notes.append("model '\(model.name)': cannot list \(folder.path); its job keys stand for the path, not the weights (provisional)")
            provisional = true
        } else if weightFiles.isEmpty {
            notes.append("model '\(model.name)': no *.safetensors in \(folder.path); its job keys stand for config.json only (provisional)")
            provisional = true
        }

        func digestMap(_ names: [String]) -> CanonicalValue {
            var members: [String: CanonicalValue] = [:]
            for name in names where listing.contains(name) {
                let path = folder.appendingPathComponent(name).path
                if let digest = digests.digest(ofFileAt: path) {
                    members[name] = .key(digest)
                } else {
                    notes.append("model '\(model.name)': cannot read \(path)")
                    provisional = true
                }
            }
            return .object(members)
        }

        var weights = digestMap(["config.json"] + weightFiles)
        if provisional { weights = .object(["provisional_path": .string(folder.standardizedFileURL.path), "files": weights]) }
        let identity = ModelIdentity(
            weights: ContentKey(weights),
            tokenizer: ContentKey(digestMap(Self.tokenizerFiles)),
            preprocessor: ContentKey(digestMap(["preprocessor_config.json"])),
            isProvisional: provisional)
        return ModelInspection(identity: identity, architecture: architecture, notes: notes)
    }
}

/// SHA-256 digests of files, cached by (path, size, modification time).
///
/// Hashing a 14 GB checkpoint takes a minute; planning the same spec again must not. The cache
/// is a JSON file (normally `.lcb/file-digests.json`); a file whose size or mtime changed is
/// hashed again. A missing or corrupt cache file is treated as empty.
public final class FileDigestCache: @unchecked Sendable {
    private struct Entry: Codable {
        var size: UInt64
        var modified: Double
        var sha256: String
    }

    /// Where the cache lives; nil keeps it in memory only.
    public let file: URL?
    private let lock = NSLock()
    private var entries: [String: Entry]
    private var dirty = false

    public init(file: URL?) {
        self.file = file
        if let file, let data = try? Data(contentsOf: file),
           let decoded = try? JSONDecoder().decode([String: Entry].self, from: data) {
            entries = decoded
        } else {
            entries = [:]
        }
    }

    /// The digest of a file's bytes, or nil if it cannot be read.
    public func digest(ofFileAt path: String) -> ContentKey? {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let absolute = url.path
        guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey]),
              values.isRegularFile == true, let fileSize = values.fileSize,
              let modified = values.contentModificationDate?.timeIntervalSince1970 else { return nil }
        let size = UInt64(fileSize)
        lock.lock()
        let cached = entries[absolute]
        lock.unlock()
        if let cached, cached.size == size, cached.modified == modified, let key = ContentKey(hex: cached.sha256) {
            return key
        }
        guard let key = Self.hash(fileAt: absolute) else { return nil }
        lock.lock()
        entries[absolute] = Entry(size: size, modified: modified, sha256: key.hex)
        dirty = true
        lock.unlock()
        return key
    }

    /// Writes the cache back if it changed; failures only cost a re-hash next time.
    public func save() {
        lock.lock()
        defer { lock.unlock() }
        guard dirty, let file else { return }
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        if let data = try? encoder.encode(entries), (try? data.write(to: file, options: .atomic)) != nil {
            dirty = false
        }
    }

    private static func hash(fileAt path: String) -> ContentKey? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            // `read(upToCount:)` returns nil or empty data at the end of the file; it throws on errors.
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 4 << 20) } catch { return nil }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
        }
        return ContentKey(digest: hasher.finalize())
    }
}
