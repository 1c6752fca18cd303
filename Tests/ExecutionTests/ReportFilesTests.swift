import Foundation
import Testing
@testable import Execution

/// The split of a run's report files into the committed, byte-stable part and the local part.
@Suite struct ReportFilesTests {
    @Test(arguments: [
        ("/work/repo/Models/tiny", "/work/repo", "Models/tiny"),
        ("/work/repo/Models/../Models/tiny/config.json", "/work/repo", "Models/tiny/config.json"),
        ("/work/repo", "/work/repo", "."),
        ("/work/repository/Models/tiny", "/work/repo", "/work/repository/Models/tiny"),
        ("Specs/quickstart.yaml", "/work/repo", "Specs/quickstart.yaml"),
    ])
    func manifestPathsAreRelativeToTheWorkingDirectory(_ path: String, _ directory: String, _ expected: String) {
        #expect(ManifestFile.relativePath(path, to: URL(fileURLWithPath: directory)) == expected)
    }

    @Test func theCommittedAndLocalFilesPartitionWhatARunWrites() throws {
        #expect(ReportFiles.committed == ["results.json", "manifest.json", "samples.jsonl.gz"])
        #expect(Set(ReportFiles.committed).isDisjoint(with: ReportFiles.local))
        // Reports/.gitignore ignores exactly the local files.
        let ignore = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Reports/.gitignore").standardizedFileURL, encoding: .utf8)
        let patterns = ignore.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map(String.init)
        #expect(patterns == ReportFiles.local.map { "*/" + $0 })
    }
}
