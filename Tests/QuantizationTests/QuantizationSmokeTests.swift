import Testing
@testable import Quantization

@Suite struct QuantizationPackageTests {
    @Test func moduleLinks() {
        #expect(String(describing: Quantization.self) == "Quantization")
    }
}
