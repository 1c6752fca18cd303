import Foundation
import Testing
@testable import Reporting

@Suite struct ResultSetReadingTests {
    @Test func readsTheThreeReportFiles() throws {
        let results = try TestData.run("run-a")
        #expect(results.spec == "demo")
        #expect(results.cells.count == 12)
        #expect(results.values(of: .compression) == ["fp16", "kivi/bits=2", "kivi/bits=4", "uniform/bits=2", "uniform/bits=4", "w-rtn-4"])
        #expect(results.values(of: .dataset) == ["probes", "pope"])

        let expected = try #require(try TestData.expected()["probes"] as? [String: Double])
        let kivi = try #require(results.cell(CellCoordinates(experiment: "main", model: "tiny-gemma", compression: "kivi/bits=2", dataset: "probes")))
        #expect(kivi.metric("exact_match")?.value == expected["kivi/bits=2"])
        #expect(kivi.metric("exactMatch")?.count == 100)
        #expect(kivi.kv == QuantizationSetting(method: "kivi", bits: 2, regime: "prefix", parameters: ["group_size=32", "residual=128"]))
        #expect(kivi.weights == nil)
        #expect(kivi.resources.kvBytesPerToken == 640)
        #expect(kivi.samples.count == 100)
        // The samples' components reproduce the recorded aggregate.
        let correct = kivi.samples.values.compactMap { $0.components["correct"] }
        #expect(abs(correct.reduce(0, +) / 100 - (expected["kivi/bits=2"] ?? -1)) < 1e-12)

        let pope = try #require(results.cell(CellCoordinates(experiment: "main", model: "tiny-gemma", compression: "fp16", dataset: "pope")))
        #expect(pope.samples["y000"]?.components == ["correct": 0, "predictedYes": 0, "labelYes": 1])
        #expect(pope.metric("f1")?.errorMethod == "bootstrap(1000, seed 1818453537)")

        let provenance = try #require(results.provenance)
        #expect(provenance.runID == "run-a")
        #expect(provenance.threads == 2)
        #expect(provenance.lcbCommit == String(repeating: "1", count: 40))
        #expect(provenance.machine == "Test CPU, 2 cores, 24.0 GiB, Linux")
        #expect(provenance.modelHashes["tiny-gemma"] == String(repeating: "w", count: 64))
    }

    @Test func samplesAloneGiveComponentMeans() throws {
        let lines = """
            {"experiment":"e","model":"m","compression":"fp16","dataset":"d","sample_id":"a","components":{"correct":1}}
            {"experiment":"e","model":"m","compression":"fp16","dataset":"d","sample_id":"b","components":{"correct":0}}

            {"experiment":"e","model":"m","compression":"fp16","dataset":"d","sample_id":"c","components":{"correct":1}}
            """
        let results = try ReportFolderReader(files: InMemoryFileAccess(files: ["samples.jsonl": Data(lines.utf8)])).read()
        let cell = try #require(results.cells.first)
        let accuracy = try #require(cell.metric("accuracy"))
        #expect(abs(accuracy.value - 2.0 / 3) < 1e-12)
        // s = √(1/3), SE = s/√3 = 1/3.
        #expect(abs((accuracy.standardError ?? 0) - 1.0 / 3) < 1e-12)
        #expect(accuracy.count == 3)
    }

    @Test func errorsNameTheFileAndLine() throws {
        let bad = """
            {"experiment":"e","model":"m","compression":"fp16","dataset":"d","sample_id":"a","components":{}}
            {"experiment":"e","model":"m","compression":"fp16","sample_id":"b"}
            """
        let files = InMemoryFileAccess(files: ["samples.jsonl": Data(bad.utf8)], location: "Reports/x")
        #expect(throws: ReportingError.malformed(location: "Reports/x/samples.jsonl:2", problem: "missing \"dataset\"")) {
            try ReportFolderReader(files: files).read()
        }
        let duplicate = InMemoryFileAccess(files: ["samples.jsonl": Data((bad.split(separator: "\n")[0] + "\n" + bad.split(separator: "\n")[0]).utf8)],
                                           location: "Reports/x")
        #expect(throws: ReportingError.self) { try ReportFolderReader(files: duplicate).read() }
        let notJSON = InMemoryFileAccess(files: ["results.json": Data("{".utf8)], location: "Reports/x")
        do {
            _ = try ReportFolderReader(files: notJSON).read()
            Issue.record("expected an error")
        } catch let error as ReportingError {
            #expect(error.description.hasPrefix("Reports/x/results.json: not valid JSON"))
        }
        #expect(throws: ReportingError.noResults(where: "empty", expected: "results.json, samples.jsonl or samples.jsonl.gz")) {
            try ReportFolderReader(files: InMemoryFileAccess(files: [:], location: "empty")).read()
        }
    }
}
