import Engine
import Foundation
import Planning
import Quantization
import TestSupport
import Testing
@testable import Execution

/// The built `lcb` executable (`swift build` puts it beside the test bundle).
let lcbExecutable = Fixtures.packageRoot.appendingPathComponent(".build/debug/lcb")

/// Runs the built `lcb` with `arguments` in `folder`, `LCB_HOME` pointing into it.
func runLCB(_ arguments: [String], in folder: URL) throws -> LCBProcessResult {
    try LCBProcess.run(arguments, in: folder, environment: ["LCB_HOME": folder.appendingPathComponent("home").path],
                       executable: lcbExecutable)
}

/// End-to-end runs of the real engine on the committed tiny checkpoints.
@Suite(.serialized) struct EndToEndTests {
    @Test func theSharedRunAndTheNaiveRunGiveIdenticalAnswersOnTheRealEngine() throws {
        let shared = temporaryFolder()
        let naive = temporaryFolder()
        let a = try makeRunner(copySpec("grid.yaml", to: shared), folder: shared,
                               backend: EngineInferenceBackend(threads: 1)).run()
        let b = try makeRunner(copySpec("grid.yaml", to: naive), folder: naive,
                               backend: EngineInferenceBackend(threads: 1), deduplicate: false).run()
        let failures = a.statistics.failures + b.statistics.failures
        #expect(failures.isEmpty)
        let linesA = try String(contentsOf: a.reportFolder.appendingPathComponent("samples.jsonl"), encoding: .utf8)
        let linesB = try String(contentsOf: b.reportFolder.appendingPathComponent("samples.jsonl"), encoding: .utf8)
        #expect(linesA == linesB)
        #expect(a.statistics.computed["prefill"]! < b.statistics.computed["prefill"]!)
        #expect(a.statistics.computed["vision_encoding"]! < b.statistics.computed["vision_encoding"]!)
        // Real bytes: 4-bit packed weights are smaller, the 2-bit cache smaller than f16.
        let cells = a.cells
        let fp16 = try #require(cells.first { $0.compression == "fp16" && $0.dataset == "short" })
        let rtn = try #require(cells.first { $0.compression == "w-rtn-4" && $0.dataset == "short" })
        let kv2 = try #require(cells.first { $0.compression == "kv-prefix-2" && $0.dataset == "short" })
        #expect(try #require(rtn.weightBytes) < #require(fp16.weightBytes))
        #expect(try #require(kv2.kvBytesMean) < #require(fp16.kvBytesMean))
    }

    @Test func awqAndGPTQWeightsAreCalibratedOnTheirDatasetAndPacked() throws {
        let folder = temporaryFolder()
        let outcome = try makeRunner(copySpec("calibrated.yaml", to: folder), folder: folder,
                                     backend: EngineInferenceBackend(threads: 1)).run()
        let failures = outcome.statistics.failures
        #expect(failures.isEmpty)
        #expect(outcome.statistics.computed["weight_quantization"] == 2)
        let fp16 = try #require(outcome.cells.first { $0.compression == "fp16" }?.weightBytes)
        // weight_bytes count every linear layer (vision included); the LM's are packed to 4 bits.
        let model = try EngineModel(directory: Fixtures.url("models/llava-gemma"))
        #expect(fp16 == ModelWeightQuantization.linearBytes(of: model))
        let lmBytes = ModelWeightQuantization.linearBytes(of: model, targets: [.lm])
        for name in ["w-awq-4", "w-gptq-4"] {
            let cell = try #require(outcome.cells.first { $0.compression == name })
            #expect(cell.answered == 3)
            #expect(fp16 - (try #require(cell.weightBytes)) > lmBytes / 2)
        }
    }

    @Test func calibratedWeightsAreQuantizedOnceAndThenReadFromTheCache() throws {
        let folder = temporaryFolder()
        let spec = try copySpec("calibrated.yaml", to: folder)
        let first = try makeRunner(spec, folder: folder, backend: EngineInferenceBackend(threads: 1)).run()
        #expect(first.statistics.computed["weight_quantization"] == 2)
        let entries = LCBHome(root: folder.appendingPathComponent("home")).cache.entries().filter { $0.kind == .quantizedWeights }
        #expect(entries.count == 2)
        // A fresh store (every answer recomputed) over the same cache: the layers are read, not recalibrated.
        let home = LCBHome(root: folder.appendingPathComponent("home"), store: folder.appendingPathComponent("fresh.sqlite"))
        let second = try Runner(spec: try loadSpec(spec), specPath: spec, home: home,
                                options: RunOptions(threads: 1, reportsRoot: folder.appendingPathComponent("Reports2"), version: "test"),
                                backend: EngineInferenceBackend(threads: 1)).run()
        #expect(second.statistics.computed["weight_quantization"] == nil)
        #expect(second.statistics.cacheHits["quantized_weights"] == 2)
        #expect(second.statistics.computed["decode"] == first.statistics.computed["decode"])
        let a = try String(contentsOf: first.reportFolder.appendingPathComponent("samples.jsonl"), encoding: .utf8)
        let b = try String(contentsOf: second.reportFolder.appendingPathComponent("samples.jsonl"), encoding: .utf8)
        #expect(a == b)
        #expect(second.cells.map(\.weightBytes) == first.cells.map(\.weightBytes))
    }

