import Foundation
import Testing
import TestSupport
@testable import SpecLanguage

/// Every `Tests/Fixtures/spec/broken/*.yaml` against its `*.expected` rendering.
///
/// Regenerate the goldens after an intended change with
/// `LCB_UPDATE_GOLDENS=1 swift test --filter GoldenDiagnosticsTests`, then review the diff.
@Suite struct GoldenDiagnosticsTests {
    static let brokenSpecs: [String] = {
        let folder = Fixtures.url("spec/broken").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    /// What `lcb check` prints for one spec, paths relative to Tests/Fixtures/spec.
    static func render(_ name: String) -> (text: String, result: SpecLoadResult) {
        let result = loadFixture("broken/" + name)
        return (result.rendered() + result.diagnostics.summary + "\n", result)
    }

    @Test func thereAreAtLeastFortyBrokenSpecs() {
        #expect(Self.brokenSpecs.count >= 40)
    }

    @Test(arguments: brokenSpecs)
    func diagnosticsMatchGolden(_ name: String) throws {
        let (text, result) = Self.render(name)
        #expect(!result.diagnostics.isEmpty, "a broken spec must produce diagnostics")
        if result.diagnostics.containsErrors { #expect(result.spec == nil) }
        let golden = Fixtures.url("spec/broken/" + name.dropLast(5) + ".expected")
        if ProcessInfo.processInfo.environment["LCB_UPDATE_GOLDENS"] == "1" {
            try text.write(to: golden, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(text == expected, "golden \(golden.lastPathComponent) differs; see the test's doc comment to regenerate")
    }
}
