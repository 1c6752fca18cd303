import ArgumentParser

/// The `lcb` command: checks, plans, runs and reports compression experiments on LLaVA-family models.
@main
struct LCB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lcb",
        abstract: "Measure what compression does to vision-language models.",
        discussion: """
            Write an experiment in YAML; lcb checks it, plans it, runs quantized inference and \
            renders paper-ready tables. See docs/ for the spec language.
            """,
        version: LCBVersion.string,
        subcommands: [
            // Each subcommand lives in its own file in this folder.
            BenchKernelsCommand.self,
        ]
    )
}

/// The version `lcb --version` prints and provenance records.
enum LCBVersion {
    static let string = "0.1.0"
}
