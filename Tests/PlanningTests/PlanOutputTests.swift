import Foundation
import Planning
import SpecLanguage
import Testing

@Suite struct PlanOutputTests {
    let sweep = cells(kv: [nil] + kvSweep(.store) + kvSweep(.prefix))

    @Test func sameCellsGiveTheSameHashAndBytes() throws {
        let first = try planner().plan(sweep), second = try planner().plan(sweep)
        #expect(first.hash == second.hash)
        #expect(PlanRendering.json(first, specs: ["s.yaml"]) == PlanRendering.json(second, specs: ["s.yaml"]))
        #expect(PlanRendering.text(first, specs: ["s.yaml"]) == PlanRendering.text(second, specs: ["s.yaml"]))
    }

    @Test func gridOrderDoesNotChangeTheHash() throws {
        let plan = try planner().plan(sweep)
        #expect(try planner().plan(sweep.reversed()).hash == plan.hash)
        var shuffled = sweep
        var generator = SplitMix(seed: 7)
        shuffled.shuffle(using: &generator)
        #expect(try planner().plan(shuffled).hash == plan.hash)
    }

    @Test func differentWorkGivesADifferentHash() throws {
        let plan = try planner().plan(sweep)
        #expect(try planner(dedup: false).plan(sweep).hash != plan.hash)
        #expect(try planner().plan(Array(sweep.dropLast())).hash != plan.hash)
        let longer = cells(kv: [nil] + kvSweep(.store) + kvSweep(.prefix), generation: GenerationSettings(maxNewTokens: 9))
        #expect(try planner().plan(longer).hash != plan.hash)
    }

    @Test func jsonHoldsTheWholePlan() throws {
        let plan = try planner().plan(sweep)
        let data = Data(PlanRendering.json(plan, specs: ["s.yaml"]).utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(root["hash"] as? String == plan.hash.hex)
        #expect(root["deduplicated"] as? Bool == true)
        let jobs = try #require(root["jobs"] as? [[String: Any]])
        #expect(jobs.count == plan.jobs.count)
        #expect(jobs.first?["kind"] as? String == "vision_encoding")
        let cellsJSON = try #require(root["cells"] as? [[String: Any]])
        #expect(cellsJSON.count == 38)
        let decodeIDs = try #require(cellsJSON.first?["decode_jobs"] as? [Int])
        #expect(decodeIDs.allSatisfy { jobs[$0]["kind"] as? String == "decode" })
        let summary = try #require(root["summary"] as? [String: [String: Any]])
        let planned = try #require(summary["planned"]?["jobs"] as? [String: Int])
        #expect(planned["prefill"] == 17)
        #expect(planned["prefix_prefill"] == 9)
        #expect(planned["vision_encoding"] == 9)
        let naive = try #require(summary["naive"]?["jobs"] as? [String: Int])
        #expect(naive["vision_encoding"] == 19 * 17)
        let kv = try #require(cellsJSON[2]["kv"] as? [String: Any])
        #expect(kv["method"] as? String == "uniform")
        #expect(kv["regime"] as? String == "store")
    }

    @Test func textShowsCountsSavingsAndCompute() throws {
        let plan = try planner().plan(sweep)
        let text = PlanRendering.text(plan, specs: ["Specs/kv.yaml"])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "plan \(plan.hash.short)")
        #expect(lines.contains("specs: Specs/kv.yaml"))
        #expect(lines.contains("cells: 38"))
        // 19 configurations × 17 samples naive; 9 images planned.
        #expect(lines.contains("  vision encoding        323        9  97.2%"))
        #expect(lines.contains("  prefill                170       17  90.0%"))
        #expect(lines.contains("  prefix prefill         153        9  94.1%"))
        #expect(lines.contains("  decode                 323      323   0.0%"))
        #expect(lines.contains { $0.hasPrefix("estimated compute: ") && $0.contains("FLOP") && $0.contains("saves") })
        #expect(lines.contains { $0.contains("sweep") && $0.contains("pope") && $0.contains("prefix") })
    }

    @Test func naiveTextSaysSo() throws {
        let plan = try planner(dedup: false).plan(sweep)
        let text = PlanRendering.text(plan, specs: ["s.yaml"])
        #expect(text.hasPrefix("plan \(plan.hash.short) (naive: --no-dedup)\n"))
        #expect(text.contains("  total                 1292     1292   0.0%"))
    }

    @Test func scaledNumbersAreLocaleIndependent() throws {
        #expect(PlanRendering.scaled(1_234_000_000_000, unit: "FLOP") == "1.23 TFLOP")
        #expect(PlanRendering.scaled(999, unit: "B") == "999.00 B")
        #expect(PlanRendering.scaled(1_006_000, unit: "B") == "1.01 MB")
        #expect(PlanRendering.percent(0.4567) == "45.7%")
    }
}

/// A small deterministic generator for shuffles in tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
