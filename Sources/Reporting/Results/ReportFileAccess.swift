import Foundation

/// Reads the files of one report folder, wherever they are kept.
public protocol ReportFileAccess: Sendable {
    /// The file's bytes; nil when the file does not exist there.
    func read(_ name: String) throws -> Data?
    /// Where the folder is, for messages (`Reports/quickstart`, `HEAD~1:Reports/quickstart`).
    var location: String { get }
}

extension ReportFileAccess {
    /// One file's location, for messages.
    func describe(_ name: String) -> String {
        location.hasSuffix("/") || location.hasSuffix(":") ? location + name : location + "/" + name
    }
}

/// A report folder on disk.
public struct FolderFileAccess: ReportFileAccess {
    public let folder: URL
    public let location: String

    /// `displayName`: how messages and reports name the folder (default: its path).
    public init(folder: URL, displayName: String? = nil) {
        self.folder = folder
        self.location = displayName ?? folder.path
    }

    public func read(_ name: String) throws -> Data? {
        let url = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do { return try Data(contentsOf: url) } catch {
            throw ReportingError.unreadable(path: url.path, reason: error.localizedDescription)
        }
    }
}

/// A report folder as committed at a git revision, read with `git show REV:PATH` (nothing is checked out).
public struct GitRevisionFileAccess: ReportFileAccess {
    /// A folder inside the repository (the command runs there).
    public let repository: URL
    public let revision: String
    /// The report folder relative to the repository root (`Reports/quickstart`).
    public let folder: String

    public init(repository: URL, revision: String, folder: String) {
        self.repository = repository
        self.revision = revision
        self.folder = folder
    }

    public var location: String { "\(revision):\(folder)" }

    public func read(_ name: String) throws -> Data? {
        let path = folder.isEmpty ? name : folder + "/" + name
        // `git cat-file -e` tells "absent at this revision" apart from a bad revision.
        let exists = try Git.run(["cat-file", "-e", "\(revision):\(path)"], in: repository)
        guard exists.status == 0 else {
            let check = try Git.run(["rev-parse", "--verify", "--quiet", "\(revision)^{commit}"], in: repository)
            if check.status != 0 {
                throw ReportingError.unknownRevision(revision, repository: repository.path)
            }
            return nil
        }
        let shown = try Git.run(["show", "\(revision):\(path)"], in: repository)
        guard shown.status == 0 else {
            throw ReportingError.unreadable(path: "\(revision):\(path)",
                                            reason: String(decoding: shown.error, as: UTF8.self))
        }
        return shown.output
    }
}

/// Files held in memory (tests, and results handed over by another layer).
public struct InMemoryFileAccess: ReportFileAccess {
    public let files: [String: Data]
    public let location: String

    public init(files: [String: Data], location: String = "memory") {
        self.files = files
        self.location = location
    }

    public func read(_ name: String) throws -> Data? { files[name] }
}

/// Runs git; the only place Reporting starts a process.
public enum Git {
    public struct Result: Sendable {
        public var status: Int32
        public var output: Data
        public var error: Data
    }

    /// `git -C directory ARGS`; throws only when git cannot be started.
    public static func run(_ arguments: [String], in directory: URL) throws -> Result {
        let candidates = ["/usr/bin/git", "/usr/local/bin/git", "/bin/git", "/opt/homebrew/bin/git"]
        guard let git = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ReportingError.gitMissing
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: git)
        process.arguments = ["-C", directory.path] + arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting, so a large file cannot fill a pipe and stall git.
        let errorReader = ErrorCollector(handle: error.fileHandleForReading)
        errorReader.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errorReader.finish()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: data, error: errorData)
    }

    /// Collects a pipe on another thread.
    private final class ErrorCollector: @unchecked Sendable {
        let handle: FileHandle
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(handle: FileHandle) { self.handle = handle }

        func start() {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }

        func finish() -> Data {
            done.wait()
            return data
        }
    }
}
