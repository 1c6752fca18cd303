import Testing
@testable import Reporting

@Suite struct ReportingPackageTests {
    @Test func moduleLinks() {
        #expect(String(describing: Reporting.self) == "Reporting")
    }
}
