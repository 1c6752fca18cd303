import Testing
@testable import Planning

@Suite struct PlanningPackageTests {
    @Test func moduleLinks() {
        #expect(String(describing: Planning.self) == "Planning")
    }
}
