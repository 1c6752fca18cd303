import CKernels
import Foundation
import Testing
import TestSupport
@testable import Engine

/// Weight element types as test arguments.
enum WeightType: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case f32, f16, bf16
    var testDescription: String { rawValue }
}

/// A random weight matrix that owns its storage, plus the matching inputs.
final class LinearCase: @unchecked Sendable {
    let rows: Int
    let outFeatures: Int
    let inFeatures: Int
    let x: [Float]
    let bias: [Float]?
    private let storage: UnsafeMutableRawPointer
    let weights: WeightMatrix

    init(type: WeightType, rows: Int, outFeatures: Int, inFeatures: Int, withBias: Bool, seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        self.rows = rows
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        x = (0..<(rows * inFeatures)).map { _ in Float.random(in: -1...1, using: &random) }
        bias = withBias ? (0..<outFeatures).map { _ in Float.random(in: -1...1, using: &random) } : nil
        let count = outFeatures * inFeatures
        let values = (0..<count).map { _ in Float.random(in: -1...1, using: &random) }
        switch type {
        case .f32:
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            for i in 0..<count { p[i] = values[i] }
            storage = UnsafeMutableRawPointer(p)
            weights = WeightMatrix(storage: .f32(p), outFeatures: outFeatures, inFeatures: inFeatures)
        case .f16:
            let p = UnsafeMutablePointer<UInt16>.allocate(capacity: max(count, 1))
            for i in 0..<count { p[i] = Float16(values[i]).bitPattern }
            storage = UnsafeMutableRawPointer(p)
            weights = WeightMatrix(storage: .f16(p), outFeatures: outFeatures, inFeatures: inFeatures)
        case .bf16:
            let p = UnsafeMutablePointer<UInt16>.allocate(capacity: max(count, 1))
            for i in 0..<count { p[i] = UInt16(truncatingIfNeeded: values[i].bitPattern >> 16) }
            storage = UnsafeMutableRawPointer(p)
            weights = WeightMatrix(storage: .bf16(p), outFeatures: outFeatures, inFeatures: inFeatures)
        }
    }

    deinit { storage.deallocate() }

    func run(_ isa: KernelInstructionSet, threads: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: rows * outFeatures)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                withOptionalPointer(bias) { b in
                    MatMul.linear(xb.baseAddress!, rows: rows, weights: weights, bias: b,
                                  into: yb.baseAddress!, instructionSet: isa, threads: threads)
                }
            }
        }
        return y
    }

    func runReference() -> [Float] {
        var y = [Float](repeating: .nan, count: rows * outFeatures)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                withOptionalPointer(bias) { b in
                    MatMul.linearReference(xb.baseAddress!, rows: rows, weights: weights, bias: b, into: yb.baseAddress!)
                }
            }
        }
        return y
    }

    /// Exact result (in Double) and Σ|x·w| + |b| per output, the scale rounding errors are bounded by.
    func exact() -> (value: [Double], magnitude: [Double]) {
        var value = [Double](repeating: 0, count: rows * outFeatures)
        var magnitude = value
        for r in 0..<rows {
            for o in 0..<outFeatures {
                var s = 0.0, m = 0.0
                for i in 0..<inFeatures {
                    let term = Double(x[r * inFeatures + i]) * Double(weights.element(o, i))
                    s += term
                    m += abs(term)
                }
                if let bias { s += Double(bias[o]); m += abs(Double(bias[o])) }
                value[r * outFeatures + o] = s
                magnitude[r * outFeatures + o] = m
            }
        }
        return (value, magnitude)
    }
}

private func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// Odd shapes on purpose: in/out features that are not multiples of 8, 16 or 32 exercise every tail.
/// (6, 4133) is longer than the kernels' input block (2048), so prefill tiles park and resume accumulators.
let linearShapes: [(out: Int, in: Int)] = [(1, 1), (5, 3), (13, 37), (31, 129), (67, 300), (40, 16), (9, 1001), (6, 4133)]
let linearRowCounts = [1, 2, 3, 7, 17]

/// Instruction sets this CPU runs (the others cannot be tested here).
let supportedInstructionSets = KernelInstructionSet.allCases.filter(\.isSupported)

