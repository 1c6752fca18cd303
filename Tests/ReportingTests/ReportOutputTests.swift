import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import SpecLanguage
import Testing
import TestSupport
@testable import Reporting

/// Where pdflatex is, if installed (.ci/run installs TeX Live from Debian's packages).
let pdflatex: URL? = ["/usr/bin/pdflatex", "/usr/local/bin/pdflatex", "/Library/TeX/texbin/pdflatex"]
    .map(URL.init(fileURLWithPath:)).first { FileManager.default.isExecutableFile(atPath: $0.path) }

@Suite struct PlotTests {
    func plots() throws -> [(name: String, plot: BitsPlot)] {
        let results = try TestData.run("run-a")
        return BitsPlot.plots(results: results) { $0 == "probes" ? "exactMatch" : "accuracy" }
    }

    @Test func seriesPerMethodWithTheBaselineApart() throws {
        let all = try plots()
        #expect(all.map(\.name) == ["probes-exact_match", "pope-accuracy"])
        let probes = all[0].plot
        #expect(probes.series.map(\.name) == ["kivi", "uniform", "w-rtn"])
        #expect(probes.series[0].points.map(\.bits) == [2, 4])
        #expect(abs((probes.baseline ?? 0) - 85) < 1e-9)
        #expect(probes.yLabel == "exact_match (%)")
    }

    /// A synthetic suite scores each probe on its own: one plot per probe with the metric.
    @Test func onePlotPerProbe() throws {
        func cell(_ compression: String, bits: Int?, recognition: Double, spatial: Double) -> ResultCell {
            var cell = ResultCell(coordinates: CellCoordinates(experiment: "e", model: "m", compression: compression, dataset: "shapes"),
                                  key: compression)
            cell.kv = bits.map { QuantizationSetting(method: "uniform", bits: $0, regime: "prefix") }
            cell.settingsKnown = true
            cell.metrics = [MetricResult(key: "recognition/exactMatch", value: recognition),
                            MetricResult(key: "spatial/exactMatch", value: spatial),
                            MetricResult(key: "spatial/exactMatch[short]", value: spatial),
                            MetricResult(key: "hallucination/accuracy", value: 0.9)]
            return cell
        }
        let results = ResultSet(spec: "s", cells: [
            cell("fp16", bits: nil, recognition: 0.9, spatial: 0.8),
            cell("uniform/bits=2", bits: 2, recognition: 0.6, spatial: 0.5),
            cell("uniform/bits=4", bits: 4, recognition: 0.85, spatial: 0.75),
        ], provenance: nil, origin: "memory")
        let all = BitsPlot.plots(results: results) { _ in "recognition/exactMatch" }
        #expect(all.map(\.name) == ["shapes-recognition/exact_match", "shapes-spatial/exact_match"])
        #expect(all[1].plot.series.first?.points.map(\.value) == [50, 75])
        #expect(abs((all[1].plot.baseline ?? 0) - 80) < 1e-9)
        #expect(all[1].plot.title == "shapes / spatial")
    }

    /// A cell shared by two experiments is one point; KV regimes other than the usual one get
    /// their own lines; a long legend label widens the drawing; a narrow percent range is widened.
    @Test func sharedCellsRegimesLegendAndRange() throws {
        func cell(_ experiment: String, _ compression: String, key: String, bits: Int?, regime: String, value: Double) -> ResultCell {
            var cell = ResultCell(coordinates: CellCoordinates(experiment: experiment, model: "m", compression: compression, dataset: "d"),
                                  key: key)
            cell.kv = bits.map { QuantizationSetting(method: "kivi", bits: $0, regime: regime) }
            cell.settingsKnown = true
            cell.metrics = [MetricResult(key: "accuracy", value: value)]
            return cell
        }
        let results = ResultSet(spec: "s", cells: [
            cell("methods", "fp16", key: "a", bits: nil, regime: "", value: 0.54),
            cell("methods", "kivi/bits=2", key: "b", bits: 2, regime: "prefix", value: 0.53),
            cell("methods", "kivi/bits=4", key: "c", bits: 4, regime: "prefix", value: 0.54),
            cell("regimes", "kivi/bits=2", key: "b", bits: 2, regime: "prefix", value: 0.53),
            cell("regimes", "regimes/regime=store-with-a-very-long-name", key: "d", bits: 2, regime: "store", value: 0.54),
        ], provenance: nil, origin: "memory")
        let plot = try #require(BitsPlot.plots(results: results) { _ in "accuracy" }.first?.plot)
        #expect(plot.series.map(\.name) == ["kivi", "kivi (store)"])
        #expect(plot.series[0].points.map(\.bits) == [2, 4])
        #expect(plot.minimumSpan == 10)
        let drawing = plot.drawing()
        #expect(drawing.width == 480)
        // The y axis spans at least 10 points around 53 … 54 (ticks 48 … 60), not 53.0 … 54.0.
        let ticks = drawing.items.compactMap { item -> String? in
            if case .text(let text, let at, _, .end, _, false) = item, at.x < 58 { return text }
            return nil
        }
        #expect(ticks.first == "48" && ticks.last == "60")
        var long = plot
        long.series[1].name = "kivi (regimes/regime=store-with-a-very-long-name)"
        let wide = long.drawing()
        let needed = 58 + (480 - 58 - 132) + 12 + 24 + Drawing.textWidth(long.series[1].name, size: 10) * 1.2 + 8
        #expect(abs(wide.width - needed) < 1e-9 && wide.width > 480)
    }

