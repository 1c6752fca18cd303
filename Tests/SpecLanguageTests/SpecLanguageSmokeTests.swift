import Testing
@testable import SpecLanguage

@Suite struct SpecLanguagePackageTests {
    @Test func moduleLinks() {
        #expect(String(describing: SpecLanguage.self) == "SpecLanguage")
    }
}