    /// A `projector` target keys its vision features apart and computes them with the quantized
    /// projector; FP16 and the LM-only configuration share theirs.
    @Test func projectorTargetsGetTheirOwnVisionFeatures() throws {
        let folder = temporaryFolder()
        let spec = try copySpec("vision-targets.yaml", to: folder)
        func visionKeys(_ spec: String, _ folder: URL) throws -> Set<ContentKey> {
            let runner = try makeRunner(spec, folder: folder, backend: EngineInferenceBackend(threads: 1))
            return Set(try runner.plan(samples: runner.loadSamples()).jobs.filter { $0.kind == .visionEncoding }.map(\.key))
        }
        let lmOnlyFolder = temporaryFolder()
        let lmOnly = try visionKeys(copySpec("vision-targets.yaml", to: lmOnlyFolder) {
            $0.replacingOccurrences(of: "[fp16, w-lm-3, w-projector-3]", with: "[fp16, w-lm-3]")
        }, lmOnlyFolder)
        let all = try visionKeys(spec, folder)
        // One set of features for fp16 and w-lm-3, another (as many, disjoint) for w-projector-3.
        #expect(!lmOnly.isEmpty && lmOnly.isSubset(of: all) && all.count == 2 * lmOnly.count)
        let outcome = try makeRunner(spec, folder: folder, backend: EngineInferenceBackend(threads: 1)).run()
        #expect(outcome.statistics.failures.isEmpty)
        #expect(outcome.cells.first { $0.compression == "fp16" }?.answered == 3)
        #expect(outcome.statistics.computed["vision_encoding"] == all.count)
        for name in ["w-lm-3", "w-projector-3"] {
            #expect(outcome.cells.first { $0.compression == name }?.answered == 3)
        }
        let lm = try #require(outcome.cells.first { $0.compression == "w-lm-3" }?.weightBytes)
        let projector = try #require(outcome.cells.first { $0.compression == "w-projector-3" }?.weightBytes)
        #expect(projector < lm)
    }

    @Test func aKilledRunResumesWithoutDuplicatesOrRecomputation() throws {
        guard FileManager.default.isExecutableFile(atPath: lcbExecutable.path) else {
            Issue.record("\(lcbExecutable.path) is missing: run `swift build` before the tests")
            return
        }
        let folder = temporaryFolder()
        let spec = try copySpec("quickstart.yaml", to: folder)
        let storeURL = folder.appendingPathComponent("home/store.sqlite")
        let watcher = try ResultStore(url: storeURL)  // the schema exists before the child starts

        let process = Process()
        process.executableURL = lcbExecutable
        process.arguments = ["run", spec, "--quiet", "--threads", "1", "--reports", folder.appendingPathComponent("Reports").path]
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["LCB_HOME"] = folder.appendingPathComponent("home").path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date(timeIntervalSinceNow: 300)
        while process.isRunning, (try watcher.sampleCount()) < 12, Date() < deadline { usleep(5_000) }
        #expect(process.isRunning, "the run finished before it could be killed; give the fixture spec more work")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        let stored = try watcher.sampleCount()
        let keysBefore = try watcher.completedKeys()
        #expect(stored >= 12)
        #expect(try watcher.runs().first?.status == "running")  // killed: never finished

        let rerun = try runLCB(["run", spec, "--quiet", "--threads", "1", "--reports", folder.appendingPathComponent("Reports").path],
                               in: folder)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let runs = try watcher.runs()
        #expect(runs.count == 2)
        let results = try JSONDecoder().decode(ResultsFile.self, from: Data(contentsOf:
            folder.appendingPathComponent("Reports/quickstart-fixture/results.json")))
        #expect(results.cells.reduce(0) { $0 + $1.samples } > 100)
        // Samples with the same image and question share one answer: count distinct decode keys.
        let runner = try makeRunner(spec, folder: folder, backend: FakeBackend())
        let total = try runner.plan(samples: runner.loadSamples()).jobs.filter { $0.kind == .decode }.count
        // Every answer exactly once; the second run computed only what the first had not stored.
        #expect(try watcher.sampleCount() == total)
        #expect(runs[1].computed == total - stored)
        #expect(try watcher.sampleCount(runID: runs[1].id) == total - stored)
        let after = try watcher.records(keys: Array(keysBefore))
        #expect(after.count == keysBefore.count)
        #expect(after.values.allSatisfy { $0.error == nil })
        #expect(results.cells.allSatisfy { $0.answered == $0.samples && !$0.metrics.isEmpty })
    }

