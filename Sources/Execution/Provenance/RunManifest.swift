import Crypto
import Foundation

/// Where every number of a run came from: inputs by content hash, code by version and commit,
/// the machine, and how the time was spent.
///
/// Stored with the run in the result store and written to `Reports/<spec>/manifest.json`.
public struct RunManifest: Sendable, Codable, Equatable {
    public struct FileHash: Sendable, Codable, Equatable {
        public var path: String
        public var sha256: String?
        public var bytes: Int?

        public init(path: String, sha256: String?, bytes: Int?) {
            self.path = path
            self.sha256 = sha256
            self.bytes = bytes
        }
    }

    /// A git checkout's state; nil fields when git or the repository is absent.
    public struct GitState: Sendable, Codable, Equatable {
        public var commit: String?
        public var dirty: Bool?

        public init(commit: String?, dirty: Bool?) {
            self.commit = commit
            self.dirty = dirty
        }
    }

    public struct Machine: Sendable, Codable, Equatable {
        public var cpuModel: String?
        public var cores: Int
        public var memoryBytes: UInt64
        public var operatingSystem: String

        enum CodingKeys: String, CodingKey {
            case cpuModel = "cpu_model", cores, memoryBytes = "memory_bytes", operatingSystem = "operating_system"
        }
    }

    public struct Model: Sendable, Codable, Equatable {
        public var name: String
        public var path: String
        /// The planner's identity of the weights (config.json + every safetensors file).
        public var weights: String
        public var tokenizer: String
        public var files: [FileHash]
    }

    public struct Dataset: Sendable, Codable, Equatable {
        public var name: String
        /// SHA-256 over the samples' ids, questions, references and image digests, in order.
        public var content: String
        public var samples: Int
    }

    public struct Lcb: Sendable, Codable, Equatable {
        public var version: String
        public var commit: String?
        public var dirty: Bool?
    }

    public var spec: String
    public var specFiles: [FileHash]
    public var planHash: String
    /// Git state of the repository holding the spec.
    public var specRepository: GitState
    public var lcb: Lcb
    public var models: [Model]
    public var datasets: [Dataset]
    public var machine: Machine
    public var threads: Int
    public var deduplicated: Bool
    public var startedAt: String
    public var finishedAt: String
    /// Wall-clock seconds per job kind (`vision_encoding`, `prefill`, `decode`, `scoring` …).
    public var wallSeconds: [String: Double]
    /// Work served without computing: store hits (answers), vision feature cache hits.
    public var cacheHits: [String: Int]
    /// Work computed by this run, by job kind.
    public var computed: [String: Int]
    public var failures: Int

    enum CodingKeys: String, CodingKey {
        case spec, specFiles = "spec_files", planHash = "plan_hash", specRepository = "spec_repository", lcb, models,
             datasets, machine, threads, deduplicated, startedAt = "started_at", finishedAt = "finished_at",
             wallSeconds = "wall_seconds", cacheHits = "cache_hits", computed, failures
    }

    /// Pretty, key-sorted JSON (stable, so manifests diff well).
    public func json() throws -> String { try JSONText.encode(self, pretty: true) + "\n" }
}

/// Facts about the machine and the code, gathered once per run.
public enum Provenance {
    /// SHA-256 of a file's bytes, streamed (checkpoints are large); nil when unreadable.
    public static func sha256(of url: URL) -> (digest: String, bytes: Int)? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        var hasher = SHA256()
        var total = 0
        while true {
            guard let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty else { break }
            total += chunk.count
            hasher.update(data: chunk)
        }
        return (hex(Array(hasher.finalize())), total)
    }

    public static func fileHash(_ path: String) -> RunManifest.FileHash {
        let hashed = sha256(of: URL(fileURLWithPath: path))
        return RunManifest.FileHash(path: path, sha256: hashed?.digest, bytes: hashed?.bytes)
    }

    /// The CPU model, cores and memory of this machine (Linux: /proc/cpuinfo and /proc/meminfo).
    public static func machine() -> RunManifest.Machine {
        var cpu: String?
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("model name") {
                if let colon = line.firstIndex(of: ":") {
                    cpu = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                break
            }
        }
        let info = ProcessInfo.processInfo
        return RunManifest.Machine(cpuModel: cpu, cores: info.activeProcessorCount, memoryBytes: info.physicalMemory,
                                   operatingSystem: info.operatingSystemVersionString)
    }

    /// The commit and dirty flag of the git repository containing `directory`; nils when git is
    /// not installed or the folder is not in a repository.
    public static func gitState(of directory: URL) -> RunManifest.GitState {
        guard let commit = runGit(["rev-parse", "HEAD"], in: directory)?.trimmingCharacters(in: .whitespacesAndNewlines),
              !commit.isEmpty else { return RunManifest.GitState(commit: nil, dirty: nil) }
        let status = runGit(["status", "--porcelain", "--untracked-files=no"], in: directory)
        return RunManifest.GitState(commit: commit, dirty: status.map { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty })
    }

    /// Runs `git ARGS` in `directory`; nil when git is missing or fails.
    static func runGit(_ arguments: [String], in directory: URL) -> String? {
        let candidates = ["/usr/bin/git", "/usr/local/bin/git", "/bin/git"]
        guard let git = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: git)
        process.arguments = ["-C", directory.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The commit lcb was built from: `LCB_COMMIT` at build time is not available to SwiftPM, so
    /// the source checkout this binary's sources came from is asked (nil when it is gone).
    public static func lcbState(version: String) -> RunManifest.Lcb {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let state = gitState(of: sources)
        return RunManifest.Lcb(version: version, commit: state.commit, dirty: state.dirty)
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
