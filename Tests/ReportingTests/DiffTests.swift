import Execution
import Foundation
import Testing
import TestSupport
@testable import Reporting

@Suite struct DiffTests {
    func diffAB() throws -> ResultDiff {
        var a = try TestData.run("run-a"), b = try TestData.run("run-b")
        a.origin = "run-a"
        b.origin = "run-b"
        return ResultDiffer().diff(old: a, new: b)
    }

    @Test func knownSignificanceFromTheFixture() throws {
        let diff = try diffAB()
        let expected = try #require(try TestData.expected()["diff"] as? [String: [String: Any]])

        let kivi2 = try #require(diff.changes.first { $0.cell == "main/tiny-gemma/kivi/bits=2/probes" && $0.metric == "exactMatch" })
        #expect(kivi2.test.method == "mcnemar-exact")
        #expect(kivi2.test.rightToWrong == 14 && kivi2.test.wrongToRight == 2 && kivi2.test.pairs == 100)
        let p2 = try #require(expected["kivi/bits=2"]?["p"] as? Double)
        #expect(abs((kivi2.test.pValue ?? 1) - p2) < 1e-12)
        #expect(kivi2.significant && kivi2.regression)
        #expect(abs(kivi2.delta - -12) < 1e-9)  // (2 − 14) / 100, in points

        let kivi4 = try #require(diff.changes.first { $0.cell == "main/tiny-gemma/kivi/bits=4/probes" && $0.metric == "exactMatch" })
        #expect(kivi4.test.rightToWrong == 2 && kivi4.test.wrongToRight == 3)
        #expect(kivi4.test.pValue == 1 && !kivi4.significant)

        // Unchanged cells: identical samples, p = 1, bootstrap interval [0, 0] for F1.
        let f1 = try #require(diff.changes.first { $0.cell == "main/tiny-gemma/fp16/pope" && $0.metric == "f1" })
        #expect(f1.test.method == "paired-bootstrap" && f1.test.lower == 0 && f1.test.upper == 0 && !f1.significant)

        #expect(diff.removed == ["main/tiny-gemma/uniform/bits=2/probes", "main/tiny-gemma/uniform/bits=2/pope"])
        #expect(diff.added.isEmpty)
        #expect(diff.provenanceChanges.map(\.subject) == ["plan hash", "lcb commit", "spec commit", "threads"])
        #expect(diff.provenanceChanges.first { $0.subject == "threads" }.map { [$0.old, $0.new] } == ["2", "1"])
        #expect(diff.changes.filter(\.significant).count == 1)
    }

    @Test func regressionThreshold() throws {
        let diff = try diffAB()
        #expect(diff.regressions(largerThan: 5).count == 1)
        #expect(diff.regressions(largerThan: 12).isEmpty)  // the drop is exactly 12 points
    }

    @Test func constructedContinuousChangeIsFlaggedByTheBootstrap() {
        // CIDEr-D per image: new is old + 0.2 on every image → a significant improvement.
        var old: [String: SampleComponents] = [:], new: [String: SampleComponents] = [:]
        for i in 0..<50 {
            let value = Double(i % 7) / 7
            old["s\(i)"] = SampleComponents(components: ["CIDEr-D": value])
            new["s\(i)"] = SampleComponents(components: ["CIDEr-D": value + 0.2])
        }
        let metric = { (v: Double) in MetricResult(key: "CIDEr-D", value: v) }
        let a = ResultSet(spec: "s", cells: [TestData.cell("kivi", "coco", samples: old, metrics: [metric(0.4)])])
        let b = ResultSet(spec: "s", cells: [TestData.cell("kivi", "coco", samples: new, metrics: [metric(0.6)]),
                                             TestData.cell("gear", "coco")])
        let diff = ResultDiffer().diff(old: a, new: b)
        let change = diff.changes[0]
        #expect(change.test.method == "paired-bootstrap")
        #expect(abs((change.test.lower ?? 0) - 0.2) < 1e-9 && abs((change.test.upper ?? 0) - 0.2) < 1e-9)
        #expect(change.significant && !change.regression)
        #expect(diff.added == ["main/m/gear/coco"])
    }

