import Foundation
import Testing
import Engine
@testable import Quantization

/// KL divergence vs FP16 of the next-token distributions, every method at 2 and 4 bits, on every
/// fixture model — reported, not asserted beyond sanity. `LCB_KL_TABLE=1 swift test --filter
/// EndToEndDivergence` prints the Markdown tables that docs/quantization.md shows.
@Suite struct EndToEndDivergenceTests {
    /// Window and groups sized for prompts of 7–35 positions (the defaults would keep every
    /// fixture token in the fp16 window).
    static let kvConfigs = ["uniform", "outlier", "group,group_size=8,residual=8", "gear,group_size=8,residual=8",
                            "gear-l,group_size=8,residual=8"]
    static let weightConfigs = ["rtn,group_size=16", "outlier", "awq,group_size=16", "gptq,group_size=16"]

    static func spec(_ method: String, bits: Int, regime: String? = nil) -> String {
        let parts = method.split(separator: ",", maxSplits: 1).map(String.init)
        var text = "\(parts[0]):\(bits)" + (parts.count > 1 ? "," + parts[1] : "")
        if let regime { text += ",regime=\(regime)" }
        return text
    }

    /// Mean teacher-forced KL over the fixture's 16 FP16 greedy positions.
    static func kvDivergence(_ fixture: EndToEndFixture, _ text: String) throws -> Double {
        let (model, prompt, _, _) = try fixture.load()
        let continuation = try fixture.expected().greedyTokens
        let reference = try NextTokenDivergence.teacherForcedLogits(model: model, prompt: prompt, kv: nil, continuation: continuation)
        let logits = try NextTokenDivergence.teacherForcedLogits(
            model: model, prompt: prompt, kv: QuantizationSpecParser.parseKV(text), continuation: continuation)
        return NextTokenDivergence.meanKL(reference: reference, candidate: logits)
    }

    static func weightDivergence(_ fixture: EndToEndFixture, _ text: String) throws -> Double {
        let (reference, prompt, _, tokens) = try fixture.load()
        let continuation = try fixture.expected().greedyTokens
        let referenceLogits = try NextTokenDivergence.teacherForcedLogits(model: reference, prompt: prompt, kv: nil, continuation: continuation)
        let (model, _, _, _) = try fixture.load()
        let pixels = fixture.hasImage ? [try NumpyFile.read(fixture.pixelFile).values] : []
        guard let config = try QuantizationSpecParser.parseWeights(text) else { return 0 }
        // Calibrate on the prompt followed by the answer (the only text these random models have).
        try ModelWeightQuantization.apply(config, to: model, calibration: [CalibrationPrompt(tokens: tokens.ids + continuation, pixelValues: pixels)])
        let logits = try NextTokenDivergence.teacherForcedLogits(model: model, prompt: prompt, kv: nil, continuation: continuation)
        return NextTokenDivergence.meanKL(reference: referenceLogits, candidate: logits)
    }

    static func table(title: String, rows: [String], cell: (String, EndToEndFixture) throws -> Double) throws -> (String, [[Double]]) {
        var text = "| \(title) | " + EndToEndFixture.all.map(\.name).joined(separator: " | ") + " |\n"
        text += "|---|" + String(repeating: "---:|", count: EndToEndFixture.all.count) + "\n"
        var values: [[Double]] = []
        for row in rows {
            let line = try EndToEndFixture.all.map { try cell(row, $0) }
            values.append(line)
            text += "| `\(row)` | " + line.map { String(format: "%.2e", $0) }.joined(separator: " | ") + " |\n"
        }
        return (text, values)
    }

    @Test func kvDivergenceIsSaneAndShrinksWithBits() throws {
        var output = ""
        for regime in ["attention", "prefix", "store"] {
            let rows = Self.kvConfigs.flatMap { m in [2, 4].map { Self.spec(m, bits: $0, regime: regime) } }
            let (text, values) = try Self.table(title: "KV (\(regime))", rows: rows) { try Self.kvDivergence($1, $0) }
            output += text + "\n"
            for line in values { for v in line { #expect(v.isFinite && v >= 0) } }
            // Summed over models, 4 bits is closer to FP16 than 2 bits for every method.
            for m in 0..<Self.kvConfigs.count {
                let four: Double = values[2 * m + 1].reduce(0, +)
                let two: Double = values[2 * m].reduce(0, +)
                #expect(four < two, "\(rows[2 * m]) \(regime)")
            }
        }
        if ProcessInfo.processInfo.environment["LCB_KL_TABLE"] == "1" { print(output) }
    }

    @Test func weightDivergenceIsSaneAndShrinksWithBits() throws {
        let rows = Self.weightConfigs.flatMap { m in [2, 4].map { Self.spec(m, bits: $0) } }
        let (text, values) = try Self.table(title: "weights", rows: rows) { try Self.weightDivergence($1, $0) }
        for line in values { for v in line { #expect(v.isFinite && v >= 0) } }
        for m in 0..<Self.weightConfigs.count {
            let four: Double = values[2 * m + 1].reduce(0, +)
            let two: Double = values[2 * m].reduce(0, +)
            #expect(four < two, "\(rows[2 * m])")
        }
        if ProcessInfo.processInfo.environment["LCB_KL_TABLE"] == "1" { print(text) }
    }
}