    /// Lines per setting: RTN per tensor and per channel are two lines named by their
    /// configurations; one method at several bits under differently named configurations is one line.
    @Test func linesPerSettingNamedByConfiguration() throws {
        func cell(_ compression: String, _ method: String, bits: Int, parameters: [String], value: Double) -> ResultCell {
            var cell = ResultCell(coordinates: CellCoordinates(experiment: "e", model: "m", compression: compression, dataset: "d"),
                                  key: compression)
            cell.weights = QuantizationSetting(method: method, bits: bits, parameters: parameters)
            cell.settingsKnown = true
            cell.metrics = [MetricResult(key: "accuracy", value: value)]
            return cell
        }
        let results = ResultSet(spec: "s", cells: [
            cell("rtn/scope=per_tensor/bits=2", "rtn", bits: 2, parameters: ["scope=per_tensor"], value: 0.5),
            cell("rtn/scope=per_tensor/bits=4", "rtn", bits: 4, parameters: ["scope=per_tensor"], value: 0.7),
            cell("rtn/scope=per_channel/bits=2", "rtn", bits: 2, parameters: ["scope=per_channel"], value: 0.6),
            cell("rtn/scope=per_channel/bits=4", "rtn", bits: 4, parameters: ["scope=per_channel"], value: 0.8),
            cell("gptq-3", "gptq", bits: 3, parameters: ["damp=0.01"], value: 0.75),
            cell("gptq-4", "gptq", bits: 4, parameters: ["damp=0.01"], value: 0.8),
        ], provenance: nil, origin: "memory")
        let plot = try #require(BitsPlot.plots(results: results) { _ in "accuracy" }.first?.plot)
        #expect(plot.series.map(\.name) == ["rtn/scope=per_tensor", "rtn/scope=per_channel", "w-gptq"])
        #expect(plot.series.map { $0.points.map(\.bits) } == [[2, 4], [2, 4], [3, 4]])
        #expect(BitsPlot.nameWithoutBits("paper/method=uniform/bits=2") == "paper/method=uniform")
        #expect(BitsPlot.nameWithoutBits("kv-bits=x/kbits=2") == "kv-bits=x")
    }

    @Test func svgGoldenAndStructure() throws {
        let plot = try plots()[0].plot
        let svg = SVGWriter.svg(plot.drawing(), title: plot.title)
        #expect(try TestData.matchesGolden(svg, "probes-exact_match.svg"), "SVG differs from the golden; LCB_UPDATE_GOLDENS=1 to regenerate")
        // Parses as XML; one dashed baseline; one polyline per method with several points.
        let document = try XMLDocument(data: Data(svg.utf8))
        let lines = try document.nodes(forXPath: "//*[local-name()='polyline']")
        let dashed = svg.components(separatedBy: "\n").filter { $0.contains("<polyline") && $0.contains("stroke-dasharray=\"5 3\"") }
        #expect(dashed.count == 2)  // the baseline and its legend sample
        // Grid lines (7 ticks: 30 … 90), two axes paths, x ticks, the baseline, two method lines with
        // several points (w-rtn has one point: markers only), legend samples.
        #expect(lines.count == 7 + 1 + 2 + 1 + 2 + 4)
        #expect(try document.nodes(forXPath: "//*[local-name()='text']").contains { $0.stringValue == "fp16" })
    }

