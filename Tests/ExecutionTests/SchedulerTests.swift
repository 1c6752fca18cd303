import Foundation
import Planning
import SpecLanguage
import TestSupport
import Testing
@testable import Execution

/// Loads a spec (failing the test on errors).
func loadSpec(_ path: String) throws -> Spec {
    let result = try #require(SpecLoader().load(paths: [path]).first)
    #expect(!result.diagnostics.containsErrors, "\(result.rendered())")
    return try #require(result.spec)
}

/// A copy of a fixture spec in `folder` with its model paths made absolute and `edit` applied.
func copySpec(_ name: String, to folder: URL, edit: (String) -> String = { $0 }) throws -> String {
    var text = try String(contentsOf: Fixtures.url("execution/\(name)"), encoding: .utf8)
    text = text.replacingOccurrences(of: "../models/", with: Fixtures.url("models").path + "/")
    let url = folder.appendingPathComponent(name)
    try edit(text).write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// A runner over `specPath` with its own home and reports folder under `folder`.
func makeRunner(_ specPath: String, folder: URL, backend: any InferenceBackend, deduplicate: Bool = true,
                limit: Int? = nil) throws -> Runner {
    Runner(spec: try loadSpec(specPath), specPath: specPath, home: LCBHome(root: folder.appendingPathComponent("home")),
           options: RunOptions(limit: limit, threads: 1, deduplicate: deduplicate,
                               reportsRoot: folder.appendingPathComponent("Reports"), version: "test"),
           backend: backend)
}

func jobCount(_ plan: Plan, _ kind: JobKind) -> Int { plan.jobs.filter { $0.kind == kind }.count }

@Suite struct SchedulerTests {
    @Test func everySharingThePlanAllowsHappensOnce() throws {
        let folder = temporaryFolder()
        let backend = FakeBackend()
        let outcome = try makeRunner(copySpec("grid.yaml", to: folder), folder: folder, backend: backend).run()
        let plan = outcome.plan
        let decodes = jobCount(plan, .decode)
        let prefixDecodes = plan.cells.filter { $0.cell.regime == .prefix }.reduce(0) { $0 + $1.sampleCount }
        let succeeded = outcome.succeeded
        #expect(succeeded, "\(outcome.statistics.failures.prefix(2))")
        #expect(plan.cells.count == 10)
        #expect(decodes == plan.cells.reduce(0) { $0 + $1.sampleCount })
        let counts = backend.counts
        // One vision encoding per distinct image, shared by both weight configurations (LM only).
        #expect(counts.vision == jobCount(plan, .visionEncoding))
        #expect(counts.vision < plan.naive.counts[.visionEncoding]!)
        // Whole-prompt prefills (store + attention), prefix prefills, and each prefix decode's question.
        #expect(counts.prefills == jobCount(plan, .prefill) + jobCount(plan, .prefixPrefill) + prefixDecodes)
        #expect(counts.generations == decodes)
        // Weights quantized once per (model, weight configuration): two sessions, fp16 and rtn-4.
        #expect(counts.sessions == 2)
        #expect(outcome.statistics.computed["decode"] == decodes)
        #expect(outcome.statistics.computed["vision_encoding"] == jobCount(plan, .visionEncoding))
        #expect(outcome.statistics.computed["weight_quantization"] == 1)
    }

    @Test func aRerunOverUnchangedInputsComputesNothing() throws {
        let folder = temporaryFolder()
        let spec = try copySpec("grid.yaml", to: folder)
        let first = try makeRunner(spec, folder: folder, backend: FakeBackend()).run()
        let firstLines = try String(contentsOf: first.reportFolder.appendingPathComponent("samples.jsonl"), encoding: .utf8)
        let backend = FakeBackend()
        let second = try makeRunner(spec, folder: folder, backend: backend).run()
        #expect(backend.counts == InferenceCounts())
        #expect(second.statistics.computed.isEmpty)
        #expect(second.statistics.cacheHits["store"] == jobCount(second.plan, .decode))
        #expect(second.plan.hash == first.plan.hash)
        // Reports are byte-identical across runs (timings never enter them).
        #expect(try String(contentsOf: second.reportFolder.appendingPathComponent("samples.jsonl"), encoding: .utf8) == firstLines)
        #expect(try ResultStore(url: LCBHome(root: folder.appendingPathComponent("home")).store).runs().count == 2)
    }

    @Test func eachRunStoresItsReportFilesAsWritten() throws {
        let folder = temporaryFolder()
        let spec = try copySpec("grid.yaml", to: folder)
        let first = try makeRunner(spec, folder: folder, backend: FakeBackend()).run()
        let store = try ResultStore(url: LCBHome(root: folder.appendingPathComponent("home")).store)
        // The compressed samples repeat samples.jsonl, so the store keeps only the latter.
        let names = ["manifest.json", "results.json", "run.json", "samples.jsonl"]
        let written = try names.map { try Data(contentsOf: first.reportFolder.appendingPathComponent($0)) }
        let stored = try store.reportFiles(runID: first.runID)
        #expect(stored.keys.sorted() == names)
        #expect(names.map { stored[$0] } == written)
        // A second run overwrites the folder; the first run's files stay in the store as they were.
        let second = try makeRunner(spec, folder: folder, backend: FakeBackend()).run()
        #expect(second.runID == first.runID + 1)
        #expect(try store.reportFiles(runID: first.runID)["manifest.json"] == written[0])
        #expect(try store.reportFiles(runID: second.runID)["manifest.json"]
                == Data(contentsOf: second.reportFolder.appendingPathComponent("manifest.json")))
    }

    @Test func resultsRecordSettingsAndMeasurementsAndSamplesTheirProbe() throws {
        let folder = temporaryFolder()
        let outcome = try makeRunner(copySpec("grid.yaml", to: folder), folder: folder, backend: FakeBackend()).run()
        let results = try JSONDecoder().decode(ResultsFile.self, from: Data(contentsOf: outcome.reportFolder.appendingPathComponent("results.json")))
        func cell(_ compression: String) throws -> CellResult {
            try #require(results.cells.first { $0.compression == compression && $0.dataset == "short" })
        }
        let kivi = try cell("kv-store-4"), prefix = try cell("kv-prefix-2"), rtn = try cell("w-rtn-4"), fp16 = try cell("fp16")
        #expect(kivi.kv?.method == "kivi" && kivi.kv?.bits == 4 && kivi.kv?.regime == "store")
        #expect(kivi.kv?.parameters == ["group_size": "16", "residual": "16"])
        #expect(prefix.kv?.parameters == ["scope": "per_tensor"] && prefix.kv?.regime == "prefix" && prefix.weights == nil)
        #expect(rtn.weights?.method == "rtn" && rtn.weights?.bits == 4 && rtn.weights?.regime == nil && rtn.kv == nil)
        #expect(rtn.weights?.parameters["group_size"] == "16")
        #expect(fp16.kv == nil && fp16.weights == nil)
        // The fake cache holds one "token" per history entry, 16 bytes each in f16 and 4 quantized.
        #expect([fp16, rtn, kivi, prefix].map(\.kvBytesPerToken) == [16, 16, 4, 4])
        // Speed is a measurement of this run: run.json has it, results.json (committed) does not.
        let run = try JSONDecoder().decode(RunFile.self, from: Data(contentsOf: outcome.reportFolder.appendingPathComponent("run.json")))
        #expect(run.cells.map(\.key) == results.cells.map(\.key))
        for speed in run.cells { #expect((speed.tokensPerSecond ?? 0) > 0, "\(speed.compression)") }
        #expect(results.cells.allSatisfy { $0.tokensPerSecond == nil })
        #expect(outcome.cells.allSatisfy { ($0.tokensPerSecond ?? 0) > 0 })
        // FP16 is written as `"kv" : null`, so a reader knows the setting rather than guessing it.
        let text = try String(contentsOf: outcome.reportFolder.appendingPathComponent("results.json"), encoding: .utf8)
        #expect(text.contains("\"kv\" : null") && !text.contains("\"tokens_per_second\""))
        let lines = try String(contentsOf: outcome.reportFolder.appendingPathComponent("samples.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(SampleLine.self, from: Data($0.utf8)) }
        #expect(Set(lines.filter { $0.dataset == "short" }.map(\.probe)) == ["recognition"])
        #expect(Set(lines.filter { $0.dataset == "pope" }.map(\.probe)) == ["hallucination"])
    }

    @Test func changingOneConfigurationRecomputesOnlyItsCells() throws {
        let folder = temporaryFolder()
        let spec = try copySpec("grid.yaml", to: folder)
        let first = try makeRunner(spec, folder: folder, backend: FakeBackend()).run()
        // 2-bit → 3-bit for the prefix configuration only.
        _ = try copySpec("grid.yaml", to: folder) {
            $0.replacingOccurrences(of: "{method: uniform, bits: 2, regime: prefix}", with: "{method: uniform, bits: 3, regime: prefix}")
        }
        let backend = FakeBackend()
        let second = try makeRunner(spec, folder: folder, backend: backend).run()
        let changed = second.plan.cells.filter { cell in !first.plan.cells.contains { $0.key == cell.key } }
        #expect(changed.count == 2)
        #expect(changed.allSatisfy { $0.cell.kv?.bits == 3 })
        let samples = changed.reduce(0) { $0 + $1.sampleCount }
        #expect(second.statistics.computed["decode"] == samples)
        #expect(backend.counts.generations == samples)
        // Vision features came from the disk cache; nothing else was recomputed.
        #expect(backend.counts.vision == 0)
        #expect(second.statistics.cacheHits["store"] == jobCount(second.plan, .decode) - samples)
    }

    @Test func theNaivePlanGivesIdenticalOutputs() throws {
        let shared = temporaryFolder()
        let naive = temporaryFolder()
        let sharedBackend = FakeBackend()
        let naiveBackend = FakeBackend()
        let a = try makeRunner(copySpec("grid.yaml", to: shared), folder: shared, backend: sharedBackend).run()
        let b = try makeRunner(copySpec("grid.yaml", to: naive), folder: naive, backend: naiveBackend, deduplicate: false).run()
        let linesA = try String(contentsOf: a.reportFolder.appendingPathComponent("samples.jsonl"), encoding: .utf8)
        let linesB = try String(contentsOf: b.reportFolder.appendingPathComponent("samples.jsonl"), encoding: .utf8)
        #expect(!linesA.isEmpty)
        #expect(linesA == linesB)
        #expect(naiveBackend.counts.vision > sharedBackend.counts.vision)
        #expect(naiveBackend.counts.prefills > sharedBackend.counts.prefills)
        #expect(naiveBackend.counts.generations == sharedBackend.counts.generations)
    }

    @Test func aLimitedRunIsContinuedNotRepeated() throws {
        let folder = temporaryFolder()
        let spec = try copySpec("grid.yaml", to: folder)
        let first = try makeRunner(spec, folder: folder, backend: FakeBackend(), limit: 1).run()
        let done = first.statistics.computed["decode"] ?? 0
        #expect(done == first.plan.cells.count)
        let backend = FakeBackend()
        let second = try makeRunner(spec, folder: folder, backend: backend).run()
        #expect(second.statistics.computed["decode"] == jobCount(second.plan, .decode) - done)
        #expect(second.statistics.cacheHits["store"] == done)
    }

    @Test func aMissingCheckpointFailsItsCellsAndTheRestFinishes() throws {
        let folder = temporaryFolder()
        let backend = FakeBackend()
        backend.failingModels = ["absent"]
        let outcome = try makeRunner(copySpec("missing-model.yaml", to: folder), folder: folder, backend: backend).run()
        let succeeded = outcome.succeeded
        #expect(!succeeded)
        #expect(outcome.statistics.failures.count == 2)
        #expect(outcome.statistics.failures.allSatisfy { $0.message.contains("config.json") && $0.cell.contains("absent") })
        let good = try #require(outcome.cells.first { $0.model == "gemma" })
        #expect(good.answered == 2)
        #expect(!good.metrics.isEmpty)
        let bad = try #require(outcome.cells.first { $0.model == "absent" })
        #expect(bad.failed == 2)
        #expect(bad.metrics.isEmpty)
        // Failures are stored, and retried by the next run.
        let retry = try makeRunner(copySpec("missing-model.yaml", to: folder), folder: folder, backend: FakeBackend()).run()
        let retried = retry.succeeded
        #expect(retried)
        #expect(retry.statistics.computed["decode"] == 2)
    }

    @Test func aDatasetThatCannotBeLoadedIsReportedWithFileAndLine() throws {
        let folder = temporaryFolder()
        try FileManager.default.copyItem(at: Fixtures.url("execution/broken-data"),
                                         to: folder.appendingPathComponent("broken-data"))
        let outcome = try makeRunner(copySpec("broken-dataset.yaml", to: folder), folder: folder, backend: FakeBackend()).run()
        let succeeded = outcome.succeeded
        #expect(!succeeded)
        #expect(outcome.datasetErrors.count == 1)
        #expect(outcome.datasetErrors.first?.contains("broken-data/questions.jsonl:2") == true)
        let good = try #require(outcome.cells.first { $0.dataset == "short" })
        #expect(good.answered == 2)
        #expect(outcome.cells.first { $0.dataset == "broken" }?.samples == 0)
    }

    @Test func anUnreadableImageFailsItsSamplesNamingTheFile() throws {
        let folder = temporaryFolder()
        let spec = try copySpec("grid.yaml", to: folder)
        _ = try makeRunner(spec, folder: folder, backend: FakeBackend()).run()
        // Damage one rendered image, then run against a fresh store and cache.
        let images = try #require(FileManager.default.enumerator(at: folder.appendingPathComponent("home/synthetic"),
                                                                 includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "png" }.sorted { $0.path < $1.path })
        // Each suite setting renders its own folder: damage the first recognition image in all of them.
        let victims = images.filter { $0.lastPathComponent.hasPrefix("recognition-0000") }
        let victim = try #require(victims.first)
        for file in victims { try FileManager.default.removeItem(at: file) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("home/store.sqlite"))
        let outcome = try makeRunner(spec, folder: folder, backend: FakeBackend()).run()
        let succeeded = outcome.succeeded
        #expect(!succeeded)
        #expect(!outcome.statistics.failures.isEmpty)
        #expect(outcome.statistics.failures.allSatisfy { $0.message.contains(victim.lastPathComponent) })
        #expect(outcome.cells.contains { $0.failed == 0 && $0.dataset == "pope" })
    }

    @Test func aCorruptFeatureCacheEntryIsRecomputedWithAWarning() throws {
        let folder = temporaryFolder()
        let spec = try copySpec("grid.yaml", to: folder)
        _ = try makeRunner(spec, folder: folder, backend: FakeBackend()).run()
        let home = LCBHome(root: folder.appendingPathComponent("home"))
        let entries = home.cache.entries()
        let damaged = try #require(entries.first)
        try Data([1, 2, 3]).write(to: damaged.url)
        try FileManager.default.removeItem(at: home.store)
        let backend = FakeBackend()
        var warnings: [String] = []
        let outcome = try makeRunner(spec, folder: folder, backend: backend).run(warn: { warnings.append($0) })
        #expect(backend.counts.vision == 1)
        // Every other image came from the cache (once per session that needed it).
        #expect(outcome.statistics.cacheHits["vision_encoding"]! >= entries.count - 1)
        #expect(warnings.contains { $0.contains("corrupt") && $0.contains(damaged.url.lastPathComponent) })
        #expect(home.cache.entries().count == entries.count)
        let succeeded = outcome.succeeded
        #expect(succeeded, "\(outcome.statistics.failures.prefix(2))")
    }

    @Test func theManifestRecordsInputsCodeMachineAndWork() throws {
        let folder = temporaryFolder()
        let spec = try copySpec("grid.yaml", to: folder)
        let outcome = try makeRunner(spec, folder: folder, backend: FakeBackend()).run()
        let manifest = outcome.manifest
        // manifest.json holds what depends on the inputs, with paths relative to the working
        // directory; run.json what is particular to this run.
        let written = try JSONDecoder().decode(ManifestFile.self, from: Data(contentsOf: outcome.reportFolder.appendingPathComponent("manifest.json")))
        let workingDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        #expect(written == ManifestFile(manifest, workingDirectory: workingDirectory))
        #expect(written.models[0].path == ManifestFile.relativePath(manifest.models[0].path, to: workingDirectory))
        let run = try JSONDecoder().decode(RunFile.self, from: Data(contentsOf: outcome.reportFolder.appendingPathComponent("run.json")))
        #expect(run == RunFile(manifest: manifest, runID: outcome.runID, cells: outcome.cells))
        #expect(run.startedAt == manifest.startedAt && run.wallSeconds == manifest.wallSeconds)
        #expect(manifest.spec == "grid")
        #expect(manifest.specFiles.count == 1)
        #expect(manifest.specFiles[0].sha256 == Provenance.sha256(of: URL(fileURLWithPath: spec))?.digest)
        #expect(manifest.planHash == outcome.plan.hash.hex)
        #expect(manifest.specRepository == .init(commit: nil, dirty: nil))  // a temporary folder is no repository
        #expect(manifest.lcb.version == "test")
        #expect(manifest.models.count == 1)
        #expect(manifest.models[0].weights == outcome.plan.models[0].inspection.identity.weights.hex)
        #expect(manifest.models[0].files.contains { $0.path.hasSuffix("model.safetensors") && $0.sha256?.count == 64 })
        #expect(manifest.datasets.map(\.name).sorted() == ["pope", "short"])
        #expect(manifest.datasets.allSatisfy { $0.content.count == 64 && $0.samples > 0 })
        #expect(manifest.machine.cores > 0)
        #expect(manifest.threads == 1)
        #expect(manifest.deduplicated)
        #expect(manifest.wallSeconds["decode"] != nil)
        #expect(manifest.computed["decode"] == jobCount(outcome.plan, .decode))
        #expect(manifest.startedAt <= manifest.finishedAt)
        let stored = try ResultStore(url: LCBHome(root: folder.appendingPathComponent("home")).store).runs()
        #expect(stored.last?.manifestJSON == (try manifest.json()))
        #expect(stored.last?.status == "ok")
    }

    @Test func resultsHaveMetricsWithStandardErrorsPerCell() throws {
        let folder = temporaryFolder()
        let outcome = try makeRunner(copySpec("grid.yaml", to: folder), folder: folder, backend: FakeBackend()).run()
        let data = try Data(contentsOf: outcome.reportFolder.appendingPathComponent("results.json"))
        let results = try JSONDecoder().decode(ResultsFile.self, from: data)
        #expect(results.cells.count == 10)
        let pope = try #require(results.cells.first { $0.dataset == "pope" && $0.compression == "fp16" })
        let accuracy = try #require(pope.metrics["hallucination/accuracy"])
        #expect(accuracy.n == 4)
        #expect(accuracy.value >= 0 && accuracy.value <= 1)
        #expect(accuracy.standardError >= 0)
        let lines = try String(contentsOf: outcome.reportFolder.appendingPathComponent("samples.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count == jobCount(outcome.plan, .decode))
        let decoded = try lines.map { try JSONDecoder().decode(SampleLine.self, from: Data($0.utf8)) }
        #expect(decoded.allSatisfy { $0.error == nil && !$0.output.isEmpty && !$0.components.isEmpty })
        // Sorted by experiment, model, compression, dataset, sample position.
        let keys = decoded.map { [$0.experiment, $0.model, $0.compression, $0.dataset, String(format: "%06d", $0.index)] }
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
    }
}

@Suite struct ProgressDisplayTests {
    @Test func plainLinesAreThrottledAndTheLastAlwaysPrinted() {
        var display = ProgressDisplay(interactive: false)
        let start = Date(timeIntervalSince1970: 1000)
        #expect(display.update(.init(experiment: "e", done: 0, total: 4, computed: 0), now: start) == "e  0/4\n")
        #expect(display.update(.init(experiment: "e", done: 1, total: 4, computed: 1), now: start.addingTimeInterval(1)) == "")
        #expect(display.update(.init(experiment: "e", done: 2, total: 4, computed: 2), now: start.addingTimeInterval(6))
            == "e  2/4  0.33 samples/s  ETA 0:06\n")
        #expect(display.update(.init(experiment: "e", done: 4, total: 4, computed: 4), now: start.addingTimeInterval(7))
            .hasSuffix("done\n"))
    }

    @Test func aTerminalRedrawsEveryExperimentInPlace() {
        var display = ProgressDisplay(interactive: true)
        let now = Date(timeIntervalSince1970: 0)
        _ = display.update(.init(experiment: "a", done: 0, total: 2, computed: 0), now: now)
        let text = display.update(.init(experiment: "b", done: 1, total: 3, computed: 0), now: now)
        #expect(text == "\u{1B}[1A\r\u{1B}[Ka  0/2\n\r\u{1B}[Kb  1/3 (1 from the store)\n")
    }

    @Test(arguments: [(5.0, "0:05"), (65.0, "1:05"), (3723.0, "1:02:03")])
    func durations(seconds: Double, text: String) {
        #expect(ProgressDisplay.duration(seconds) == text)
    }
}
