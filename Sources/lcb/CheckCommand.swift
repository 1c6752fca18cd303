import ArgumentParser
import Foundation
import SpecLanguage

/// `lcb check SPEC…`: type-checks spec files and prints every problem like a compiler.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check spec files and print every error and warning.",
        discussion: """
            Prints diagnostics to standard error as path:line:column: severity: message, with the \
            source line. Exit status: 0 when there are no errors (warnings allowed), 1 when a spec \
            has errors, 2 for usage errors.
            """
    )

    @Argument(help: "The spec files to check.", completion: .file(extensions: ["yaml", "yml"]))
    var specs: [String]

    @Flag(name: .long, inversion: .prefixedNo, help: "Colour the output (default: only on a terminal).")
    var color: Bool?

    func validate() throws {
        if specs.isEmpty { throw ValidationError("Name at least one spec file, e.g. 'lcb check Specs/quickstart.yaml'.") }
    }

    func run() throws {
        let useColor = color ?? (isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
        let results = SpecLoader().load(paths: specs)
        var all: [Diagnostic] = []
        var output = ""
        for result in results {
            output += result.rendered(useColor: useColor)
            all += result.diagnostics
        }
        let summary = all.summary
        output += (specs.count == 1 ? "" : "\(specs.count) specs: ") + summary + "\n"
        FileHandle.standardError.write(Data(output.utf8))
        if all.containsErrors { throw ExitCode(1) }
    }
}
