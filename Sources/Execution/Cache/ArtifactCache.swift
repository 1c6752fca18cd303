import Crypto
import Foundation

/// What a cache entry holds; each kind has its own folder under `.lcb/cache/`.
public enum ArtifactKind: String, Sendable, CaseIterable, Hashable {
    /// Vision tower + projector output for one image (`[tokens, hidden]` float32).
    case visionFeatures = "vision-features"
    /// Quantized weights of one model under one expensive configuration (AWQ, GPTQ).
    case quantizedWeights = "quantized-weights"
}

/// A content-addressed store of computed artifacts on disk.
///
/// An entry lives at `<root>/<kind>/<first two hex digits>/<key>.bin` and starts with a header —
/// magic, format version, payload length and the payload's SHA-256 — so a read can tell a complete,
/// intact entry from a truncated or damaged one. Writes go to a temporary file in the same folder
/// and are renamed into place, so a reader (or a process killed mid-write) never sees half an entry.
public struct ArtifactCache: Sendable {
    public let root: URL

    static let magic: [UInt8] = Array("LCBCACHE".utf8)
    static let formatVersion: UInt32 = 1
    /// magic (8) + version (4) + payload length (8) + SHA-256 (32).
    static let headerSize = 52

    public init(root: URL) {
        self.root = root
    }

    /// Where the entry for `key` of `kind` lives (whether or not it exists).
    public func url(kind: ArtifactKind, key: String) -> URL {
        let shard = String(key.prefix(2))
        return root.appendingPathComponent(kind.rawValue).appendingPathComponent(shard).appendingPathComponent(key + ".bin")
    }

    /// The result of a lookup.
    public enum Lookup: Sendable, Equatable {
        case hit([UInt8])
        case miss
        /// The entry exists but is damaged; it has been removed. `reason` says what was wrong.
        case corrupt(reason: String)
    }

    /// Reads and verifies the entry for `key`. A damaged entry is deleted so that it is recomputed.
    public func read(kind: ArtifactKind, key: String) -> Lookup {
        let file = url(kind: kind, key: key)
        guard let data = FileManager.default.contents(atPath: file.path) else { return .miss }
        let bytes = [UInt8](data)
        if let reason = Self.verify(bytes) {
            try? FileManager.default.removeItem(at: file)
            return .corrupt(reason: "\(file.path): \(reason)")
        }
        // Touch it: `lcb cache clear --older-than` measures age since last use.
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: file.path)
        return .hit(Array(bytes[Self.headerSize...]))
    }

    /// Why `bytes` is not a valid entry, or nil when it is.
    static func verify(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= headerSize else { return "shorter than the cache header (\(bytes.count) bytes)" }
        guard Array(bytes[0..<8]) == magic else { return "not an lcb cache entry (bad magic)" }
        let version = readInteger(bytes, at: 8, as: UInt32.self)
        guard version == formatVersion else { return "cache format version \(version), expected \(formatVersion)" }
        let length = readInteger(bytes, at: 12, as: UInt64.self)
        guard UInt64(bytes.count - headerSize) == length else {
            return "payload has \(bytes.count - headerSize) bytes, header says \(length) (truncated?)"
        }
        let digest = Array(SHA256.hash(data: bytes[headerSize...]))
        guard digest == Array(bytes[20..<52]) else { return "payload checksum mismatch (damaged)" }
        return nil
    }

    /// Writes the entry for `key` atomically.
    public func write(kind: ArtifactKind, key: String, payload: [UInt8]) throws {
        let file = url(kind: kind, key: key)
        let folder = file.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var bytes = Self.magic
        bytes.reserveCapacity(Self.headerSize + payload.count)
        appendInteger(Self.formatVersion, to: &bytes)
        appendInteger(UInt64(payload.count), to: &bytes)
        bytes += Array(SHA256.hash(data: payload))
        bytes += payload
        let temporary = folder.appendingPathComponent(".\(key).\(ProcessInfo.processInfo.processIdentifier).\(UInt64.random(in: 0...UInt64.max)).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(bytes)) else {
            throw CacheError(message: "\(temporary.path): cannot write a cache entry; check that \(root.path) is writable")
        }
        // rename(2) replaces atomically; FileManager.moveItem refuses an existing destination.
        if rename(temporary.path, file.path) != 0 {
            let code = errno
            try? FileManager.default.removeItem(at: temporary)
            throw CacheError(message: "\(file.path): cannot move the cache entry into place (errno \(code))")
        }
    }

    // MARK: Listing and clearing

    /// Entries and bytes of one kind.
    public struct KindSummary: Sendable, Equatable {
        public var kind: ArtifactKind
        public var entries: Int
        public var bytes: Int
    }

    /// One file in the cache.
    public struct Entry: Sendable, Equatable {
        public var kind: ArtifactKind
        public var url: URL
        public var bytes: Int
        public var modified: Date
    }

    /// Every entry (and leftover temporary file) in the cache.
    public func entries() -> [Entry] {
        var result: [Entry] = []
        for kind in ArtifactKind.allCases {
            let folder = root.appendingPathComponent(kind.rawValue)
            guard let walker = FileManager.default.enumerator(
                at: folder, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey])
            else { continue }
            for case let file as URL in walker {
                guard let values = try? file.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey]),
                      values.isRegularFile == true else { continue }
                result.append(Entry(kind: kind, url: file, bytes: values.fileSize ?? 0,
                                    modified: values.contentModificationDate ?? .distantPast))
            }
        }
        return result.sorted { $0.url.path < $1.url.path }
    }

    /// Entries and bytes per kind (every kind listed, empty ones too).
    public func summary() -> [KindSummary] {
        let all = entries()
        return ArtifactKind.allCases.map { kind in
            let mine = all.filter { $0.kind == kind }
            return KindSummary(kind: kind, entries: mine.count, bytes: mine.reduce(0) { $0 + $1.bytes })
        }
    }

    /// Removes entries last used before `cutoff` (all entries when nil); returns what was removed.
    @discardableResult
    public func clear(olderThan cutoff: Date? = nil) -> (entries: Int, bytes: Int) {
        var removed = (entries: 0, bytes: 0)
        for entry in entries() where cutoff.map({ entry.modified < $0 }) ?? true {
            if (try? FileManager.default.removeItem(at: entry.url)) != nil {
                removed.entries += 1
                removed.bytes += entry.bytes
            }
        }
        return removed
    }
}

/// A cache entry could not be written.
public struct CacheError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Parses an age such as `7d`, `12h`, `30m`, `45s`, `2w` into seconds.
public func parseAge(_ text: String) -> TimeInterval? {
    let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
    guard let unit = text.last, let factor = units[unit], let number = Double(text.dropLast()), number >= 0,
          number.isFinite else { return nil }
    return number * factor
}

func appendInteger<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

func readInteger<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
    var value: T = 0
    withUnsafeMutableBytes(of: &value) { target in
        for index in 0..<MemoryLayout<T>.size { target[index] = bytes[offset + index] }
    }
    return T(littleEndian: value)
}
