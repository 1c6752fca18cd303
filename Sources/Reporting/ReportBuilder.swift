import Foundation
import SpecLanguage

/// One output file of a report: a path relative to the output folder and its bytes.
public struct ReportFile: Sendable, Hashable {
    public var path: String
    public var contents: Data

    public init(path: String, contents: Data) {
        self.path = path
        self.contents = contents
    }

    public init(path: String, text: String) {
        self.init(path: path, contents: Data(text.utf8))
    }

    public var text: String { String(decoding: contents, as: UTF8.self) }
}

/// Everything `lcb report` writes, computed from a result set alone (nothing is rerun).
///
/// - per table and format: `<table>.md`, `<table>.csv`, `<table>.tex`;
/// - with plots: `plots/<model->dataset-metric>.svg`, the same plot as `.pdf` for LaTeX, and a
///   figure snippet `.tex` that includes the PDF;
/// - `report.md` (every Markdown table, plots as images) and `report.tex` (a complete document
///   with every LaTeX table and figure; compile with pdflatex).
public struct ReportBuilder: Sendable {
    public var templates: TemplateSet

    public init(templates: TemplateSet = .defaults) {
        self.templates = templates
    }

    /// The tables a report shows: the spec's declared tables, or one default table without a spec.
    public func tables(spec: Spec?, results: ResultSet, only: [String] = []) throws -> [TableDefinition] {
        let builder = ResultTableBuilder()
        guard let spec, !spec.tables.isEmpty else { return [builder.defaultDefinition(for: results, spec: spec)] }
        if only.isEmpty { return Array(spec.tables.values) }
        return try only.map { name in
            guard let table = spec.tables[name] else {
                throw ReportingError.unknownTable(name, available: Array(spec.tables.keys))
            }
            return table
        }
    }

    /// Renders every file. `formats` nil = each table's declared formats.
    public func build(spec: Spec?, results: ResultSet, formats: [TableFormat]?, plots: Bool,
                      only: [String] = []) throws -> [ReportFile] {
        let results = spec.map { results.completingSettings(from: $0.quantizationSettings) } ?? results
        var files: [ReportFile] = []
        var markdownParts: [String] = []
        var latexParts: [String] = []
        let source = results.origin.isEmpty ? results.spec : results.origin
        let definitions = try tables(spec: spec, results: results, only: only)
        for definition in definitions {
            let table = try ResultTableBuilder().build(definition, spec: spec, results: results)
            for format in formats ?? definition.formats {
                let renderer: any TableRenderer
                switch format {
                case .md: renderer = MarkdownTableRenderer(templates: templates)
                case .csv: renderer = CSVTableRenderer(templates: templates)
                case .tex: renderer = LaTeXTableRenderer(templates: templates)
                }
                let text = try renderer.render(table, source: source)
                files.append(ReportFile(path: "\(Self.fileName(definition.name)).\(renderer.fileExtension)", text: text))
                if format == .md { markdownParts.append("## \(definition.name)\n\n" + text) }
                if format == .tex { latexParts.append(text) }
            }
        }

        if plots {
            // Each dataset's plot shows the first metric the first table declares for it.
            var primary: [String: String] = [:]
            for definition in definitions {
                for (dataset, metrics) in definition.metrics where primary[dataset] == nil {
                    if let first = metrics.first(where: { Metric.resourceNames.contains($0.rawValue) == false }) {
                        primary[dataset] = first.rawValue
                    }
                }
            }
            for (name, plot) in BitsPlot.plots(results: results, metricFor: { dataset in
                guard let metric = primary[dataset] else { return nil }
                // The evaluator key for the spec name, as recorded in this dataset's cells.
                return results.cells.first { $0.coordinates.dataset == dataset }?.metric(metric)?.key
            }) {
                let base = "plots/" + Self.fileName(name)
                let drawing = plot.drawing()
                files.append(ReportFile(path: base + ".svg", text: SVGWriter.svg(drawing, title: plot.title)))
                files.append(ReportFile(path: base + ".pdf", contents: PDFWriter.pdf(drawing, title: plot.title)))
                let figure = try templates.template("figure.tex").render([
                    "name": LaTeXTableRenderer.escape(name), "file": base + ".pdf", "width": "0.8\\linewidth",
                    "caption": LaTeXTableRenderer.escape("\(plot.yLabel) against bits per method, \(plot.title)."),
                    "label": LaTeXTableRenderer.labelKey("fig:" + Self.fileName(name)),
                ])
                files.append(ReportFile(path: base + ".tex", text: figure))
                latexParts.append(figure)
                markdownParts.append("![\(plot.title): \(plot.yLabel) against bits](\(base).svg)\n")
            }
        }

        let title = results.spec.isEmpty ? "results" : results.spec
        if !markdownParts.isEmpty {
            files.append(ReportFile(path: "report.md", text: "# \(title)\n\n" + markdownParts.joined(separator: "\n")))
        }
        if !latexParts.isEmpty {
            let document = try templates.template("document.tex").render([
                "spec": LaTeXTableRenderer.escape(title), "body": latexParts.joined(separator: "\n"),
            ])
            files.append(ReportFile(path: "report.tex", text: document))
        }
        return files
    }

    /// Writes `files` under `folder`, creating subfolders; returns the paths written.
    @discardableResult
    public static func write(_ files: [ReportFile], to folder: URL) throws -> [URL] {
        var written: [URL] = []
        for file in files {
            let url = folder.appendingPathComponent(file.path)
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try file.contents.write(to: url, options: .atomic)
            } catch {
                throw ReportingError.unreadable(path: url.path, reason: "cannot write: \(error.localizedDescription)")
            }
            written.append(url)
        }
        return written
    }

    /// A name safe as a file name on every system: letters, digits, `-`, `_`, `.`; others become `-`.
    static func fileName(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") ? $0 : "-" })
    }
}

extension Metric {
    /// Run measurements (not accuracy): never plotted against bits.
    static let resourceNames: Set<String> = ["kv_bytes_per_token", "weight_bytes", "tokens_per_second"]
}
