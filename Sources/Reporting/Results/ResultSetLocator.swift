import Foundation

/// The result store seen from Reporting: the seam through which `lcb report RUN` and `lcb diff`
/// read runs that Execution recorded. Execution (or the CLI) provides the implementation.
public protocol StoredResultsProvider: Sendable {
    /// The result set of run `id` (cells, samples' components, manifest), as a `ResultSet`.
    func resultSet(run id: String) throws -> ResultSet
}

/// Where a result set comes from, as a user names it on the command line.
public enum ResultSetReference: Sendable, Hashable, CustomStringConvertible {
    /// A report folder (`Reports/quickstart`).
    case folder(URL)
    /// A run in the result store (`12` or `run:12`).
    case run(String)
    /// A report folder as committed at a git revision (`HEAD~1`, a branch, a tag, a commit).
    case revision(String, folder: String)

    public var description: String {
        switch self {
        case .folder(let url): return url.path
        case .run(let id): return "run \(id)"
        case .revision(let revision, let folder): return "\(revision):\(folder)"
        }
    }
}

/// Resolves command-line names to result sets: report folders, run ids, git revisions.
public struct ResultSetLocator: Sendable {
    /// The working directory: relative folders and git revisions are resolved here.
    public var directory: URL
    /// Where report folders live (`Reports`, relative to `directory`).
    public var reportsFolder: String
    public var store: (any StoredResultsProvider)?

    public init(directory: URL, reportsFolder: String = "Reports", store: (any StoredResultsProvider)? = nil) {
        self.directory = directory
        self.reportsFolder = reportsFolder
        self.store = store
    }

    /// What `name` refers to: an existing folder first, then a run id, then a git revision
    /// (whose report folder is `Reports/<spec>`; `spec` may be nil when the revision holds one report).
    public func reference(_ name: String, spec: String?) throws -> ResultSetReference {
        if let direct = directReference(name) { return direct }
        let check = try Git.run(["rev-parse", "--verify", "--quiet", "\(name)^{commit}"], in: directory)
        guard check.status == 0 else {
            throw ReportingError.notFound(
                "'\(name)'", hint: "give a report folder, a run id (run:N) or a git revision of the repository at \(directory.path)")
        }
        if let spec { return .revision(name, folder: "./\(reportsFolder)/\(spec)") }
        let listing = try Git.run(["ls-tree", "-d", "--name-only", name, "\(reportsFolder)/"], in: directory)
        let folders = String(decoding: listing.output, as: UTF8.self).split(separator: "\n").map(String.init)
        guard folders.count == 1, let only = folders.first else {
            throw ReportingError.notFound(
                "a single report at \(name):\(reportsFolder)/",
                hint: folders.isEmpty ? "the revision has no \(reportsFolder)/ folder; commit a report first"
                                      : "it holds \(folders.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")); choose one with --spec NAME")
        }
        return .revision(name, folder: "./" + only)
    }

    /// A report folder or a run id; nil for anything else (a git revision, or nothing).
    func directReference(_ name: String) -> ResultSetReference? {
        let url = name.hasPrefix("/") ? URL(fileURLWithPath: name) : directory.appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return .folder(url.standardizedFileURL)
        }
        if name.hasPrefix("run:") { return .run(String(name.dropFirst(4))) }
        if !name.isEmpty, name.allSatisfy(\.isNumber), store != nil { return .run(name) }
        return nil
    }

    /// Both sides of a comparison. Without `spec`, a folder or run on one side names the report
    /// to read at a git revision on the other (`lcb diff HEAD Reports/kv-sweep`).
    public func loadPair(_ old: String, _ new: String, spec: String?) throws -> (old: ResultSet, new: ResultSet) {
        var spec = spec
        var loaded: [String: ResultSet] = [:]
        if spec == nil {
            for name in [old, new] {
                guard let direct = directReference(name) else { continue }
                let set = try load(direct)
                loaded[name] = set
                if spec == nil, !set.spec.isEmpty { spec = set.spec }
            }
        }
        let before = try loaded[old] ?? load(reference(old, spec: spec))
        let after = try loaded[new] ?? load(reference(new, spec: spec))
        return (before, after)
    }

    /// `url` relative to the working directory when it lies inside it (reports then name
    /// `Reports/quickstart`, not a machine-specific absolute path).
    func relativePath(_ url: URL) -> String {
        let base = directory.standardizedFileURL.path
        let path = url.standardizedFileURL.path
        if path == base { return "." }
        return path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
    }

    /// Reads the result set behind a reference.
    public func load(_ reference: ResultSetReference) throws -> ResultSet {
        switch reference {
        case .folder(let url):
            return try ReportFolderReader(files: FolderFileAccess(folder: url, displayName: relativePath(url))).read()
        case .revision(let revision, let folder):
            return try ReportFolderReader(files: GitRevisionFileAccess(repository: directory, revision: revision, folder: folder)).read()
        case .run(let id):
            guard let store else {
                throw ReportingError.notFound("run \(id)", hint: "this build has no result store to read runs from; use a report folder (Reports/<spec>) or a git revision")
            }
            return try store.resultSet(run: id)
        }
    }
}
