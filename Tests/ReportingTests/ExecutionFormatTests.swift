import Foundation
import SpecLanguage
import Testing
@testable import Reporting

/// The files exactly as Execution's runner writes them (`ResultsFile`, `CellResult`, `SampleLine`):
/// metrics keyed by name, a cell listed once for several experiments, probe-prefixed keys of a
/// synthetic suite, only the regime of the KV setting.
@Suite struct ExecutionFormatTests {
    static let results = """
        {
          "cells" : [
            {"answered" : 4, "compression" : "fp16", "dataset" : "probes", "experiments" : ["main", "sweep"], "failed" : 0,
             "key" : "k-fp16", "kv_bytes_mean" : 2048, "metrics" : {
               "recognition/exactMatch" : {"higher_is_better" : true, "n" : 2, "standard_error" : 0, "value" : 1},
               "spatial/exactMatch" : {"higher_is_better" : true, "n" : 2, "standard_error" : 0.5, "value" : 0.5}},
             "model" : "tiny", "regime" : "store", "samples" : 4, "spec_files" : ["Specs/q.yaml"], "weight_bytes" : 1048576},
            {"answered" : 4, "compression" : "kivi/bits=2", "dataset" : "probes", "experiments" : ["main"], "failed" : 0,
             "key" : "k-kivi2", "kv_bytes_mean" : 512, "metrics" : {
               "recognition/exactMatch" : {"higher_is_better" : true, "n" : 2, "standard_error" : 0.5, "value" : 0.5},
               "spatial/exactMatch" : {"higher_is_better" : true, "n" : 2, "standard_error" : 0, "value" : 0}},
             "model" : "tiny", "regime" : "prefix", "samples" : 4, "spec_files" : ["Specs/q.yaml"], "weight_bytes" : 1048576}
          ],
          "plan_hash" : "abc",
          "spec" : "q"
        }
        """

    static func line(_ compression: String, _ key: String, _ id: String, _ correct: Double) -> String {
        #"{"cell":"\#(key)","components":{"correct":\#(correct)},"compression":"\#(compression)","dataset":"probes","error":null,"experiment":"main","index":0,"kv_bytes":512,"model":"tiny","output":"x","parsed":"x","prompt":"p","sample":"\#(id)","tokens":[1],"weight_bytes":1048576}"#
    }

    static var samples: String {
        [line("fp16", "k-fp16", "recognition-0-color", 1), line("fp16", "k-fp16", "recognition-1-color", 1),
         line("fp16", "k-fp16", "spatial-0", 1), line("fp16", "k-fp16", "spatial-1", 0),
         line("kivi/bits=2", "k-kivi2", "recognition-0-color", 1), line("kivi/bits=2", "k-kivi2", "recognition-1-color", 0),
         line("kivi/bits=2", "k-kivi2", "spatial-0", 0), line("kivi/bits=2", "k-kivi2", "spatial-1", 0),
         #"{"cell":"k-kivi2","components":{},"compression":"kivi/bits=2","dataset":"probes","error":"not computed","experiment":"main","index":9,"model":"tiny","sample":"spatial-9"}"#,
        ].joined(separator: "\n") + "\n"
    }

    func read() throws -> ResultSet {
        try ReportFolderReader(files: InMemoryFileAccess(files: ["results.json": Data(Self.results.utf8),
                                                                 "samples.jsonl": Data(Self.samples.utf8)])).read()
    }

    @Test func cellsPerExperimentWithTheirSamples() throws {
        let results = try read()
        #expect(results.spec == "q")
        #expect(results.cells.map(\.coordinates.description) == ["main/tiny/fp16/probes", "sweep/tiny/fp16/probes", "main/tiny/kivi/bits=2/probes"])
        // The fp16 cell's samples reach both experiments through the cell key; the unanswered one is dropped.
        #expect(results.cells.map(\.samples.count) == [4, 4, 4])
        #expect(results.cells[0].metric("recognition/exactMatch")?.count == 2)
        #expect(results.cells[2].resources.kvBytes == 512)
        #expect(results.cells[2].regimeHint == "prefix")
        // No settings recorded: the name says what it can.
        #expect(!results.cells[2].settingsKnown && results.cells[2].bits == 2 && results.cells[2].methodLabel == "kivi")
        #expect(results.cells[0].isBaseline && !results.cells[2].isBaseline)
    }

    @Test func completedFromTheSpec() throws {
        let settings = ["kivi/bits=2": QuantizationSettings(kv: QuantizationSetting(method: "kivi", bits: 2, regime: "prefix"), weights: nil),
                        "fp16": QuantizationSettings(kv: nil, weights: nil)]
        let results = try read().completingSettings(from: settings)
        #expect(results.cells[2].kv?.regime == "prefix" && results.cells[2].settingsKnown)
        #expect(results.cells[0].isBaseline)
    }

