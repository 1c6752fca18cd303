import Engine

/// Errors in a weight quantization request.
public struct WeightQuantizationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Quantizes weight matrices `W[out, in]` (RTN with zero-point, dense-and-sparse) into packed
/// `QuantizedLinear` layers, and computes the matching simulated quantize→dequantize path.
public enum WeightQuantizer {
    /// How columns are grouped for a scope.
    struct Grouping {
        let groupSize: Int
        let groupsPerRow: Int
        let shared: Bool

        init(scope: WeightScope, groupSize: Int, inFeatures: Int) {
            switch scope {
            case .perTensor: (self.groupSize, groupsPerRow, shared) = (inFeatures, 1, true)
            case .perChannel: (self.groupSize, groupsPerRow, shared) = (inFeatures, 1, false)
            case .perGroup:
                let g = min(groupSize, inFeatures)
                (self.groupSize, groupsPerRow, shared) = (g, (inFeatures + g - 1) / g, false)
            }
        }

        @inline(__always)
        func index(_ o: Int, _ i: Int) -> Int { (shared ? 0 : o * groupsPerRow) + i / groupSize }

        func count(rows: Int) -> Int { shared ? 1 : rows * groupsPerRow }
    }

    /// The quantized pieces before packing: per-element codes, per-group parameters, outliers.
    struct Quantized {
        let grouping: Grouping
        let codes: [UInt8]
        let parameters: [ZeroPointParameters]
        let outlierPositions: [Int]  // ascending flat indices
    }

    static func validate(_ config: WeightQuantizationConfig, outFeatures: Int, inFeatures: Int) throws {
        guard outFeatures > 0, inFeatures > 0 else {
            throw WeightQuantizationError("cannot quantize an empty \(outFeatures)×\(inFeatures) weight matrix")
        }
        if config.scope == .perGroup, config.groupSize <= 0 {
            throw WeightQuantizationError("group_size must be positive, got \(config.groupSize)")
        }
        if config.method == .outlier, !(0...1).contains(config.fraction) {
            throw WeightQuantizationError("fraction must be in [0, 1], got \(config.fraction)")
        }
    }

    /// Codes and parameters for `w` under `config`'s scope (and outliers for `outlier`).
    static func quantizeValues(
        _ w: [Float], outFeatures: Int, inFeatures: Int, config: WeightQuantizationConfig
    ) -> Quantized {
        let grouping = Grouping(scope: config.scope, groupSize: config.groupSize, inFeatures: inFeatures)
        let n = w.count
        var outliers: [Int] = []
        if config.method == .outlier {
            outliers = SparseOutliers.extremes(count: n, n: Int(Double(n) * config.fraction / 2)) { w[$0] }.sorted()
        }
        var isOutlier = [Bool](repeating: false, count: outliers.isEmpty ? 0 : n)
        for i in outliers { isOutlier[i] = true }
        let groupCount = grouping.count(rows: outFeatures)
        var lo = [Float](repeating: .infinity, count: groupCount)
        var hi = [Float](repeating: -.infinity, count: groupCount)
        for o in 0..<outFeatures {
            for i in 0..<inFeatures {
                let e = o * inFeatures + i
                if !isOutlier.isEmpty && isOutlier[e] { continue }
                let g = grouping.index(o, i)
                lo[g] = min(lo[g], w[e])
                hi[g] = max(hi[g], w[e])
            }
        }
        let parameters = (0..<groupCount).map { g in
            lo[g] <= hi[g] ? ZeroPointParameters(lo: lo[g], hi: hi[g], bits: config.bits)
                           : ZeroPointParameters(lo: 0, hi: 0, bits: config.bits)
        }
        var codes = [UInt8](repeating: 0, count: n)
        for o in 0..<outFeatures {
            for i in 0..<inFeatures {
                let e = o * inFeatures + i
                let p = parameters[grouping.index(o, i)]
                // At an outlier the dense code is the zero-point, so the dense part adds exactly 0.
                codes[e] = !isOutlier.isEmpty && isOutlier[e] ? p.zeroPoint : UInt8(p.code(w[e], maxCode: config.bits.maxCode))
            }
        }
        return Quantized(grouping: grouping, codes: codes, parameters: parameters, outlierPositions: outliers)
    }