    @Test func pdfCrossReferencesPointAtTheirObjects() throws {
        let plot = try plots()[0].plot
        let data = PDFWriter.pdf(plot.drawing(), title: plot.title)
        let bytes = [UInt8](data)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("%PDF-1.4\n"))
        #expect(text.hasSuffix("%%EOF\n"))
        // startxref gives the byte offset of the xref table; each entry the offset of "N 0 obj".
        let tail = String(decoding: bytes.suffix(64), as: UTF8.self)
        let start = try #require(tail.components(separatedBy: "startxref\n").last?.split(separator: "\n").first.flatMap { Int($0) })
        let table = String(decoding: bytes[start...], as: UTF8.self)
        #expect(table.hasPrefix("xref\n0 7\n"))
        let entries = table.split(separator: "\n").dropFirst(3).prefix(6)
        for (index, entry) in entries.enumerated() {
            let offset = try #require(Int(entry.prefix(10)))
            #expect(String(decoding: bytes[offset..<offset + 8], as: UTF8.self) == "\(index + 1) 0 obj\n")
        }
        // The content stream's /Length is its byte count.
        let streamStart = try #require(text.range(of: "stream\n"))
        let streamEnd = try #require(text.range(of: "endstream"))
        let length = text.utf8.distance(from: streamStart.upperBound, to: streamEnd.lowerBound)
        #expect(text.contains("/Length \(length) "))
    }
}

@Suite struct ReportBuilderTests {
    @Test func filesOfAReport() throws {
        let files = try ReportBuilder().build(spec: TestData.spec(), results: TestData.run("run-a"), formats: nil, plots: true)
        #expect(files.map(\.path) == [
            "main.md", "main.csv", "main.tex", "cost.md", "cost.tex",
            "plots/probes-exact_match.svg", "plots/probes-exact_match.pdf", "plots/probes-exact_match.tex",
            "plots/pope-accuracy.svg", "plots/pope-accuracy.pdf", "plots/pope-accuracy.tex", "report.md", "report.tex",
        ])
        let report = try #require(files.first { $0.path == "report.tex" }).text
        #expect(report.contains("\\includegraphics[width=0.8\\linewidth]{plots/probes-exact_match.pdf}"))
        #expect(report.contains("\\label{tab:main_kv}"))
        let only = try ReportBuilder().build(spec: TestData.spec(), results: TestData.run("run-a"), formats: [.csv], plots: false, only: ["cost"])
        #expect(only.map(\.path) == ["cost.csv"])
        #expect(throws: ReportingError.unknownTable("nope", available: ["main", "cost"])) {
            try ReportBuilder().build(spec: TestData.spec(), results: TestData.run("run-a"), formats: nil, plots: false, only: ["nope"])
        }
    }

    /// Renders every table and plot of the fixture into one document and compiles it with pdflatex.
    @Test(.enabled(if: pdflatex != nil, "pdflatex is not installed: install texlive-latex-recommended and texlive-latex-extra (as .ci/run does) to run this test"))
    func latexCompilesWithPdflatex() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-latex-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var spec = try TestData.spec()
        // A caption full of LaTeX's special characters must survive escaping.
        spec.tables["main"]?.caption = #"50% of $x_1$ & {y} #2 ~ ^ \ done"#
        var files = try ReportBuilder().build(spec: spec, results: TestData.run("run-a"), formats: [.tex], plots: true)
        // Add a table with two row dimensions (\multirow) and two column levels over two models.
        var twoModels = try TestData.run("run-a")
        twoModels.cells += twoModels.cells.map { var copy = $0; copy.coordinates.model = "tiny_llama"; return copy }
        let grouped = TableDefinition(name: "grouped", experiments: ["main"], rows: [.model, .compression], columns: [.dataset, .metric],
                                      metrics: ["probes": [.exactMatch, .kvBytesPerToken], "pope": [.accuracy, .f1]], baseline: "fp16",
                                      standardErrors: true, caption: "Two models", label: "tab:two", definedAt: .fileStart("x"))
        let extra = try LaTeXTableRenderer().render(try ResultTableBuilder().build(grouped, spec: nil, results: twoModels), source: "x")
        #expect(extra.contains("\\multirow{6}{*}{tiny\\_llama}"))
        // And the LaTeX form of a diff (arrows, Δ, α in math mode).
        let diff = try DiffRenderer.render(ResultDiffer().diff(old: TestData.run("run-a"), new: TestData.run("run-b")), format: .tex)
        if let index = files.firstIndex(where: { $0.path == "report.tex" }) {
            files[index] = ReportFile(path: "report.tex", text: files[index].text.replacingOccurrences(of: "\\end{document}", with: extra + diff + "\\end{document}"))
        }
        try ReportBuilder.write(files, to: folder)
        let process = Process()
        process.executableURL = pdflatex
        process.arguments = ["-interaction=nonstopmode", "-halt-on-error", "report.tex"]
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let log = (try? String(contentsOf: folder.appendingPathComponent("report.log"), encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "pdflatex failed:\n\(log.suffix(3000))")
        let pdf = try Data(contentsOf: folder.appendingPathComponent("report.pdf"))
        #expect(pdf.starts(with: Data("%PDF".utf8)))
        // Two tables and two figures: "Output written on report.pdf (2 pages".
        #expect(log.contains("Output written on report.pdf"))
        #expect(!log.contains("! "), "LaTeX reported an error")
        #expect(!log.contains("Overfull \\hbox"), "a table is wider than the page")
    }
}