    @Test func groupedMetricsBecomeColumnsAndPairWithinTheirGroup() throws {
        let results = try read()
        let definition = ResultTableBuilder().defaultDefinition(for: results)
        let table = try ResultTableBuilder().build(
            .init(name: "t", experiments: ["main"], rows: [.compression], columns: [.dataset, .metric],
                  metrics: ["probes": [.exactMatch]], baseline: "fp16", definedAt: .fileStart("x")),
            spec: nil, results: results)
        #expect(definition.metrics["probes"] == [.exactMatch])  // the grouped keys share one spec name
        #expect(table.columns.map(\.path) == [["probes", "recognition/exact_match"], ["probes", "spatial/exact_match"]])
        #expect(table.rows[1].entries.map { $0?.delta } == [-50, -50])

        var newer = results
        newer.origin = "new"
        let diff = ResultDiffer().diff(old: results, new: newer)
        let spatial = try #require(diff.changes.first { $0.cell == "main/tiny/kivi/bits=2/probes" && $0.metric == "spatial/exactMatch" })
        #expect(spatial.test.pairs == 2)  // spatial-0 and spatial-1 only
    }
}

/// Real report folders from `lcb run` (Tests/Fixtures/reporting/execution).
@Suite struct ExecutionOutputTests {
    func read(_ name: String) throws -> ResultSet {
        try ReportFolderReader(files: FolderFileAccess(folder: TestData.folder.appendingPathComponent("execution/\(name)"), displayName: name)).read()
    }

    @Test func readsARealRun() throws {
        let results = try read("old")
        #expect(results.spec == "grid")
        #expect(results.cells.count == 10)
        #expect(Set(results.values(of: .compression)) == ["fp16", "kv-store-4", "kv-prefix-2", "kv-attention-4", "w-rtn-4"])
        #expect(results.cells.allSatisfy { !$0.samples.isEmpty && !$0.metrics.isEmpty })
        #expect(results.provenance?.rootSpecFile?.hasSuffix("grid.yaml") == true)
        #expect(MetricCatalog.pairedStatistic(forKey: "hallucination/precision") == .yesNo("precision"))
        // Settings, measurements and probes as the runner records them.
        #expect(results.cells.filter { !$0.settingsKnown }.isEmpty)
        let prefix = try #require(results.cells.first { $0.coordinates.compression == "kv-prefix-2" })
        #expect(prefix.kv?.method == "uniform" && prefix.kv?.bits == 2 && prefix.kv?.regime == "prefix")
        let fp16 = try #require(results.cells.first { $0.coordinates.compression == "fp16" })
        #expect(fp16.kv == nil && fp16.weights == nil && fp16.isBaseline)
        let prefixBytes = try #require(prefix.resources.kvBytesPerToken)
        let fp16Bytes = try #require(fp16.resources.kvBytesPerToken)
        #expect(prefixBytes < fp16Bytes)
        #expect((fp16.resources.tokensPerSecond ?? 0) > 0)
        let groups = Set(prefix.samples.values.compactMap(\.group))
        #expect(groups == ["recognition"] || groups == ["hallucination"])
    }

    @Test func tablesFollowTheSpecAndDiffsFindTheChangedConfiguration() throws {
        let loaded = SpecLoader().load(path: TestData.folder.appendingPathComponent("execution/grid.yaml").path)
        let spec = try #require(loaded.spec)
        let files = try ReportBuilder().build(spec: spec, results: read("old"), formats: [.md], plots: true)
        let markdown = try #require(files.first { $0.path == "results.md" }).text
        // The spec's dataset order (short before pope), its regimes, one column per probe metric.
        #expect(markdown.contains("| compression | short / recognition/exact_match | pope / hallucination/accuracy |"))
        #expect(markdown.contains("KV regime: store (kv-store-4); prefix (kv-prefix-2); attention (kv-attention-4)."))
        #expect(files.contains { $0.path == "plots/pope-hallucination-accuracy.svg" })

        let diff = ResultDiffer().diff(old: try read("old"), new: try read("new"))
        // The runner records each cell's settings, so the diff names what changed, not only the key.
        #expect(diff.settingChanges.map(\.subject) == ["grid/gemma/kv-prefix-2/pope kv", "grid/gemma/kv-prefix-2/pope cell key",
                                                       "grid/gemma/kv-prefix-2/short kv", "grid/gemma/kv-prefix-2/short cell key"])
        let kvChange = try #require(diff.settingChanges.first)
        #expect(kvChange.old?.contains("2") == true && kvChange.new?.contains("3") == true, "\(kvChange)")
        // Every metric is paired (the suite has one probe per dataset, so every sample is in its group).
        #expect(diff.changes.allSatisfy { $0.test.method != "none" })
        let changed = diff.changes.filter { $0.delta != 0 }.map { "\($0.cell) \($0.metric)" }
        #expect(changed.allSatisfy { $0.hasPrefix("grid/gemma/kv-prefix-2/") })
        #expect(diff.provenanceChanges.contains { $0.subject == "spec file grid.yaml" })
    }
}
