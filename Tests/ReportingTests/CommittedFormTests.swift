import Execution
import Foundation
import Testing
@testable import Reporting

/// gzip through the system zlib: round trips, deterministic bytes, damaged input.
@Suite struct GzipTests {
    static let inputs: [Data] = [
        Data(),
        Data("a".utf8),
        Data(String(repeating: "{\"cell\":\"abc\",\"components\":{\"correct\":1}}\n", count: 5000).utf8),
        // Incompressible bytes larger than one 64 KiB output chunk.
        Data((0..<200_000).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }),
    ]

    @Test(arguments: inputs)
    func roundTrips(_ input: Data) throws {
        let compressed = try Gzip.compress(input)
        #expect(Gzip.isGzip(compressed))
        #expect(try Gzip.decompress(compressed) == input)
    }

    /// The header is fixed (no name, mtime 0, OS 255), so the bytes depend on the content alone.
    @Test func headerIsFixedAndOutputDeterministic() throws {
        let input = Data(String(repeating: "lcb ", count: 1000).utf8)
        let a = try Gzip.compress(input)
        let b = try Gzip.compress(input)
        #expect(a == b)
        #expect(Array(a.prefix(10)) == [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 2, 255])
        #expect(a.count < 100)
    }

    /// Reads what the gzip command writes, including two concatenated members (`cat a.gz b.gz`).
    @Test func readsTheGzipToolsOutputAndConcatenatedMembers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("x.txt")
        try Data("first line\nsecond line\n".utf8).write(to: text)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-kn", text.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "gzip is needed for this test")
        let external = try Data(contentsOf: folder.appendingPathComponent("x.txt.gz"))
        #expect(try Gzip.decompress(external) == Data("first line\nsecond line\n".utf8))
        let joined = external + (try Gzip.compress(Data("third\n".utf8)))
        #expect(try Gzip.decompress(joined) == Data("first line\nsecond line\nthird\n".utf8))
    }

    @Test func damagedInputIsAnErrorNotACrash() throws {
        let compressed = try Gzip.compress(Data(String(repeating: "sample ", count: 2000).utf8))
        #expect(throws: Gzip.Failure.truncated) { try Gzip.decompress(compressed.prefix(compressed.count / 2)) }
        #expect(throws: Gzip.Failure.truncated) { try Gzip.decompress(Data()) }
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Data("{\"not\": \"gzip\"}".utf8)) }
        var flipped = compressed
        flipped[20] ^= 0xFF
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(flipped) }
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(compressed + Data("junk".utf8)) }
    }
}

/// The committed form of a report folder (`results.json`, `manifest.json`, `samples.jsonl.gz`)
/// reads back as the same result set as the run's full folder.
@Suite struct CommittedFormTests {
    static func line(_ cell: String, _ compression: String, _ index: Int, probe: String, components: [String: Double],
                     output: String, error: String? = nil) -> SampleLine {
        SampleLine(experiment: "main", model: "tiny", compression: compression, dataset: "probes", index: index,
                   sample: "jsonl/\(probe)-\(index)", cell: cell,
                   prompt: "<bos><start_of_turn>user\n<image>\nQuestion \(index)?<end_of_turn>\n<start_of_turn>model\n",
                   output: output, tokens: [2, 17, index, 5], parsed: error == nil ? output.lowercased() : nil, probe: probe,
                   components: components, kvBytes: 24_576 + index, weightBytes: 1_532_672, error: error)
    }

    /// Two cells, binary and continuous components with full-precision doubles, a failed sample,
    /// non-ASCII output.
    static let lines: [SampleLine] = {
        var lines: [SampleLine] = []
        for (cell, compression) in [("k-fp16", "fp16"), ("k-kivi", "kivi/bits=2")] {
            for index in 0..<30 {
                lines.append(line(cell, compression, index, probe: "recognition",
                                  components: ["correct": Double((index * 7 + compression.count) % 3 == 0 ? 0 : 1)],
                                  output: index == 3 ? "Grün — 緑" : "red"))
                lines.append(line(cell, compression, 100 + index, probe: "captioning",
                                  components: ["CIDEr-D": Double(index) / 7 + 0.1, "BLEU-4": 1 / Double(index + 3)],
                                  output: "a red cross on the left"))
            }
            lines.append(line(cell, compression, 200, probe: "recognition", components: [:], output: "",
                              error: "image unreadable: x.png"))
        }
        return lines
    }()

    static func results() -> Data {
        let cells = [("k-fp16", "fp16"), ("k-kivi", "kivi/bits=2")].map { key, compression in
            """
            {"answered": 60, "compression": "\(compression)", "dataset": "probes", "experiments": ["main"], "failed": 1,
             "key": "\(key)", "kv": null, "weights": null, "metrics": {"recognition/exactMatch":
             {"higher_is_better": true, "n": 30, "standard_error": 0.05, "value": 0.6}}, "model": "tiny", "regime": "store",
             "samples": 61, "spec_files": ["Specs/q.yaml"]}
            """
        }
        return Data("{\"spec\": \"q\", \"plan_hash\": \"p\", \"cells\": [\(cells.joined(separator: ","))]}".utf8)
    }

