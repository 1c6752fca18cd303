import Foundation

/// Problems a user can fix: each names the file or thing, what was expected and what to do.
public enum ReportingError: Error, Sendable, Equatable, CustomStringConvertible {
    case noResults(where: String, expected: String)
    case malformed(location: String, problem: String)
    case unreadable(path: String, reason: String)
    case unknownRevision(String, repository: String)
    case gitMissing
    case unknownTable(String, available: [String])
    case template(path: String, problem: String)
    case notFound(String, hint: String)
    case noMatchingCells(table: String, detail: String)

    public var description: String {
        switch self {
        case .noResults(let location, let expected):
            return "\(location): no results found (expected \(expected)); run 'lcb run SPEC' first or point at a report folder"
        case .malformed(let location, let problem):
            return "\(location): \(problem)"
        case .unreadable(let path, let reason):
            return "\(path): cannot read (\(reason))"
        case .unknownRevision(let revision, let repository):
            return "'\(revision)' is not a commit in the git repository at \(repository); give a branch, tag, commit or HEAD~N"
        case .gitMissing:
            return "git is not installed; install it to compare git revisions, or compare report folders instead"
        case .unknownTable(let name, let available):
            return "no table named '\(name)'; the spec declares \(available.isEmpty ? "none" : available.map { "'\($0)'" }.joined(separator: ", "))"
        case .template(let path, let problem):
            return "\(path): \(problem)"
        case .notFound(let what, let hint):
            return "\(what) not found; \(hint)"
        case .noMatchingCells(let table, let detail):
            return "table '\(table)': no results for its cells (\(detail)); rerun 'lcb run' for the spec or check the report folder"
        }
    }
}
