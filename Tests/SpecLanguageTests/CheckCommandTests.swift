import Foundation
import Testing
import TestSupport

/// Runs the built `lcb check` (it sits beside the test bundle) and checks its output and exit status.
@Suite struct CheckCommandTests {
    static let executable = LCBProcess.executable

    func run(_ arguments: [String]) throws -> LCBProcessResult {
        try LCBProcess.run(arguments, in: Fixtures.url("spec"), environment: ["NO_COLOR": "1"])
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