    @Test func settingChangesAreListed() {
        var a = TestData.cell("kivi", "d"), b = TestData.cell("kivi", "d")
        a.kv = QuantizationSetting(method: "kivi", bits: 2, regime: "store")
        b.kv = QuantizationSetting(method: "kivi", bits: 2, regime: "prefix")
        let diff = ResultDiffer().diff(old: ResultSet(spec: "s", cells: [a]), new: ResultSet(spec: "s", cells: [b]))
        #expect(diff.settingChanges == [.init(subject: "main/m/kivi/d kv", old: "kivi 2-bit regime=store", new: "kivi 2-bit regime=prefix")])
    }

    @Test(arguments: DiffRenderer.Format.allCases)
    func renderings(format: DiffRenderer.Format) throws {
        let text = try DiffRenderer.render(try diffAB(), format: format)
        #expect(try TestData.matchesGolden(text, "diff.\(format.rawValue)"), "golden diff.\(format.rawValue) differs; LCB_UPDATE_GOLDENS=1 to regenerate")
        if format == .json {
            let decoded = try JSONDecoder().decode(ResultDiff.self, from: Data(text.utf8))
            #expect(decoded == (try diffAB()))
        }
    }
}

@Suite(.serialized) struct GitRevisionDiffTests {
    /// Commits run-a, then run-b, as Reports/demo in a fresh repository, and diffs HEAD~1 against HEAD.
    @Test func diffsTwoCommittedRevisions() throws {
        let repository = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-diff-\(UUID().uuidString)")
        let reports = repository.appendingPathComponent("Reports/demo")
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repository) }
        func git(_ arguments: String...) throws {
            let result = try Git.run(["-c", "user.name=lcb test", "-c", "user.email=test@example.invalid"] + arguments, in: repository)
            #expect(result.status == 0, "git \(arguments.joined(separator: " ")): \(String(decoding: result.error, as: UTF8.self))")
        }
        func copy(_ run: String) throws {
            for name in ["results.json", "samples.jsonl", "manifest.json"] {
                let target = reports.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: TestData.folder.appendingPathComponent(run).appendingPathComponent(name), to: target)
            }
        }
        try git("init", "-q")
        try copy("run-a")
        try git("add", ".")
        try git("commit", "-q", "-m", "run a")
        try copy("run-b")
        try git("add", ".")
        try git("commit", "-q", "-m", "run b")
        // The working tree then changes again: revisions must be read from git, not from disk.
        try Data("{}".utf8).write(to: reports.appendingPathComponent("results.json"))

        let locator = ResultSetLocator(directory: repository)
        let old = try locator.reference("HEAD~1", spec: nil)
        #expect(old == .revision("HEAD~1", folder: "./Reports/demo"))
        let diff = ResultDiffer().diff(old: try locator.load(old), new: try locator.load(try locator.reference("HEAD", spec: "demo")))
        #expect(diff.old == "HEAD~1:./Reports/demo")
        #expect(diff.removed.count == 2)
        let regression = try #require(diff.regressions(largerThan: 1).first)
        #expect(regression.cell == "main/tiny-gemma/kivi/bits=2/probes")
        #expect(regression.test.rightToWrong == 14)

        #expect(throws: ReportingError.self) { try locator.reference("no-such-branch", spec: nil) }
        // Both manifests are an older lcb's, with times: speed is compared for the 10 common cells.
        #expect(diff.speedChanges.count == 10 && diff.speedNote == nil)
        #expect(throws: ReportingError.notFound("run 3", hint: "this build has no result store to read runs from; use a report folder (Reports/<spec>) or a git revision")) {
            try locator.load(try locator.reference("run:3", spec: nil))
        }
    }

    /// The committed form at revisions: run-a as an older lcb committed it (samples.jsonl), then
    /// run-a and run-b as committed now (samples.jsonl.gz, no run.json). Every pairing gives the
    /// same comparison as the two folders on disk.
    @Test func diffsRevisionsHoldingTheCompressedSamples() throws {
        let repository = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-diff-gz-\(UUID().uuidString)")
        let reports = repository.appendingPathComponent("Reports/demo")
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repository) }
        func git(_ arguments: String...) throws {
            let result = try Git.run(["-c", "user.name=lcb test", "-c", "user.email=test@example.invalid"] + arguments, in: repository)
            #expect(result.status == 0, "git \(arguments.joined(separator: " ")): \(String(decoding: result.error, as: UTF8.self))")
        }
        func commit(_ run: String, compressed: Bool) throws {
            let source = TestData.folder.appendingPathComponent(run)
            for name in ["results.json", "manifest.json", "samples.jsonl", "samples.jsonl.gz"] {
                try? FileManager.default.removeItem(at: reports.appendingPathComponent(name))
            }
            for name in ["results.json", "manifest.json"] {
                try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: reports.appendingPathComponent(name))
            }
            let samples = try Data(contentsOf: source.appendingPathComponent("samples.jsonl"))
            if compressed {
                try Gzip.compress(samples).write(to: reports.appendingPathComponent("samples.jsonl.gz"))
            } else {
                try samples.write(to: reports.appendingPathComponent("samples.jsonl"))
            }
            try git("add", "-A", ".")
            try git("commit", "-q", "-m", "\(run) \(compressed ? "compressed" : "plain")")
        }
        try git("init", "-q")
        try commit("run-a", compressed: false)
        try commit("run-a", compressed: true)
        try commit("run-b", compressed: true)
        #expect(try Git.run(["cat-file", "-e", "HEAD:Reports/demo/samples.jsonl"], in: repository).status != 0)

        let locator = ResultSetLocator(directory: repository)
        let expected = try DiffTests().diffAB()
        for old in ["HEAD~2", "HEAD~1"] {
            let diff = ResultDiffer().diff(old: try locator.load(try locator.reference(old, spec: "demo")),
                                           new: try locator.load(try locator.reference("HEAD", spec: "demo")))
            #expect(diff.changes == expected.changes, "\(old)")
            #expect(diff.added == expected.added && diff.removed == expected.removed)
            #expect(diff.regressions(largerThan: 1).first?.test.rightToWrong == 14)
        }
        // With a second report and a README at the revisions, a folder on the other side names
        // the report to read; without one, the choice lists folders only.
        try FileManager.default.createDirectory(at: repository.appendingPathComponent("Reports/other"), withIntermediateDirectories: true)
        try Data("{\"spec\": \"other\", \"cells\": []}".utf8).write(to: repository.appendingPathComponent("Reports/other/results.json"))
        try Data("# Reports\n".utf8).write(to: repository.appendingPathComponent("Reports/README.md"))
        try git("add", "-A", ".")
        try git("commit", "-q", "-m", "another report")
        let pair = try locator.loadPair("HEAD~2", "Reports/demo", spec: nil)
        #expect(pair.old.origin == "HEAD~2:./Reports/demo" && pair.new.origin == "Reports/demo")
        #expect(ResultDiffer().diff(old: pair.old, new: pair.new).changes == expected.changes)
        #expect {
            try locator.reference("HEAD", spec: nil)
        } throws: { error in
            "\(error)".contains("it holds demo, other; choose one with --spec NAME")
        }
        // The same samples, plain or compressed: nothing changed.
        let same = ResultDiffer().diff(old: try locator.load(.revision("HEAD~3", folder: "./Reports/demo")),
                                       new: try locator.load(.revision("HEAD~2", folder: "./Reports/demo")))
        #expect(!same.changes.isEmpty && same.changes.allSatisfy { $0.delta == 0 && !$0.significant && $0.test.pairs > 0 })
    }
}
