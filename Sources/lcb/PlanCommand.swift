import ArgumentParser
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

        var cells: [Cell] = []
        for (path, result) in zip(specs, results) {
            guard let spec = result.spec else { throw ExitCode(1) }
            cells += spec.cells(specFile: path)
        }
        let digests = FileDigestCache(file: Self.home.appendingPathComponent("file-digests.json"))
        let planner = Planner(inspector: CheckpointFolderInspector(digests: digests), samples: StandInSampleSource(),
                              deduplicate: !noDedup)
        let plan = planner.plan(cells)
        digests.save()
        let output = json ? PlanRendering.json(plan, specs: specs) : PlanRendering.text(plan, specs: specs)
        FileHandle.standardOutput.write(Data(output.utf8))
    }

    /// Where caches live: $LCB_HOME, or .lcb/ in the working directory.
    static var home: URL {
        if let home = ProcessInfo.processInfo.environment["LCB_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".lcb")
    }
}