    @Test func compactSamplesReadBackAsTheSameSamples() throws {
        let full = try ReportFiles.fullSamples(Self.lines)
        let compact = try ReportFiles.compactSamples(Self.lines)
        #expect(Gzip.isGzip(compact))
        // Well under the full file: prompts, token ids and byte counts are dropped, the rest compressed.
        #expect(compact.count * 4 < full.count)
        let fromFull = try ReportFolderReader(files: InMemoryFileAccess(files: ["results.json": Self.results(), "samples.jsonl": full])).read()
        let fromCompact = try ReportFolderReader(files: InMemoryFileAccess(files: ["results.json": Self.results(), "samples.jsonl.gz": compact])).read()
        #expect(fromFull.cells.count == 2)
        #expect(fromCompact.cells == fromFull.cells)
        let kivi = try #require(fromCompact.cells.first { $0.coordinates.compression == "kivi/bits=2" })
        // 60 answered samples; the failed one has no components and is skipped.
        #expect(kivi.samples.count == 60)
        #expect(kivi.samples["jsonl/recognition-3"]?.output == "Grün — 緑")
        #expect(kivi.samples["jsonl/captioning-104"]?.components["CIDEr-D"] == 4.0 / 7 + 0.1)
        #expect(kivi.samples["jsonl/captioning-104"]?.group == "captioning")
        // Without results.json the compact samples alone still give cells and component means.
        let alone = try ReportFolderReader(files: InMemoryFileAccess(files: ["samples.jsonl.gz": compact])).read()
        #expect(alone.cells.map(\.samples) == fromFull.cells.map(\.samples))
        #expect(alone.cells.first?.metric("accuracy") != nil)
    }

    /// Each compact line is a samples.jsonl line without the bulky fields.
    @Test func compactLinesKeepTheFieldsDiffReads() throws {
        let text = String(decoding: try Gzip.decompress(try ReportFiles.compactSamples(Self.lines)), as: UTF8.self)
        let first = try #require(text.split(separator: "\n").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["experiment", "model", "compression", "dataset", "index", "sample", "cell", "output",
                                     "parsed", "probe", "components"])
        #expect(text.split(separator: "\n").count == Self.lines.count)
    }

    @Test func aDamagedCompactFileNamesItself() throws {
        let broken = Data([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 2, 255, 1, 2, 3])
        let reader = ReportFolderReader(files: InMemoryFileAccess(files: ["results.json": Self.results(), "samples.jsonl.gz": broken],
                                                                  location: "Reports/q"))
        #expect {
            try reader.read()
        } throws: { error in
            "\(error)".hasPrefix("Reports/q/samples.jsonl.gz: cannot read (")
        }
    }

    /// `run.json` brings tokens/s and the run's commits; without it (a committed report) the
    /// diff says why speed is not compared and ignores the missing commits.
    @Test func runFileAddsSpeedAndRunFacts() throws {
        let run = Data("""
            {"spec": "q", "run": 4, "lcb": {"version": "0.1.0", "commit": "abc", "dirty": true},
             "spec_repository": {"commit": "def", "dirty": false}, "started_at": "2026-11-26T10:00:00Z",
             "finished_at": "2026-11-26T10:01:00Z", "wall_seconds": {"decode": 3}, "cache_hits": {}, "computed": {},
             "cells": [{"key": "k-fp16", "model": "tiny", "compression": "fp16", "dataset": "probes", "tokens_per_second": 120.5},
                       {"key": "k-kivi", "model": "tiny", "compression": "kivi/bits=2", "dataset": "probes", "tokens_per_second": 60.25}]}
            """.utf8)
        let compact = try ReportFiles.compactSamples(Self.lines)
        let committed = try ReportFolderReader(files: InMemoryFileAccess(
            files: ["results.json": Self.results(), "samples.jsonl.gz": compact], location: "HEAD:Reports/q")).read()
        let local = try ReportFolderReader(files: InMemoryFileAccess(
            files: ["results.json": Self.results(), "samples.jsonl.gz": compact, "run.json": run], location: "Reports/q")).read()
        #expect(committed.cells.allSatisfy { $0.resources.tokensPerSecond == nil })
        #expect(local.cells.map(\.resources.tokensPerSecond) == [120.5, 60.25])
        #expect(local.provenance?.runID == "4")
        #expect(local.provenance?.lcbCommit == "abc (dirty)")
        #expect(local.provenance?.specCommit == "def")
        #expect(local.provenance?.timingRecorded == true)

        let mixed = ResultDiffer().diff(old: committed, new: local)
        #expect(mixed.provenanceChanges.isEmpty)
        #expect(mixed.speedChanges.isEmpty)
        #expect(mixed.speedNote?.contains("old (HEAD:Reports/q) records no tokens/s") == true)
        #expect(mixed.changes.allSatisfy { !$0.significant && $0.delta == 0 })
        #expect(try DiffRenderer.render(mixed, format: .tex).contains("speed not compared: old (HEAD:Reports/q) records no tokens/s"))

        let slower = Data(String(decoding: run, as: UTF8.self).replacingOccurrences(of: "120.5", with: "60.25")
            .replacingOccurrences(of: "\"abc\"", with: "\"abd\"").utf8)
        let later = try ReportFolderReader(files: InMemoryFileAccess(
            files: ["results.json": Self.results(), "samples.jsonl.gz": compact, "run.json": slower], location: "rerun")).read()
        let both = ResultDiffer().diff(old: local, new: later)
        #expect(both.speedNote == nil)
        #expect(both.speedChanges.map(\.ratio) == [0.5, 1])
        #expect(both.provenanceChanges.map(\.subject) == ["lcb commit"])
        let text = try DiffRenderer.render(both, format: .md)
        #expect(text.contains("## Speed"))
        #expect(text.contains("| main/tiny/fp16/probes | 120.5 | 60.3 | 0.50× |"))
    }
}
