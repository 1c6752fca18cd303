import Testing
@testable import Execution

@Suite struct ExecutionPackageTests {
    @Test func moduleLinks() {
        #expect(String(describing: Execution.self) == "Execution")
    }
}
