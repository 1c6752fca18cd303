import ArgumentParser
import Execution
import Foundation
import Planning
import SpecLanguage

/// `lcb plan SPEC…`: shows the cells, the job graph and what sharing saves, without running anything.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the cells and jobs a spec asks for, and how much work sharing saves.",
        discussion: """
            Checks the spec files like 'lcb check', expands their experiments into cells, lowers the \
            cells into content-keyed jobs (vision encoding, weight quantization, prefill, decode, \
            scoring) and removes the work the KV regimes let cells share. Several spec files are \
            planned together, so identical cells across them run once. Checkpoint files are hashed \
            once and the digests cached in .lcb/ (or $LCB_HOME). Exit status: 0 ok, 1 when a spec \
            has errors, 2 for usage errors. See docs/planning.md.
            """
    )

    @Argument(help: "The spec files to plan together.", completion: .file(extensions: ["yaml", "yml"]))
    var specs: [String]

    @Flag(name: .long, help: "Print the whole plan as JSON (stable order) instead of the summary.")
    var json = false

    @Flag(name: .customLong("no-dedup"), help: "Show the naive plan: every cell does all its own work.")
    var noDedup = false

    @Flag(name: .long, inversion: .prefixedNo, help: "Colour diagnostics (default: only on a terminal).")
    var color: Bool?

    func validate() throws {
        if specs.isEmpty { throw ValidationError("Name at least one spec file, e.g. 'lcb plan Specs/quickstart.yaml'.") }
    }

    func run() throws {
        let useColor = color ?? (isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
        let results = SpecLoader().load(paths: specs)
        let diagnostics = results.flatMap(\.diagnostics)
        if !diagnostics.isEmpty {
            let rendered = results.map { $0.rendered(useColor: useColor) }.joined() + diagnostics.summary + "\n"
            FileHandle.standardError.write(Data(rendered.utf8))
        }
        guard !diagnostics.containsErrors else { throw ExitCode(1) }

        let digests = FileDigestCache(file: Self.home.appendingPathComponent("file-digests.json"))
        let loaded = zip(specs, results).compactMap { path, result in result.spec.map { (path, $0) } }
        let planner = Planner(inspector: CheckpointFolderInspector(digests: digests),
                              samples: PlanSamples(specs: loaded.map(\.1)), deduplicate: !noDedup)
        guard loaded.count == specs.count else { throw ExitCode(1) }
        // Count before expanding: a valid spec may describe billions of cells.
        let requested = loaded.reduce(0) { total, spec in
            let (sum, overflow) = total.addingReportingOverflow(spec.1.plannedCellCount)
            return overflow ? Int.max : sum
        }
        if requested > planner.maximumCells { Self.fail(PlanningError.tooManyCells(requested, limit: planner.maximumCells)) }
        let cells = loaded.flatMap { path, spec in spec.cells(specFile: path) }
        let plan: Plan
        do { plan = try planner.plan(cells) } catch { Self.fail(error) }
        digests.save()
        let output = json ? PlanRendering.json(plan, specs: specs) : PlanRendering.text(plan, specs: specs)
        FileHandle.standardOutput.write(Data(output.utf8))
    }

    /// Prints `lcb plan: error: …` and exits with status 1 (an error in what the specs ask for).
    static func fail(_ error: PlanningError) -> Never {
        FileHandle.standardError.write(Data("lcb plan: error: \(error.description)\n".utf8))
        Foundation.exit(1)
    }

    /// Where caches live: $LCB_HOME, or .lcb/ in the working directory.
    static var home: URL {
        if let home = ProcessInfo.processInfo.environment["LCB_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".lcb")
    }
}

/// The samples `lcb plan` counts: datasets in a benchmark's own format are read with their loaders
/// (cheap, and it shows exactly which questions share an image); synthetic suites are enumerated
/// from their settings without rendering images (`lcb run --dry-run` renders them).
struct PlanSamples: SampleSource {
    let files: RunSamples
    let standIn = StandInSampleSource()

    init(specs: [Spec]) {
        let descriptors = specs.flatMap { spec in
            spec.datasets.values.compactMap { definition -> DatasetDescriptor? in
                guard case .files = definition.source else { return nil }
                return DatasetDescriptor(definition)
            }
        }
        files = RunSamples(descriptors: descriptors, syntheticRoot: FileManager.default.temporaryDirectory)
    }

    func samples(of dataset: DatasetDescriptor) -> SampleList {
        if case .files = dataset.source { return files.samples(of: dataset) }
        return standIn.samples(of: dataset)
    }
}
