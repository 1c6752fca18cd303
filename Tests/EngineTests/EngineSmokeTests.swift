import Testing
@testable import Engine

@Suite struct EnginePackageTests {
    @Test func moduleLinks() {
        #expect(String(describing: Engine.self) == "Engine")
    }
}