@Suite struct KernelMatMulTests {
    /// Every kernel is within a rigorous rounding-error bound of the exact product.
    ///
    /// Each term x·w (w widened exactly from f16/bf16) goes through at most
    /// d = ⌈in/lanes⌉ (lane FMA chain) + log₂(lanes) (horizontal sum) + 2 (product, bias) roundings,
    /// so |ŷ − y| ≤ γ_d·(Σ|x·w| + |b|) with γ_d = d·u/(1 − d·u), u = 2⁻²⁴ (Higham, Accuracy and
    /// Stability, §3.1). For in = 300 and 16 lanes that is ≈ 1.5e-6 relative to Σ|x·w|: the
    /// "1e-5-ish" tolerance, but derived, so a wrong element or a lost term fails it.
    @Test(arguments: WeightType.allCases, supportedInstructionSets)
    func matchesExactProductWithinRoundingBound(type: WeightType, isa: KernelInstructionSet) {
        var seed: UInt64 = 1
        for shape in linearShapes {
            for rows in linearRowCounts {
                for withBias in [false, true] {
                    seed += 1
                    let c = LinearCase(type: type, rows: rows, outFeatures: shape.out, inFeatures: shape.in,
                                       withBias: withBias, seed: seed)
                    let y = c.run(isa, threads: 2)
                    let (exact, magnitude) = c.exact()
                    let lanes = isa.lanes
                    let depth = (shape.in + lanes - 1) / lanes + lanes.trailingZeroBitCount + 2
                    let u = 0x1p-24
                    let gamma = Double(depth) * u / (1 - Double(depth) * u)
                    var worst = 0.0
                    for k in y.indices {
                        worst = max(worst, abs(Double(y[k]) - exact[k]) / max(gamma * magnitude[k], .leastNormalMagnitude))
                    }
                    #expect(worst <= 1, "rows \(rows) out \(shape.out) in \(shape.in) bias \(withBias): error \(worst)× the bound")
                }
            }
        }
    }

