import ArgumentParser
import Execution
import Foundation
import Planning
import Reporting
import SpecLanguage

/// `lcb run SPEC`: runs everything the spec asks for that the store does not already hold.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a spec's experiments, storing every answer, and write Reports/<spec>/.",
        discussion: """
            Checks and plans the spec, then computes what the result store (.lcb/store.sqlite, or \
            --store, or $LCB_HOME/store.sqlite) does not hold yet: vision features once per image \
            (cached on disk), one full-precision prefill shared by the KV configurations that allow \
            it, each answer committed as it finishes. Kill it at any moment and run it again: \
            finished samples are not recomputed. Writes results.json, manifest.json, \
            samples.jsonl(.gz), run.json and the spec's tables to Reports/<spec name>/. Exit status: 0 ok, 1 when the spec has errors or \
            a sample failed, 2 for usage errors. See docs/running.md.
            """
    )

    @Argument(help: "The spec file to run.", completion: .file(extensions: ["yaml", "yml"]))
    var spec: String

    @Option(help: "The result store (default: $LCB_HOME/store.sqlite or .lcb/store.sqlite).")
    var store: String?

    @Option(help: "At most this many samples per cell.")
    var limit: Int?

    @Option(help: "Threads for the engine's kernels (default: all cores).")
    var threads: Int?

    @Option(help: "Folder the reports go to.")
    var reports: String = "Reports"

    @Flag(name: .customLong("dry-run"), help: "Print the plan and what the store already holds; compute nothing.")
    var dryRun = false

    @Flag(name: .customLong("no-dedup"), help: "Run the naive plan: no shared prefills, no vision-feature cache.")
    var noDedup = false

    @Flag(help: "Print only errors and the final summary.")
    var quiet = false

    @Flag(help: "Also print cache warnings, and every failure in the summary (not only the first 10).")
    var verbose = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit).") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads).") }
        if quiet && verbose { throw ValidationError("--quiet and --verbose cannot be used together.") }
    }

    func run() throws {
        let results = SpecLoader().load(paths: [spec])
        let diagnostics = results.flatMap(\.diagnostics)
        let useColor = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        if !diagnostics.isEmpty && (diagnostics.containsErrors || !quiet) {
            let rendered = results.map { $0.rendered(useColor: useColor) }.joined() + diagnostics.summary + "\n"
            FileHandle.standardError.write(Data(rendered.utf8))
        }
        guard !diagnostics.containsErrors, let checked = results.first?.spec else { throw ExitCode(1) }

        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let options = RunOptions(limit: limit, threads: threadCount, deduplicate: !noDedup,
                                 reportsRoot: URL(fileURLWithPath: reports), version: LCBVersion.string)
        let home = LCBHome.resolve(storePath: store)
        let runner = Runner(spec: checked, specPath: spec, home: home, options: options,
                            backend: EngineInferenceBackend(threads: threadCount))

        if dryRun {
            let samples = runner.loadSamples()
            let plan = try runner.plan(samples: samples)
            var text = PlanRendering.text(plan, specs: [spec])
            // Read the store only if it exists: a dry run creates nothing.
            let stored = FileManager.default.fileExists(atPath: home.store.path)
                ? ((try? ResultStore(url: home.store).completedKeys()) ?? []) : []
            let decodes = plan.jobs.filter { $0.kind == .decode }
            let done = decodes.filter { stored.contains($0.key.hex) }.count
            text += "\nstore \(home.store.path): \(done) of \(decodes.count) answers already stored; \(decodes.count - done) to compute\n"
            for error in samples.errors { text += "error: \(error.message)\n" }
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }

        var display = ProgressDisplay(interactive: isatty(STDERR_FILENO) == 1)
        let outcome = try runner.run(
            progress: { progress in
                guard !quiet else { return }
                let text = display.update(progress)
                if !text.isEmpty { FileHandle.standardError.write(Data(text.utf8)) }
            },
            warn: { message in
                if verbose { FileHandle.standardError.write(Data("warning: \(message)\n".utf8)) }
            })
        var summary = Self.summary(outcome, verbose: verbose)
        if !checked.tables.isEmpty {
            // The spec's tables, as `lcb report` renders them, beside the results.
            do {
                // Through the locator, so that the tables name the folder relative to the working
                // directory, as `lcb report` does (the same bytes either way).
                let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
                let results = try ResultSetLocator(directory: here).load(.folder(outcome.reportFolder.standardizedFileURL))
                let files = try ReportBuilder().build(spec: checked, results: results, formats: nil, plots: false)
                let written = try ReportBuilder.write(files, to: outcome.reportFolder)
                summary += "tables: " + written.map(\.lastPathComponent).joined(separator: ", ") + "\n"
            } catch {
                summary += "warning: the spec's tables were not rendered: \(error)\n"
            }
        }
        FileHandle.standardError.write(Data(summary.utf8))
        if !outcome.succeeded { throw ExitCode(1) }
    }

    /// The closing summary: work computed and served, time, failures, where the reports are.
    static func summary(_ outcome: RunOutcome, verbose: Bool) -> String {
        let statistics = outcome.statistics
        let computed = JobKind.allCases.compactMap { kind -> String? in
            guard let count = statistics.computed[kind.rawValue], count > 0 else { return nil }
            return "\(count) \(kind.rawValue)"
        }
        var lines: [String] = []
        let nothing = statistics.failures.isEmpty && (statistics.cacheHits["store"] ?? 0) > 0
            ? "nothing (everything was in the store)" : "nothing"
        lines.append("computed: " + (computed.isEmpty ? nothing : computed.joined(separator: ", ")))
        let hits = statistics.cacheHits.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        if !hits.isEmpty { lines.append("served from store/cache: " + hits.joined(separator: ", ")) }
        let wall = (try? Date.ISO8601FormatStyle().parse(outcome.manifest.finishedAt))
            .flatMap { end in (try? Date.ISO8601FormatStyle().parse(outcome.manifest.startedAt)).map { end.timeIntervalSince($0) } }
        if let wall { lines.append(String(format: "wall time: %.2f s", wall)) }
        for error in outcome.datasetErrors { lines.append("error: \(error)") }
        if !statistics.failures.isEmpty {
            lines.append("failed: \(statistics.failures.count) samples")
            let shown = verbose ? statistics.failures : Array(statistics.failures.prefix(10))
            for failure in shown { lines.append("  \(failure.cell) [\(failure.sampleID)]: \(failure.message)") }
            if shown.count < statistics.failures.count {
                lines.append("  … and \(statistics.failures.count - shown.count) more (--verbose lists all)")
            }
        }
        let unscored = outcome.cells.filter { $0.scoringError != nil && $0.failed == 0 }
        if !unscored.isEmpty {
            lines.append("not scored: \(unscored.count) cells")
            let shown = verbose ? unscored : Array(unscored.prefix(3))
            for cell in shown { lines.append("  \(cell.model) \(cell.compression) \(cell.dataset): \(cell.scoringError ?? "")") }
            if shown.count < unscored.count { lines.append("  … and \(unscored.count - shown.count) more (--verbose lists all)") }
        }
        lines.append("reports: \(outcome.reportFolder.path)/{results.json,manifest.json,samples.jsonl.gz} (commit these), samples.jsonl and run.json (local)")
        lines.append("run: run:\(outcome.runID) (lcb report run:\(outcome.runID) --out DIR renders it later)")
        return lines.joined(separator: "\n") + "\n"
    }
}
