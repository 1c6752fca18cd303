import Foundation
import TestSupport
import Testing

/// A probe that cannot be scored fails the run loudly without losing the other probes' metrics.
@Suite struct ScoringFailureTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: lcbExecutable.path)))
    func anUnscorableProbeKeepsTheOthersListsTheCellAndExitsOne() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-unscorable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = Fixtures.url("execution/unscorable-probe.yaml").path
        let result = try runLCB(["run", spec, "--quiet", "--reports", folder.appendingPathComponent("R").path], in: folder)
        #expect(result.status == 1)
        #expect(result.stdout.contains("not scored: 1 cells") || result.stderr.contains("not scored: 1 cells"))

        let data = try Data(contentsOf: folder.appendingPathComponent("R/unscorable-probe/results.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cell = try #require((root["cells"] as? [[String: Any]])?.first)
        let metrics = try #require(cell["metrics"] as? [String: Any])
        let recognition = try #require(metrics["recognition/exactMatch"] as? [String: Any])
        #expect(recognition["n"] as? Int == 4)
        #expect(!metrics.keys.contains { $0.hasPrefix("knowledge/") })
        let error = try #require(cell["scoring_error"] as? String)
        #expect(error.hasPrefix("knowledge: "))
    }
}
