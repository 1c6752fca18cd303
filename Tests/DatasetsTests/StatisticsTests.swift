import Foundation
import Testing
@testable import Datasets

@Suite struct StatisticsTests {
    @Test func analyticErrorOfMean() {
        // s² = ((−1)² + 0 + 1²) / 2 = 1, so s/√3.
        #expect(abs(Statistics.standardErrorOfMean([1, 2, 3]) - 1 / 3.0.squareRoot()) < 1e-12)
        #expect(Statistics.standardErrorOfMean([5]) == 0)
    }

    @Test func bootstrapAgreesWithAnalyticForAMean() {
        let values = (0..<400).map { $0 % 10 < 3 ? 1.0 : 0.0 }
        let analytic = Statistics.standardErrorOfMean(values)
        let bootstrap = Statistics.bootstrapStandardError(unitCount: values.count, resamples: 2000, seed: 7) { weights in
            var sum = 0.0, count = 0.0
            for (index, weight) in weights.enumerated() {
                sum += Double(weight) * values[index]
                count += Double(weight)
            }
            return sum / count
        }
        // The bootstrap estimates √(p(1−p)/n) ≈ 0.0229; 2000 resamples land within a few percent.
        #expect(abs(bootstrap - analytic) / analytic < 0.08)
    }

    @Test func bootstrapIsDeterministicPerSeed() {
        let statistic: ([Int]) -> Double = { weights in Double(weights[0] + 2 * weights[1]) }
        let first = Statistics.bootstrapStandardError(unitCount: 5, resamples: 200, seed: 11, statistic: statistic)
        let again = Statistics.bootstrapStandardError(unitCount: 5, resamples: 200, seed: 11, statistic: statistic)
        let other = Statistics.bootstrapStandardError(unitCount: 5, resamples: 200, seed: 12, statistic: statistic)
        #expect(first == again)
        #expect(first != other)
    }

    @Test func splitMix64KnownSequence() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test func sampleRoundTripsThroughJSON() throws {
        let sample = Sample(id: "mmvp/3", imagePath: "/data/3.jpg", question: "Left or right?\n(a) Left (b) Right",
                            promptSuffix: PromptSuffix.multipleChoice, references: ["b"],
                            answerType: .multipleChoice(choices: ["Left", "Right"]),
                            groups: SampleGroups(mmvpPairID: 1, counterfactual: CounterfactualGroup(setID: "s", attributes: ["race": "x"])))
        let decoded = try JSONDecoder().decode(Sample.self, from: JSONEncoder().encode(sample))
        #expect(decoded == sample)
    }
}
