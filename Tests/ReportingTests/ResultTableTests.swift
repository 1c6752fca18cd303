import Foundation
import SpecLanguage
import Testing
@testable import Reporting

@Suite struct ResultTableTests {
    func mainTable() throws -> ResultTable {
        let spec = try TestData.spec()
        let definition = try #require(spec.tables["main"])
        return try ResultTableBuilder().build(definition, spec: spec, results: TestData.run("run-a"))
    }

    @Test func layoutValuesDeltasAndBest() throws {
        let table = try mainTable()
        #expect(table.rowHeadings == ["compression"])
        #expect(table.columns.map(\.path) == [["probes", "exact_match"], ["pope", "accuracy"], ["pope", "f1"]])
        #expect(table.rows.map { $0.labels[0] } == ["fp16", "kivi/bits=2", "kivi/bits=4", "uniform/bits=2", "uniform/bits=4", "w-rtn-4"])
        let expected = try #require(try TestData.expected()["probes"] as? [String: Double])
        // Percent, delta against fp16 in points.
        let kivi2 = try #require(table.rows[1].entries[0])
        #expect(abs(kivi2.value - 100 * (expected["kivi/bits=2"] ?? 0)) < 1e-9)
        #expect(abs((kivi2.delta ?? 0) - 100 * ((expected["kivi/bits=2"] ?? 0) - (expected["fp16"] ?? 0))) < 1e-9)
        #expect(table.rows[0].isBaseline && table.rows[0].entries[0]?.delta == nil)
        // Best among the compressed rows: w-rtn-4 on probes (77 > 76 > 71 …), fp16 (85) not a candidate.
        #expect(table.rows.map { $0.entries[0]?.isBest ?? false } == [false, false, false, false, false, true])
        // Ties at the shown precision are all bold (kivi 2 and 4 both 87.5 on pope accuracy).
        #expect(table.rows.map { $0.entries[1]?.isBest ?? false } == [false, true, true, false, false, false])
        #expect(table.notes.contains { $0.hasPrefix("KV regime: prefix (kivi/bits=2") })
    }

    @Test func lowerIsBetterForBytes() throws {
        let spec = try TestData.spec()
        let table = try ResultTableBuilder().build(try #require(spec.tables["cost"]), spec: spec, results: TestData.run("run-a"))
        #expect(table.columns.map { $0.path[1] } == ["exact_match", "KV B/token", "weights MiB", "tokens/s"])
        #expect(table.columns.map(\.higherIsBetter) == [true, false, false, true])
        let kvBest = table.rows.filter { $0.entries[1]?.isBest == true }.map { $0.labels[0] }
        #expect(kvBest == ["uniform/bits=2"])
        #expect(table.rows.last?.entries[2]?.value == 12)  // 12,582,912 bytes = 12 MiB
    }

    @Test func rowsByModelAndCompressionSpanAndAverageOverUnplacedDimensions() throws {
        var results = try TestData.run("run-a")
        // A second model with the same numbers shifted by 10 points.
        let copies = results.cells.map { cell -> ResultCell in
            var copy = cell
            copy.coordinates.model = "tiny-llama"
            copy.metrics = cell.metrics.map { var m = $0; m.value -= 0.1; return m }
            return copy
        }
        results.cells += copies
        let definition = TableDefinition(name: "t", experiments: ["main"], rows: [.model, .compression], columns: [.metric],
                                         metrics: ["probes": [.exactMatch], "pope": [.accuracy]], baseline: "fp16",
                                         definedAt: .fileStart("x"))
        let table = try ResultTableBuilder().build(definition, spec: nil, results: results)
        #expect(table.rows.count == 12)
        #expect(table.rowSpan(row: 0, level: 0) == 6)
        #expect(table.repeatsLabel(row: 1, level: 0))
        #expect(table.rows[6].labels == ["tiny-llama", "fp16"])
        // dataset is not placed: exact_match and accuracy are separate metric columns, each from its dataset.
        #expect(table.columns.map(\.path) == [["exact_match"], ["accuracy"]])
        #expect(abs((table.rows[6].entries[0]?.value ?? 0) - (table.rows[0].entries[0]?.value ?? 0) + 10) < 1e-9)
        let latex = try LaTeXTableRenderer().render(table, source: "x")
        #expect(latex.contains("\\multirow{6}{*}{tiny-gemma}"))
        #expect(latex.contains("\\multirow{6}{*}{tiny-llama}"))
    }

    @Test func unknownCellsAreAnError() throws {
        let definition = TableDefinition(name: "t", experiments: ["other"], metrics: ["probes": [.exactMatch]], definedAt: .fileStart("x"))
        #expect(throws: ReportingError.self) { try ResultTableBuilder().build(definition, spec: nil, results: TestData.run("run-a")) }
    }

    @Test func defaultTableWithoutASpec() throws {
        let results = try TestData.run("run-b")
        let definition = ResultTableBuilder().defaultDefinition(for: results)
        let table = try ResultTableBuilder().build(definition, spec: nil, results: results)
        #expect(table.baseline == "fp16")
        #expect(table.columns.map(\.path) == [["probes", "exact_match"], ["pope", "accuracy"], ["pope", "f1"]])
        #expect(table.rows.count == 5)
    }
}

@Suite struct RendererTests {
    func table() throws -> ResultTable {
        let spec = try TestData.spec()
        return try ResultTableBuilder().build(try #require(spec.tables["main"]), spec: spec, results: TestData.run("run-a"))
    }

    @Test(arguments: ["md", "csv", "tex"])
    func goldenFiles(format: String) throws {
        let renderers: [String: any TableRenderer] = ["md": MarkdownTableRenderer(), "csv": CSVTableRenderer(), "tex": LaTeXTableRenderer()]
        let renderer = try #require(renderers[format])
        let text = try renderer.render(try table(), source: "Reports/demo")
        #expect(try TestData.matchesGolden(text, "main.\(format)"), "\(format) differs from Tests/Fixtures/reporting/golden/main.\(format); if intended, rerun with LCB_UPDATE_GOLDENS=1 and review")
    }

    @Test func csvIsRFC4180() throws {
        #expect(CSVTableRenderer.field("plain") == "plain")
        #expect(CSVTableRenderer.field("a,b") == "\"a,b\"")
        #expect(CSVTableRenderer.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVTableRenderer.field("two\nlines") == "\"two\nlines\"")
        let text = try CSVTableRenderer().render(try table(), source: "x")
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.count == 8 && lines.last == "")  // header, six rows, the final CRLF
        let width = lines[0].split(separator: ",", omittingEmptySubsequences: false).count
        #expect(width == 10)
        #expect(lines.dropLast().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == width })
    }

    @Test func latexEscapesEverySpecialCharacter() {
        #expect(LaTeXTableRenderer.escape(##"a\b&c%d$e#f_g{h}i~j^k"##)
            == ##"a\textbackslash{}b\&c\%d\$e\#f\_g\{h\}i\textasciitilde{}j\textasciicircum{}k"##)
        #expect(LaTeXTableRenderer.labelKey("tab:main_kv{x}") == "tab:main_kvx")
    }

    @Test func numbersDoNotDependOnTheLocale() throws {
        // Formatting never goes through a locale: a German default locale still prints points.
        setlocale(LC_ALL, "de_DE.UTF-8")
        defer { setlocale(LC_ALL, "C") }
        #expect(NumberText.fixed(1234.5, decimals: 2) == "1234.50")
        let text = try MarkdownTableRenderer().render(try table(), source: "x")
        #expect(text.contains("85.0 ± 3.6"))
    }
}
