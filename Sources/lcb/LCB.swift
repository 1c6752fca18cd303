import ArgumentParser
import Foundation

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
            CheckCommand.self,
            DataCommand.self,
            TokenizeCommand.self,
            InspectCommand.self,
            PlanCommand.self,
        ]
    )

    /// Runs the command; usage errors exit with status 2 (ArgumentParser's default is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error).rawValue == ExitCode.validationFailure.rawValue {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// The version `lcb --version` prints and provenance records.
enum LCBVersion {
    static let string = "0.1.0"
}
