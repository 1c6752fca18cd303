import Foundation
import Testing
import TestSupport
@testable import SpecLanguage

/// Feeds mutated and random YAML to the whole loader: it must always return with well-formed
/// diagnostics, and never produce a spec alongside an error. (No wall-clock bounds: a hang shows
/// as a test that never ends; how the checker's time scales is measured by
/// Tools/bench/check-scaling.sh and Tools/bench/plan-bench.sh, not asserted here.)
@Suite struct RobustnessTests {
    static let seeds: [String] = {
        var texts: [String] = []
        let folder = Fixtures.url("spec/broken")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
        where name.hasSuffix(".yaml") {
            if let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) { texts.append(text) }
        }
        if let text = try? String(contentsOf: Fixtures.url("spec/valid/full.yaml"), encoding: .utf8) { texts.append(text) }
        return texts
    }()

    static let fragments = ["[", "]", "{", "}", ":", ": ", "- ", "\n", "\n  ", "&a ", "*a", "*b", "&b [*a, *a] ", "'", "\"",
                            "#", "!!str ", "? ", "|\n", ">\n", "---\n", "...\n", "\t", ",", "bits: [2, 4]", "method: kivi",
                            "include: x.yaml", "models:", "experiments:", "<<: *a", "\u{FEFF}", "é", "%YAML 1.1\n"]

    /// Checks one input.
    func check(_ bytes: [UInt8], seed: UInt64) {
        let fileSystem = InMemorySpecFileSystem(bytes: ["/mem/root.yaml": bytes, "/mem/x.yaml": Array("models: {}\n".utf8)])
        let loader = SpecLoader(fileSystem: fileSystem, currentDirectory: "/mem")
        let result = loader.load(path: "root.yaml")
        if result.diagnostics.containsErrors { #expect(result.spec == nil, "seed \(seed)") }
        for diagnostic in result.diagnostics {
            #expect(diagnostic.range.start.line >= 1 && diagnostic.range.start.column >= 1, "seed \(seed): \(diagnostic)")
            #expect(!diagnostic.message.isEmpty)
        }
        _ = result.rendered(useColor: true)
    }

    func mutate(_ text: String, rng: inout SeededGenerator) -> [UInt8] {
        var bytes = Array(text.utf8)
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !bytes.isEmpty: // flip a byte
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !bytes.isEmpty: // truncate
                bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng))
            case 2: // insert a YAML fragment
                let fragment = Array(Self.fragments.randomElement(using: &rng)!.utf8)
                bytes.insert(contentsOf: fragment, at: Int.random(in: 0...bytes.count, using: &rng))
            case 3 where bytes.count > 2: // delete a span
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...20, using: &rng)))
            default: // duplicate a line
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                if let line = lines.randomElement(using: &rng) { bytes += Array(("\n" + line).utf8) }
            }
        }
        return bytes
    }

    /// Rounds per batch; `LCB_FUZZ_ROUNDS=20000 swift test --filter RobustnessTests` searches longer.
    static let rounds = Int(ProcessInfo.processInfo.environment["LCB_FUZZ_ROUNDS"] ?? "") ?? 150

    @Test(arguments: 0..<8)
    func mutatedSpecsNeverCrashOrHang(batch: Int) throws {
        try #require(!Self.seeds.isEmpty)
        var rng = SeededGenerator(seed: UInt64(batch) &* 7919 &+ 1)
        for round in 0..<Self.rounds {
            let base = Self.seeds[(batch * Self.rounds + round) % Self.seeds.count]
            check(mutate(base, rng: &rng), seed: UInt64(batch * 1000 + round))
        }
    }

    @Test func randomFragmentSoupNeverCrashes() {
        var rng = SeededGenerator(seed: 42)
        for round in 0..<400 {
            var text = ""
            for _ in 0..<Int.random(in: 1...60, using: &rng) { text += Self.fragments.randomElement(using: &rng)! }
            check(Array(text.utf8), seed: UInt64(round))
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = SeededGenerator(seed: 7)
        for round in 0..<300 {
            let bytes = (0..<Int.random(in: 0...400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            check(bytes, seed: UInt64(round))
        }
    }

    /// Each is refused by a structural limit (nesting depth, expanded-node budget), so it fails
    /// after bounded work whatever the machine's speed.
    @Test func deepNestingAndAliasBombsAreRefused() {
        let deep = String(repeating: "a:\n" , count: 1) + (1...300).map { String(repeating: " ", count: $0) + "b:\n" }.joined()
        let flow = "models: " + String(repeating: "{a: ", count: 50_000) + String(repeating: "}", count: 50_000)
        var bomb = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...30 {
            bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        bomb += "models: *a30\n"
        for text in [deep, flow, bomb] { check(Array(text.utf8), seed: 0) }
        let result = loadInMemory(["root.yaml": bomb])
        #expect(result.diagnostics.first?.message.contains("alias bomb") == true)
        #expect(result.spec == nil)
        let nested = loadInMemory(["root.yaml": flow])
        #expect(nested.diagnostics.containsErrors)
        #expect(nested.spec == nil)
    }

    /// Hundreds of bad references into a 10,000-configuration sweep: each gets its own error and
    /// the nearest name as a suggestion.
    @Test func manyBadReferencesIntoAHugeSweep() {
        let bad = (0..<500).map { "big/rank=\($0 + 500)/prefill_rank=1" }.joined(separator: ", ")
        let text = """
            models: {m: {path: m, template: gemma}}
            datasets: {d: {suite: shapes}}
            compression:
              big: {kv: {method: gear, rank: [\((1...100).map(String.init).joined(separator: ", "))], prefill_rank: [\((1...100).map(String.init).joined(separator: ", "))]}}
            experiments:
              e: {models: m, datasets: d, compression: [big/rank=1/prefill_rank=1, \(bad)]}
            """
        let result: SpecLoadResult? = loadInMemory(["root.yaml": text])
        #expect(result?.diagnostics.filter(\.isError).count == 500)
        #expect(result?.diagnostics.first { $0.isError }?.message
                == "undefined compression configuration 'big/rank=500/prefill_rank=1'; did you mean 'big/rank=50/prefill_rank=1'?")
    }

    /// A large valid spec (1,000 models, datasets and configurations) checks cleanly and completely.
    ///
    /// That checking grows linearly with the spec is measured by `Tools/bench/check-scaling.sh`,
    /// not here: a timed unit test flakes on a loaded machine.
    @Test(arguments: [250, 1_000])
    func largeSpecsCheckCleanly(entries n: Int) throws {
        var text = "models:\n"
        for i in 0..<n { text += "  m\(i): {path: m, template: gemma}\n" }
        text += "datasets:\n"
        for i in 0..<n { text += "  d\(i): {suite: shapes, seed: \(i)}\n" }
        text += "compression:\n"
        for i in 0..<n { text += "  c\(i): {kv: {method: kivi, bits: [2, 4], residual: \(32 * (i % 8))}}\n" }
        text += "experiments:\n  e: {models: [\((0..<n).map { "m\($0)" }.joined(separator: ", "))],"
        text += " datasets: [\((0..<n).map { "d\($0)" }.joined(separator: ", "))],"
        text += " compression: [\((0..<n).map { "c\($0)" }.joined(separator: ", "))]}\n"
        let checkpoint = #"{"image_token_index": 1, "text_config": {"head_dim": 64}}"#
        let files = InMemorySpecFileSystem(["/mem/root.yaml": text, "/mem/m/config.json": checkpoint])
        let result = SpecLoader(fileSystem: files, currentDirectory: "/mem").load(path: "root.yaml")
        #expect(!result.diagnostics.containsErrors, "\(result.rendered())")
        let spec = try #require(result.spec)
        #expect(spec.models.count == n)
        #expect(spec.datasets.count == n)
        #expect(spec.experiments["e"]?.compression.count == 2 * n)
        #expect(spec.experiments["e"]?.cellCount == n * n * 2 * n)
    }
}