    /// The simulated path: quantize → dequantize `w` (`[out, in]` row-major).
    public static func simulate(
        _ w: [Float], outFeatures: Int, inFeatures: Int, config: WeightQuantizationConfig
    ) throws -> [Float] {
        try validate(config, outFeatures: outFeatures, inFeatures: inFeatures)
        let q = quantizeValues(w, outFeatures: outFeatures, inFeatures: inFeatures, config: config)
        var out = [Float](repeating: 0, count: w.count)
        for o in 0..<outFeatures {
            for i in 0..<inFeatures {
                let e = o * inFeatures + i
                out[e] = q.parameters[q.grouping.index(o, i)].value(Int(q.codes[e]))
            }
        }
        for e in q.outlierPositions { out[e] = Float(Float16(w[e])) }
        return out
    }

    /// The packed layer for `w` (`[out, in]` row-major) with an optional bias.
    public static func quantize(
        _ w: [Float], outFeatures: Int, inFeatures: Int, bias: [Float]? = nil, config: WeightQuantizationConfig
    ) throws -> QuantizedLinear {
        try validate(config, outFeatures: outFeatures, inFeatures: inFeatures)
        guard w.count == outFeatures * inFeatures else {
            throw WeightQuantizationError("weight has \(w.count) values, expected \(outFeatures)×\(inFeatures)")
        }
        if let bias, bias.count != outFeatures {
            throw WeightQuantizationError("bias has \(bias.count) values, expected \(outFeatures)")
        }
        let q = quantizeValues(w, outFeatures: outFeatures, inFeatures: inFeatures, config: config)
        return pack(q, w: w, outFeatures: outFeatures, inFeatures: inFeatures, bits: config.bits, bias: bias, inputScale: nil)
    }

    /// Quantizes a checkpoint matrix (any stored dtype) with an optional bias.
    public static func quantize(
        _ matrix: WeightMatrix, bias: [Float]? = nil, config: WeightQuantizationConfig
    ) throws -> QuantizedLinear {
        try quantize(matrix.floats(), outFeatures: matrix.outFeatures, inFeatures: matrix.inFeatures,
                     bias: bias, config: config)
    }

    static func pack(
        _ q: Quantized, w: [Float], outFeatures: Int, inFeatures: Int, bits: QuantizationBits,
        bias: [Float]?, inputScale: [Float]?
    ) -> QuantizedLinear {
        let rowWords = PackedCodes.wordCount(inFeatures, bits: bits)
        var words: [UInt32] = []
        words.reserveCapacity(rowWords * outFeatures)
        for o in 0..<outFeatures {
            let row = PackedCodes(bits: bits, codes: q.codes[(o * inFeatures)..<((o + 1) * inFeatures)])
            words += row.words
        }
        var rowStarts: [UInt32] = []
        var columns: [UInt32] = []
        var values: [Float16] = []
        if !q.outlierPositions.isEmpty {
            rowStarts = [UInt32](repeating: 0, count: outFeatures + 1)
            for e in q.outlierPositions {
                rowStarts[e / inFeatures + 1] += 1
                columns.append(UInt32(e % inFeatures))
                values.append(Float16(w[e]))
            }
            for o in 0..<outFeatures { rowStarts[o + 1] += rowStarts[o] }
        }
        return QuantizedLinear(
            inFeatures: inFeatures, outFeatures: outFeatures, bits: bits, groupSize: q.grouping.groupSize,
            groupsPerRow: q.grouping.groupsPerRow, sharedAcrossRows: q.grouping.shared, rowWords: rowWords,
            words: words, scales: q.parameters.map(\.scale), zeroPoints: q.parameters.map(\.zeroPoint),
            outlierRowStarts: rowStarts, outlierColumns: columns, outlierValues: values, bias: bias,
            inputScale: inputScale)
    }
}

extension WeightMatrix {
    /// All elements widened to Float32, row-major.
    func floats() -> [Float] {
        var out = [Float](repeating: 0, count: outFeatures * inFeatures)
        for o in 0..<outFeatures { for i in 0..<inFeatures { out[o * inFeatures + i] = element(o, i) } }
        return out
    }
}
