import Foundation
import Testing
import TestSupport

/// Runs the built `lcb plan` (it sits beside the test bundle): output, exit status, caches.
@Suite struct PlanCommandTests {
    static let executable = LCBProcess.executable

    func run(_ arguments: [String], home: URL? = nil) throws -> LCBProcessResult {
        let lcbHome = home ?? FileManager.default.temporaryDirectory.appendingPathComponent("lcb-home-\(UUID().uuidString)")
        defer { if home == nil { try? FileManager.default.removeItem(at: lcbHome) } }
        return try LCBProcess.run(arguments, in: Fixtures.url("planning/specs"),
                                  environment: ["NO_COLOR": "1", "LCB_HOME": lcbHome.path])
    }

    @Test(.enabled(if: executable != nil)) func summaryCountsTheSharing() throws {
        let result = try run(["plan", "kv.yaml"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("plan ") == true)
        #expect(lines.contains("cells: 4"))
        // 6 samples (3 per probe), 4 cells: three share the store prefill, one has prefix prefills.
        #expect(lines.contains("  vision encoding         24        6  75.0%"))
        #expect(lines.contains("  prefill                 18        6  66.7%"))
        #expect(lines.contains("  prefix prefill           6        6   0.0%"))
        #expect(lines.contains("  decode                  24       24   0.0%"))
        #expect(lines.contains { $0.hasPrefix("estimated compute: planned ") && $0.contains("TFLOP") })
        #expect(lines.contains { $0.contains("no *.safetensors") && $0.contains("provisional") })
    }

    @Test(.enabled(if: executable != nil)) func realFormatDatasetsAreReadSoQuestionsShareTheirImage() throws {
        // 4 POPE questions on 2 images; 3 cells (fp16 under store, two KIVI configs under prefix).
        let result = try run(["plan", "pope-files.yaml"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("  dataset pope: 4 samples"))
        #expect(lines.contains("  vision encoding         12        2  83.3%"))
        #expect(lines.contains("  prefill                  4        4   0.0%"))
        #expect(lines.contains("  prefix prefill           8        2  75.0%"))
        #expect(lines.contains("  decode                  12       12   0.0%"))
    }

    @Test(.enabled(if: executable != nil)) func jsonAndTextAgreeAndRepeat() throws {
        let json = try run(["plan", "--json", "kv.yaml"])
        #expect(json.status == 0)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let hash = try #require(root["hash"] as? String)
        let text = try run(["plan", "kv.yaml"])
        #expect(text.stdout.hasPrefix("plan \(hash.prefix(12))"))
        #expect(try run(["plan", "--json", "kv.yaml"]).stdout == json.stdout)
        let naive = try run(["plan", "--json", "--no-dedup", "kv.yaml"])
        let naiveRoot = try #require(try JSONSerialization.jsonObject(with: Data(naive.stdout.utf8)) as? [String: Any])
        #expect(naiveRoot["deduplicated"] as? Bool == false)
        #expect((naiveRoot["jobs"] as? [Any])?.count == 4 * 24)
        #expect(naiveRoot["hash"] as? String != hash)
    }

    @Test(.enabled(if: executable != nil)) func specsGivenTogetherPlanIdenticalCellsOnce() throws {
        let result = try run(["plan", "kv.yaml", "kv-again.yaml"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("cells: 4 (6 requested; 2 identical ones planned once)\n"))
        #expect(result.stdout.contains("specs: kv.yaml, kv-again.yaml\n"))
    }

    @Test(.enabled(if: executable != nil)) func errorsAndUsage() throws {
        let broken = try run(["plan", "broken.yaml"])
        #expect(broken.status == 1)
        #expect(broken.stdout.isEmpty)
        #expect(broken.stderr.contains("broken.yaml:4:39: error: undefined dataset 'missing'"))
        #expect(try run(["plan"]).status == 2)
        #expect(try run(["plan", "--bogus", "kv.yaml"]).status == 2)
        #expect(try run(["plan", "missing.yaml"]).status == 1)
    }

    @Test(.enabled(if: executable != nil)) func hugeGridsAreRefusedBeforeExpansion() throws {
        // 300 models × 300 datasets × 12 configurations = 1,080,000 cells: valid, but too many to plan.
        var text = "models:\n"
        for index in 0..<300 { text += "  m\(index): {path: ../llava-gemma-2b, template: gemma}\n" }
        text += "datasets:\n"
        for index in 0..<300 { text += "  d\(index): {suite: shapes, seed: \(index), size: 1, probes: [recognition]}\n" }
        text += "compression:\n  k:\n    kv: {method: uniform, bits: [2, 3, 4, 8], regime: [store, prefix, attention]}\n"
        text += "experiments:\n  e:\n    compression: k\n"
        text += "    models: [" + (0..<300).map { "m\($0)" }.joined(separator: ", ") + "]\n"
        text += "    datasets: [" + (0..<300).map { "d\($0)" }.joined(separator: ", ") + "]\n"
        let file = Fixtures.url("planning/specs").appendingPathComponent("huge-\(UUID().uuidString).yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try run(["plan", file.lastPathComponent])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("lcb plan: error: the specs ask for 1080000 cells; lcb plans at most 1000000 at once"))
    }

    @Test(.enabled(if: executable != nil)) func checkpointDigestsAreCached() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-home-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        #expect(try run(["plan", "kv.yaml"], home: home).status == 0)
        let cache = try String(contentsOf: home.appendingPathComponent("file-digests.json"), encoding: .utf8)
        #expect(cache.contains("llava-gemma-2b/config.json"))
    }
}