    /// The portable C kernel performs exactly the reference's operations, so it matches bit for bit.
    @Test(arguments: WeightType.allCases)
    func scalarKernelIsBitIdenticalToReference(type: WeightType) {
        var seed: UInt64 = 1000
        for shape in linearShapes {
            for rows in [1, 3, 7] {
                seed += 1
                let c = LinearCase(type: type, rows: rows, outFeatures: shape.out, inFeatures: shape.in,
                                   withBias: seed % 2 == 0, seed: seed)
                #expect(c.run(.scalar, threads: 2).map(\.bitPattern) == c.runReference().map(\.bitPattern),
                        "rows \(rows) out \(shape.out) in \(shape.in)")
            }
        }
    }

    /// SIMD kernels agree with the scalar reference to a relative 1e-5 of Σ|x·w| (a looser,
    /// bound-free cross-check of the test above against the Swift twin).
    @Test(arguments: WeightType.allCases, supportedInstructionSets)
    func agreesWithSwiftReference(type: WeightType, isa: KernelInstructionSet) {
        let c = LinearCase(type: type, rows: 7, outFeatures: 67, inFeatures: 300, withBias: true, seed: 77)
        let y = c.run(isa, threads: 0)
        let reference = c.runReference()
        let (_, magnitude) = c.exact()
        for k in y.indices {
            #expect(abs(Double(y[k]) - Double(reference[k])) <= 1e-5 * magnitude[k])
        }
    }

    /// Results are bit-identical for 1, 2 and 3 threads (DESIGN.md: deterministic per build and
    /// thread count; here even across thread counts). Sizes are above the single-thread cutoff.
    @Test(arguments: WeightType.allCases, supportedInstructionSets)
    func threadCountDoesNotChangeResults(type: WeightType, isa: KernelInstructionSet) {
        for (rows, out, inFeatures) in [(1, 1001, 257), (3, 301, 250), (17, 97, 123), (5, 21, 4133)] {
            let c = LinearCase(type: type, rows: rows, outFeatures: out, inFeatures: inFeatures, withBias: true,
                               seed: UInt64(rows * 31 + out))
            let one = c.run(isa, threads: 1).map(\.bitPattern)
            #expect(c.run(isa, threads: 2).map(\.bitPattern) == one)
            #expect(c.run(isa, threads: 3).map(\.bitPattern) == one)
        }
    }

    /// A row gives the same bits alone (decode, GEMV) as inside a batch (prefill, GEMM tiles),
    /// also when the input is long enough to be processed in blocks.
    @Test(arguments: supportedInstructionSets, [333, 4133])
    func rowResultDoesNotDependOnBatch(isa: KernelInstructionSet, inFeatures: Int) {
        let out = 70
        let batch = LinearCase(type: .f16, rows: 17, outFeatures: out, inFeatures: inFeatures, withBias: true, seed: 5)
        let all = batch.run(isa, threads: 2)
        for r in [0, 3, 4, 15, 16] {
            var y = [Float](repeating: .nan, count: out)
            batch.x.withUnsafeBufferPointer { xb in
                batch.bias!.withUnsafeBufferPointer { bb in
                    MatMul.linear(xb.baseAddress! + r * inFeatures, rows: 1, weights: batch.weights, bias: bb.baseAddress!,
                                  into: &y, instructionSet: isa, threads: 1)
                }
            }
            #expect(y.map(\.bitPattern) == all[(r * out)..<((r + 1) * out)].map(\.bitPattern), "row \(r)")
        }
    }

    /// The default entry point runs the best kernels with the process-wide thread count.
    @Test func defaultEntryPointUsesBestKernels() {
        let c = LinearCase(type: .bf16, rows: 2, outFeatures: 41, inFeatures: 99, withBias: false, seed: 9)
        var y = [Float](repeating: .nan, count: 2 * 41)
        c.x.withUnsafeBufferPointer { xb in
            MatMul.linear(xb.baseAddress!, rows: 2, weights: c.weights, bias: nil, into: &y)
        }
        #expect(y.map(\.bitPattern) == c.run(KernelInstructionSet.best, threads: 1).map(\.bitPattern))
        #expect(supportedInstructionSets.contains(.scalar))
        #expect(KernelInstructionSet.best.isSupported)
    }

    /// Zero rows or zero outputs write nothing; zero inputs give the bias (or 0).
    @Test func emptyShapes() {
        let c = LinearCase(type: .f32, rows: 2, outFeatures: 3, inFeatures: 0, withBias: true, seed: 3)
        for isa in supportedInstructionSets {
            let y = c.run(isa, threads: 2)
            #expect(y == c.bias! + c.bias!)
        }
        var untouched: [Float] = [42]
        let x: [Float] = [1, 2]
        MatMul.linear(x, rows: 0, weights: c.weights, bias: nil, into: &untouched)
        #expect(untouched == [42])
    }

    /// Tails never read past the end of the weights: the matrix ends right at an unmapped page.
    @Test(arguments: WeightType.allCases)
    func tailsStayInsideTheWeights(type: WeightType) throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        #expect(region != MAP_FAILED)
        defer { munmap(region, 2 * page) }
        #expect(mprotect(region + page, page, PROT_NONE) == 0)
        let out = 3, inFeatures = 21
        let size = type == .f32 ? 4 : 2
        let start = region + page - out * inFeatures * size
        let source = LinearCase(type: type, rows: 3, outFeatures: out, inFeatures: inFeatures, withBias: false, seed: 4)
        let weights: WeightMatrix
        switch source.weights.storage {
        case .f32(let p):
            start.copyMemory(from: p, byteCount: out * inFeatures * size)
            weights = WeightMatrix(storage: .f32(UnsafePointer(start.assumingMemoryBound(to: Float.self))), outFeatures: out, inFeatures: inFeatures)
        case .f16(let p):
            start.copyMemory(from: p, byteCount: out * inFeatures * size)
            weights = WeightMatrix(storage: .f16(UnsafePointer(start.assumingMemoryBound(to: UInt16.self))), outFeatures: out, inFeatures: inFeatures)
        case .bf16(let p):
            start.copyMemory(from: p, byteCount: out * inFeatures * size)
            weights = WeightMatrix(storage: .bf16(UnsafePointer(start.assumingMemoryBound(to: UInt16.self))), outFeatures: out, inFeatures: inFeatures)
        }
        let reference = source.runReference()
        for isa in supportedInstructionSets {
            var y = [Float](repeating: .nan, count: 3 * out)
            MatMul.linear(source.x, rows: 3, weights: weights, bias: nil, into: &y, instructionSet: isa, threads: 1)
            for k in y.indices { #expect(abs(y[k] - reference[k]) <= 1e-5) }
        }
    }

    /// Products started from several threads at once (the pool runs one region at a time; the
    /// others run on their caller) all give the single-threaded bits.
    @Test func concurrentCallersGetCorrectResults() async {
        let c = LinearCase(type: .f16, rows: 5, outFeatures: 257, inFeatures: 300, withBias: true, seed: 11)
        let expected = c.run(.best, threads: 1).map(\.bitPattern)
        let results = await withTaskGroup(of: [UInt32].self) { group in
            for _ in 0..<6 { group.addTask { c.run(.best, threads: 2).map(\.bitPattern) } }
            var all: [[UInt32]] = []
            for await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 6)
        for r in results { #expect(r == expected) }
    }
}

