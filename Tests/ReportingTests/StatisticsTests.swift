import Foundation
import Testing
@testable import Reporting

@Suite struct PairedTestsTests {
    @Test func exactMcNemarMatchesExactIntegerReference() throws {
        // expected.json: p = min(1, 2·Σ_{i≤min(b,c)} C(b+c, i) / 2^(b+c)) in exact rational arithmetic.
        let cases = try #require(try TestData.expected()["mcnemar"] as? [[String: Any]])
        #expect(cases.count == 11)
        for item in cases {
            let b = try #require(item["b"] as? Int), c = try #require(item["c"] as? Int)
            let p = try #require(item["p"] as? Double)
            let computed = PairedTests.exactMcNemar(regressions: b, improvements: c)
            #expect(abs(computed - p) <= 1e-9 * max(p, 1e-300), "b=\(b) c=\(c): \(computed) vs \(p)")
        }
    }

    @Test func mcNemarByHand() {
        // b=3, c=7: 2·(1+10+45+120)/1024 = 0.34375.
        // Small cases are exact (integer coefficients, one power-of-two division).
        func close(_ a: Double, _ b: Double) -> Bool { a == b }
        #expect(close(PairedTests.exactMcNemar(regressions: 3, improvements: 7), 0.34375))
        // Symmetric in b and c, 1 without discordant pairs, tiny for one-sided evidence: 2/2^12.
        #expect(close(PairedTests.exactMcNemar(regressions: 7, improvements: 3), 0.34375))
        #expect(PairedTests.exactMcNemar(regressions: 0, improvements: 0) == 1)
        #expect(close(PairedTests.exactMcNemar(regressions: 0, improvements: 12), 2.0 / 4096))
    }

    @Test func pairedBootstrapIsDeterministicAndCoversTheShift() {
        // New = old + 0.1 on every sample plus noise: the interval must sit around 0.1 and exclude 0.
        var generator = SystemRandomNumberGeneratorFree(seed: 7)
        let old = (0..<200).map { _ in [generator.unit()] }
        let new = old.map { [$0[0] + 0.1 + (generator.unit() - 0.5) * 0.05] }
        let statistic = PairedStatistic.mean(component: "x", scale: 1)
        let first = PairedTests.pairedBootstrap(old: old, new: new, statistic: statistic)
        let second = PairedTests.pairedBootstrap(old: old, new: new, statistic: statistic)
        #expect(first == second)
        #expect(first.lower > 0.09 && first.upper < 0.11 && first.lower < first.estimate && first.estimate < first.upper)
        #expect(first.excludesZero)
        #expect(first.pValue == 0)
        // Identical runs: the interval is the single point 0, not significant.
        let same = PairedTests.pairedBootstrap(old: old, new: old, statistic: statistic)
        #expect(same.lower == 0 && same.upper == 0 && !same.excludesZero)
    }

    @Test func bootstrapOfPOPEStatisticsUsesBothComponents() {
        // predictedYes, labelYes rows: tp=2, fp=1, fn=1 → P = R = F1 = 2/3; yes ratio 3/5.
        let rows: [[Double]] = [[1, 1], [1, 1], [1, 0], [0, 1], [0, 0]]
        let all = [Int](repeating: 1, count: 5)
        #expect(abs(PairedStatistic.yesNo("f1").evaluate(rows, weights: all) - 2.0 / 3) < 1e-12)
        #expect(abs(PairedStatistic.yesNo("yesRatio").evaluate(rows, weights: all) - 0.6) < 1e-12)
        // Weights count a row several times: the second true positive twice → P = R = 3/4.
        #expect(abs(PairedStatistic.yesNo("precision").evaluate(rows, weights: [1, 2, 1, 1, 1]) - 0.75) < 1e-12)
    }

    @Test(arguments: [PairedStatistic.mean(component: "x", scale: 100), .binary(component: "x"),
                      .yesNo("f1"), .yesNo("precision"), .yesNo("recall"), .yesNo("yesRatio")])
    func fastBootstrapMatchesItsPlainTwin(statistic: PairedStatistic) {
        var generator = SystemRandomNumberGeneratorFree(seed: 11)
        let width = statistic.components.count
        let binary: Bool
        if case .mean = statistic { binary = false } else { binary = true }
        let rows = { (count: Int) in (0..<count).map { _ in (0..<width).map { _ in binary ? (generator.unit() < 0.6 ? 1.0 : 0.0) : generator.unit() } } }
        let old = rows(137), new = rows(137)
        let fast = PairedTests.resampledDifferences(old: old, new: new, statistic: statistic, resamples: 300, seed: 5)
        let plain = PairedTests.resampledDifferencesByWeights(old: old, new: new, statistic: statistic, resamples: 300, seed: 5)
        #expect(fast.count == 300)
        #expect(zip(fast, plain).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    @Test func quantileMatchesNumpyDefault() {
        // numpy.quantile([1, 2, 3, 4], 0.25) = 1.75 (linear interpolation).
        #expect(PairedTests.quantile([1, 2, 3, 4], 0.25) == 1.75)
        #expect(PairedTests.quantile([1, 2, 3, 4], 1) == 4)
    }
}

/// A tiny deterministic generator for test data (not the one under test).
struct SystemRandomNumberGeneratorFree {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func unit() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
}

@Suite struct NumberTextTests {
    @Test(arguments: [
        (1.25, 1, "1.3"), (-1.25, 1, "-1.3"), (0.0049, 2, "0.00"), (-0.0049, 2, "0.00"), (2.5, 0, "3"),
        (85.0, 1, "85.0"), (123456.789, 2, "123456.79"), (0.1 + 0.2, 2, "0.30"), (1e20, 1, "100000000000000000000.0"),
    ] as [(Double, Int, String)])
    func fixed(value: Double, decimals: Int, text: String) {
        #expect(NumberText.fixed(value, decimals: decimals) == text)
    }

    @Test func signedAndPValues() {
        #expect(NumberText.signed(1.04, decimals: 1) == "+1.0")
        #expect(NumberText.signed(-0.04, decimals: 1) == "0.0")
        #expect(NumberText.signed(-2, decimals: 1) == "-2.0")
        #expect(NumberText.pValue(0.004180908203125) == "0.0042")
        #expect(NumberText.pValue(2.09808349609375e-05) == "2.10e-05")
        #expect(NumberText.pValue(1e-12) == "<1e-10")
        #expect(NumberText.fixed(.nan, decimals: 2) == "nan")
    }
}