    @Test func theCommandReportsAMissingCheckpointAndExitsNonZero() throws {
        guard FileManager.default.isExecutableFile(atPath: lcbExecutable.path) else {
            Issue.record("\(lcbExecutable.path) is missing: run `swift build` before the tests")
            return
        }
        let folder = temporaryFolder()
        let spec = try copySpec("missing-model.yaml", to: folder)
        let result = try runLCB(["run", spec, "--reports", "Reports"], in: folder)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no-such-model/config.json"))
        #expect(result.stderr.contains("failed: 2 samples"))
        let results = try JSONDecoder().decode(ResultsFile.self, from: Data(contentsOf:
            folder.appendingPathComponent("Reports/missing-model/results.json")))
        #expect(results.cells.first { $0.model == "gemma" }?.answered == 2)

        let listing = try runLCB(["cache", "ls"], in: folder)
        #expect(listing.status == 0)
        #expect(listing.stdout.contains("vision-features"))
        #expect(!listing.stdout.contains("vision-features  0 entries"))
        let cleared = try runLCB(["cache", "clear", "--older-than", "7d"], in: folder)
        #expect(cleared.stdout.hasPrefix("removed 0 entries"))
        let bad = try runLCB(["cache", "clear", "--older-than", "soon"], in: folder)
        #expect(bad.status == 2)
    }

    @Test func twoProcessesWriteByteIdenticalReports() throws {
        guard FileManager.default.isExecutableFile(atPath: lcbExecutable.path) else {
            Issue.record("\(lcbExecutable.path) is missing: run `swift build` before the tests")
            return
        }
        var reports: [[Data]] = []
        for _ in 0..<2 {
            let folder = temporaryFolder()
            _ = try copySpec("captions.yaml", to: folder)
            // Relative paths: results.json names the spec file as it was given.
            let result = try runLCB(["run", "captions.yaml", "--quiet", "--reports", "Reports"], in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            let report = folder.appendingPathComponent("Reports/captions")
            // The spec's table is rendered beside the results (Reporting, as `lcb report` does it).
            #expect(result.stderr.contains("tables: main.md, main.csv"))
            // What a repository commits repeats byte for byte (two processes, two fresh stores);
            // the measurements of this process went to run.json.
            reports.append(try (ReportFiles.committed + ["samples.jsonl", "main.md", "main.csv"]).map {
                try Data(contentsOf: report.appendingPathComponent($0))
            })
            let run = try String(contentsOf: report.appendingPathComponent("run.json"), encoding: .utf8)
            #expect(run.contains("\"tokens_per_second\"") && run.contains("\"started_at\""))
        }
        #expect(reports[0] == reports[1])
        // A synthetic caption's question is LLaVA's COCO instruction (COCO-format files carry none).
        let samples = String(decoding: reports[0][3], as: UTF8.self)
        #expect(samples.contains("<image>\\nProvide a one-sentence caption for the provided image.<end_of_turn>"))
        let results = String(decoding: reports[0][0], as: UTF8.self)
        #expect(results.contains("CIDEr-D") && !results.contains("tokens_per_second"))
        let manifest = String(decoding: reports[0][1], as: UTF8.self)
        #expect(manifest.contains("\"plan_hash\"") && !manifest.contains("started_at") && !manifest.contains("\"commit\""))
        #expect(Gzip.isGzip(reports[0][2]))
    }

    @Test func aStoredRunRendersTheSameReportAsItsFolder() throws {
        guard FileManager.default.isExecutableFile(atPath: lcbExecutable.path) else {
            Issue.record("\(lcbExecutable.path) is missing: run `swift build` before the tests")
            return
        }
        let folder = temporaryFolder()
        _ = try copySpec("captions.yaml", to: folder)
        let run = try runLCB(["run", "captions.yaml", "--quiet", "--reports", "Reports"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        let fromFolder = try runLCB(["report", "Reports/captions", "--out", "from-folder"], in: folder)
        let fromRun = try runLCB(["report", "run:1", "--out", "from-run"], in: folder)
        #expect(fromFolder.status == 0, "\(fromFolder.stderr)")
        #expect(fromRun.status == 0, "\(fromRun.stderr)")
        for name in ["main.md", "main.csv", "report.md"] {
            let a = try String(contentsOf: folder.appendingPathComponent("from-folder/\(name)"), encoding: .utf8)
            let b = try String(contentsOf: folder.appendingPathComponent("from-run/\(name)"), encoding: .utf8)
            #expect(a == b, "\(name) differs")
            #expect(a.contains("cider"))
        }
        // A stored run against its own folder: nothing changed.
        let diff = try runLCB(["diff", "run:1", "Reports/captions", "--format", "json"], in: folder)
        #expect(diff.status == 0, "\(diff.stderr)")
        let missing = try runLCB(["report", "run:7", "--out", "x"], in: folder)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("run 7") && missing.stderr.contains("run:1 (captions)"))
    }

    @Test func aDryRunPrintsThePlanAndComputesNothing() throws {
        guard FileManager.default.isExecutableFile(atPath: lcbExecutable.path) else {
            Issue.record("\(lcbExecutable.path) is missing: run `swift build` before the tests")
            return
        }
        let folder = temporaryFolder()
        let spec = try copySpec("grid.yaml", to: folder)
        let result = try runLCB(["run", spec, "--dry-run"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("0 of 35 answers already stored; 35 to compute"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("Reports").path))
    }
}
