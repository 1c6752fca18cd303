import ArgumentParser
import Execution
import Foundation
import Reporting
import SpecLanguage

/// `lcb report SPEC|RUN|FOLDER`: renders tables and plots from stored results, rerunning nothing.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a spec's tables (Markdown, CSV, LaTeX) and plots from stored results.",
        discussion: """
            SOURCE is a spec file (its results are read from Reports/<spec>/), a report folder, a \
            run id (run:N) or a git revision. Nothing is rerun. Writes <table>.md/.csv/.tex, \
            report.md and report.tex, and with --plots plots/*.svg and *.pdf. Exit status: 0 ok, \
            1 missing or unreadable results, 2 usage errors.
            """
    )

    @Argument(help: "A spec file, a report folder, a run id (run:N) or a git revision.")
    var source: String

    @Option(name: .long, help: "Formats to write, comma-separated: md, csv, tex (default: each table's formats).")
    var format: String?

    @Option(name: .long, help: "Output folder (default: the results folder, Reports/<spec>).")
    var out: String?

    @Flag(name: .long, help: "Also write accuracy-vs-bits plots (SVG, and PDF for LaTeX).")
    var plots = false

    @Option(name: .long, help: "Only this table (repeatable).")
    var table: [String] = []

    @Option(name: .long, help: "Folder with edited copies of Templates/ (missing files use the defaults).")
    var templates: String?

    @Option(name: .customLong("results"), help: "Where the results are, when not Reports/<spec> (with a spec file as SOURCE).")
    var resultsFolder: String?

    @Option(name: .long, help: "The spec file whose tables to render, when SOURCE is not a spec.")
    var spec: String?

    @Option(name: .long, help: "The result store that run:N is read from (default: $LCB_HOME/store.sqlite or .lcb/store.sqlite).")
    var store: String?

    @Option(name: .customLong("spec-name"), help: "The report folder's spec name at a git revision holding several.")
    var specName: String?

    func validate() throws {
        _ = try parsedFormats()
    }

    func parsedFormats() throws -> [TableFormat]? {
        guard let format else { return nil }
        return try format.split(separator: ",").map { item in
            let name = item.trimmingCharacters(in: .whitespaces)
            guard let parsed = TableFormat(rawValue: name) else {
                throw ValidationError("Unknown format '\(name)' in --format; expected md, csv or tex (comma-separated).")
            }
            return parsed
        }
    }

    func run() throws {
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let locator = ResultSetLocator(directory: here, store: StoredRunResults(storeURL: LCBHome.resolve(storePath: store).store))
        do {
            var specValue: Spec?
            let results: ResultSet
            var defaultOut: URL
            if Self.isSpecFile(source) {
                let loaded = try Self.loadSpec(source)
                specValue = loaded
                let folder = resultsFolder.map { URL(fileURLWithPath: $0, relativeTo: here) }
                    ?? here.appendingPathComponent("Reports").appendingPathComponent(loaded.name)
                results = try locator.load(.folder(folder.standardizedFileURL))
                defaultOut = folder
            } else {
                if let spec { specValue = try Self.loadSpec(spec) }
                let reference = try locator.reference(source, spec: specName ?? specValue?.name)
                results = try locator.load(reference)
                // The run's own spec, when the manifest names one that is still here: its tables.
                if specValue == nil, let root = results.provenance?.rootSpecFile, Self.isSpecFile(root) {
                    let loaded = SpecLoader().load(path: root)
                    if !loaded.diagnostics.containsErrors { specValue = loaded.spec }
                }
                if case .folder(let url) = reference { defaultOut = url } else {
                    // Rendering an old revision or a stored run into Reports/<spec> would overwrite
                    // the current report with older numbers: ask where it should go.
                    guard out != nil else {
                        let kind = { if case .run = reference { return "a stored run" } else { return "a git revision" } }()
                        throw ValidationError("'\(source)' is \(kind) (\(reference)); give --out DIR for its report, since Reports/\(results.spec) holds the current one.")
                    }
                    defaultOut = here
                }
            }
            let templateSet = try templates.map { try TemplateSet.load(folder: URL(fileURLWithPath: $0, relativeTo: here)) } ?? .defaults
            let files = try ReportBuilder(templates: templateSet).build(spec: specValue, results: results, formats: try parsedFormats(),
                                                                        plots: plots, only: table)
            let folder = out.map { URL(fileURLWithPath: $0, relativeTo: here) } ?? defaultOut
            let written = try ReportBuilder.write(files, to: folder)
            for url in written { print(url.standardizedFileURL.path) }
        } catch let error as ReportingError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    static func isSpecFile(_ path: String) -> Bool {
        (path.hasSuffix(".yaml") || path.hasSuffix(".yml")) && FileManager.default.fileExists(atPath: path)
    }

    /// Loads and checks a spec; its diagnostics go to standard error and errors exit 1.
    static func loadSpec(_ path: String) throws -> Spec {
        let loaded = SpecLoader().load(path: path)
        if loaded.diagnostics.containsErrors || loaded.spec == nil {
            FileHandle.standardError.write(Data((loaded.rendered(useColor: false) + loaded.diagnostics.summary + "\n").utf8))
            throw ExitCode(1)
        }
        guard let spec = loaded.spec else { throw ExitCode(1) }
        return spec
    }
}
