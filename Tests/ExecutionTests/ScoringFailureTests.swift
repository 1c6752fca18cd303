import Foundation
import TestSupport
import Testing

/// A dataset that cannot be scored fails the run loudly without losing the other cells' metrics;
/// a probe mixing yes/no and short answers is scored by one exact match.
@Suite struct ScoringFailureTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: lcbExecutable.path)))
    func anUnscorableDatasetKeepsTheOthersListsTheCellAndExitsOne() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-unscorable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = Fixtures.url("execution/unscorable-probe.yaml").path
        let result = try runLCB(["run", spec, "--quiet", "--reports", folder.appendingPathComponent("R").path], in: folder)
        #expect(result.status == 1)
        #expect(result.stdout.contains("not scored: 1 cells") || result.stderr.contains("not scored: 1 cells"))

        let data = try Data(contentsOf: folder.appendingPathComponent("R/unscorable-probe/results.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cells = try #require(root["cells"] as? [[String: Any]])
        let synthetic = try #require(cells.first { $0["dataset"] as? String == "d" })
        #expect(synthetic["scoring_error"] == nil)
        let metrics = try #require(synthetic["metrics"] as? [String: Any])
        let recognition = try #require(metrics["recognition/exactMatch"] as? [String: Any])
        #expect(recognition["n"] as? Int == 4)
        // knowledge, size 4: 2 scenes × (corners: short, round: yes/no), all 4 in one exact match.
        let knowledge = try #require(metrics["knowledge/exactMatch"] as? [String: Any])
        #expect(knowledge["n"] as? Int == 4)
        let yesNo = try #require(metrics["knowledge/exactMatch[yes/no]"] as? [String: Any])
        let short = try #require(metrics["knowledge/exactMatch[short]"] as? [String: Any])
        #expect(yesNo["n"] as? Int == 2)
        #expect(short["n"] as? Int == 2)
        let overall = try #require(knowledge["value"] as? Double)
        let parts = try #require(yesNo["value"] as? Double) + (try #require(short["value"] as? Double))
        #expect(abs(overall - parts / 2) < 1e-9)

        let mixed = try #require(cells.first { $0["dataset"] as? String == "mixed" })
        let error = try #require(mixed["scoring_error"] as? String)
        #expect(error.contains("'jsonl/caption-1' is caption but 'jsonl/short-1' is short"))
        #expect((mixed["metrics"] as? [String: Any])?.isEmpty ?? true)
    }
}