@Suite struct KernelParallelForTests {
    /// Every iteration runs exactly once, also for counts above any task batching and when nested.
    @Test(arguments: [0, 1, 2, 7, 1000, 100_003])
    func everyIterationRunsOnce(iterations: Int) {
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(iterations, 1))
        defer { hits.deallocate() }
        hits.initialize(repeating: 0)
        KernelThreads.parallelFor(iterations) { hits[$0] += 1 }
        #expect(hits.prefix(iterations).allSatisfy { $0 == 1 })
    }

    @Test func nestedCallsRunInline() {
        let rows = 6, columns = 50
        let cells = UnsafeMutableBufferPointer<Int>.allocate(capacity: rows * columns)
        defer { cells.deallocate() }
        cells.initialize(repeating: 0)
        KernelThreads.parallelFor(rows) { r in
            KernelThreads.parallelFor(columns) { c in cells[r * columns + c] += r * columns + c + 1 }
        }
        #expect(Array(cells) == Array(1...(rows * columns)))
    }
}

/// `lcb_threads_run_ranges`, the chunking the dense and packed kernels share: chunks of `align`
/// multiples, about `perThread` per thread, that tile `[0, total)` once.
@Suite struct KernelRangesTests {
    @Test(arguments: [
        (1000, 16, 4, 2, [128, 128, 128, 128, 128, 128, 128, 104]),
        (1000, 1, 4, 3, Array(repeating: 84, count: 11) + [76]),
        (33, 16, 4, 8, [16, 16, 1]),
        (5, 16, 4, 1, [5]),
        (0, 16, 4, 2, []),
    ])
    func rangesTileTheIndicesInAlignedChunks(total: Int, align: Int, perThread: Int, threads: Int, lengths: [Int]) {
        // Each task writes its length at its start; starts differ, so tasks never share a slot.
        let starts = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(total, 1))
        defer { starts.deallocate() }
        starts.initialize(repeating: 0)
        lcb_threads_run_ranges(total, align, perThread, { context, begin, end in
            context!.assumingMemoryBound(to: Int.self)[begin] = end - begin
        }, UnsafeMutableRawPointer(starts.baseAddress!), Int32(threads))
        var seen: [Int] = []
        var index = 0
        while index < total {
            let length = starts[index]
            guard length > 0 else { break }
            seen.append(length)
            index += length
        }
        #expect(seen == lengths)
        #expect(index == total)
    }
}

@Suite(.serialized) struct KernelThreadSettingTests {
    @Test func threadCountCanBeSetAndRestored() {
        let original = KernelThreads.count
        #expect(original >= 1)
        KernelThreads.count = 1
        #expect(KernelThreads.count == 1)
        KernelThreads.count = 3
        #expect(KernelThreads.count == 3)
        KernelThreads.count = 0
        #expect(KernelThreads.count >= 1)
        KernelThreads.count = original
    }
}
