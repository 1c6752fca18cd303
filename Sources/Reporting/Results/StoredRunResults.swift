import Execution
import Foundation

/// Reads runs from Execution's result store: the report files each run stored there.
public struct StoredRunResults: StoredResultsProvider {
    /// The store's database file (`.lcb/store.sqlite`).
    public let storeURL: URL

    public init(storeURL: URL) {
        self.storeURL = storeURL
    }

    /// The result set of run `id` (`12`), read from the files the run stored, exactly as
    /// `Reports/<spec>/` held them when it finished.
    public func resultSet(run id: String) throws -> ResultSet {
        guard let number = Int(id) else {
            throw ReportingError.notFound("run '\(id)'", hint: "a run id is a number, as in run:3; `lcb run` prints it")
        }
        guard FileManager.default.fileExists(atPath: storeURL.path) else {
            throw ReportingError.notFound("run \(id)", hint: "there is no result store at \(storeURL.path); give --store or set LCB_HOME")
        }
        let files: [String: Data]
        let runs: [StoredRun]
        do {
            let store = try ResultStore(url: storeURL)
            runs = try store.runs()
            files = try store.reportFiles(runID: number)
        } catch {
            throw ReportingError.unreadable(path: storeURL.path, reason: "\(error)")
        }
        guard runs.contains(where: { $0.id == number }) else {
            let known = runs.suffix(5).map { "run:\($0.id) (\($0.specName))" }.joined(separator: ", ")
            throw ReportingError.notFound("run \(id) in \(storeURL.path)",
                                          hint: runs.isEmpty ? "the store holds no runs yet" : "the latest runs are \(known)")
        }
        guard !files.isEmpty else {
            throw ReportingError.notFound("the report files of run \(id) in \(storeURL.path)",
                                          hint: "the run did not finish, or an older lcb recorded it; rerun the spec with `lcb run` (stored answers are reused)")
        }
        return try ReportFolderReader(files: InMemoryFileAccess(files: files, location: "run:\(id)")).read()
    }
}
