import Foundation
import Testing
import TestSupport

/// Runs the built `lcb check` (it sits beside the test bundle) and checks its output and exit status.
@Suite struct CheckCommandTests {
    static let executable: URL? = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for folder in [here, here.deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("lcb")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }()

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = Self.executable // the tests are enabled only when it exists
        process.arguments = arguments
        process.currentDirectoryURL = Fixtures.url("spec")
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test(.enabled(if: executable != nil)) func errorsExitOneAndPrintTheGolden() throws {
        let result = try run(["check", "broken/many-problems.yaml"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let golden = try String(contentsOf: Fixtures.url("spec/broken/many-problems.expected"), encoding: .utf8)
        #expect(result.stderr == golden)
    }

    @Test(.enabled(if: executable != nil)) func warningsAloneExitZero() throws {
        let result = try run(["check", "broken/unused-definitions.yaml", "valid/full.yaml"])
        #expect(result.status == 0)
        #expect(result.stderr.hasSuffix("2 specs: 3 warnings\n"))
    }

    @Test(.enabled(if: executable != nil)) func usageErrorsExitTwo() throws {
        #expect(try run(["check"]).status == 2)
        #expect(try run(["check", "--bogus", "valid/full.yaml"]).status == 2)
        #expect(try run(["check", "missing.yaml"]).status == 1)
    }
}
