import Testing
@testable import Datasets

@Suite struct DatasetsPackageTests {
    @Test func moduleLinks() {
        #expect(String(describing: Datasets.self) == "Datasets")
    }
}