/// Runs the built `lcb report` and `lcb diff` (beside the test bundle) for exit codes and outputs.
@Suite struct ReportCommandLineTests {
    static let executable = LCBProcess.executable

    func run(_ arguments: [String], in directory: URL = TestData.folder) throws -> LCBProcessResult {
        try LCBProcess.run(arguments, in: directory)
    }

    @Test(.enabled(if: executable != nil)) func diffExitCodes() throws {
        let plain = try run(["diff", "run-a", "run-b", "--format", "json"])
        #expect(plain.status == 0)
        #expect(plain.stdout.contains("\"rightToWrong\" : 14"))
        let guarded = try run(["diff", "run-a", "run-b", "--fail-on-regression", "5"])
        #expect(guarded.status == 1)
        #expect(guarded.stderr.contains("1 significant regression(s) larger than 5 points: main/tiny-gemma/kivi/bits=2/probes exactMatch -12.00"))
        #expect(try run(["diff", "run-a", "run-b", "--fail-on-regression", "12"]).status == 0)
        #expect(try run(["diff", "run-a", "run-b", "--format", "html"]).status == 2)
        let missing = try run(["diff", "run-a", "nowhere"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: 'nowhere' not found"))
    }

    @Test(.enabled(if: executable != nil)) func reportWritesTheDeclaredFiles() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try run(["report", "demo.yaml", "--results", "run-a", "--out", out.path, "--format", "md,csv"])
        #expect(result.status == 0, "\(result.stderr)")
        let markdown = try String(contentsOf: out.appendingPathComponent("main.md"), encoding: .utf8)
        #expect(try TestData.matchesGolden(markdown.replacingOccurrences(of: "Reports/demo", with: "run-a"), "main.md") || markdown.contains("| kivi/bits=2 | 71.0 ± 4.6 (-14.0)"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("cost.csv").path))
        #expect(try run(["report", "demo.yaml", "--results", "run-a", "--format", "pdf"]).status == 2)
        let noResults = try run(["report", "demo.yaml", "--out", out.path])
        #expect(noResults.status == 1)
        #expect(noResults.stderr.contains("no results found"))
    }

    @Test(.enabled(if: executable != nil)) func revisionsNeedAnOutputFolderAndDiffThroughGit() throws {
        let repository = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-cli-\(UUID().uuidString)")
        let reports = repository.appendingPathComponent("Reports/demo")
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repository) }
        for (run, message) in [("run-a", "a"), ("run-b", "b")] {
            for name in ["results.json", "samples.jsonl", "manifest.json"] {
                let target = reports.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: TestData.folder.appendingPathComponent("\(run)/\(name)"), to: target)
            }
            if message == "a" { _ = try Git.run(["init", "-q"], in: repository) }
            _ = try Git.run(["add", "."], in: repository)
            _ = try Git.run(["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", message], in: repository)
        }
        let refused = try run(["report", "HEAD~1"], in: repository)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("'HEAD~1' is a git revision (HEAD~1:./Reports/demo); give --out DIR"))
        let out = repository.appendingPathComponent("old-report")
        let rendered = try run(["report", "HEAD~1", "--out", out.path, "--format", "csv"], in: repository)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let csv = try String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8)
        #expect(csv.contains("uniform/bits=2"))  // only the older revision has it
        let guarded = try run(["diff", "HEAD~1", "HEAD", "--fail-on-regression", "1"], in: repository)
        #expect(guarded.status == 1)
        #expect(guarded.stdout.contains("| main/tiny-gemma/kivi/bits=2/probes | exactMatch | 71.00 | 59.00 | -12.00 |"))
    }
}
