internal import CKernels

/// Matrix products used by every linear layer: `y = x·Wᵀ + b` with weights in their stored dtype.
///
/// `linear` is the entry point the models call; it runs the C kernels (AVX-512, AVX2+FMA+F16C or
/// portable C, chosen at run time) on `KernelThreads.count` threads. `linearReference` is its plain
/// scalar twin that tests compare against; it is slow and must stay obviously correct.
///
/// Each output element is one dot product with a fixed operation order that depends only on the
/// instruction set and `inFeatures`: results are bit-identical for any thread count and for a row
/// computed alone or inside a batch of rows.
public enum MatMul {
    /// `y[r, o] = Σᵢ x[r, i]·W[o, i] + bias[o]` for `rows` rows; x `[rows, in]`, y `[rows, out]`.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, weights: WeightMatrix, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>
    ) {
        linear(x, rows: rows, weights: weights, bias: bias, into: y, instructionSet: .best, threads: 0)
    }

    /// `linear` with an explicit instruction set and thread count (`threads <= 0`: `KernelThreads.count`).
    ///
    /// For tests and benchmarks; an instruction set the CPU lacks falls back to the best one it has.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, weights: WeightMatrix, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>, instructionSet: KernelInstructionSet, threads: Int
    ) {
        precondition(rows >= 0, "row count must not be negative")
        guard rows > 0, weights.outFeatures > 0 else { return }
        let (pointer, dtype): (UnsafeRawPointer, Int32) =
            switch weights.storage {
            case .f32(let p): (UnsafeRawPointer(p), Int32(LCB_DENSE_F32))
            case .f16(let p): (UnsafeRawPointer(p), Int32(LCB_DENSE_F16))
            case .bf16(let p): (UnsafeRawPointer(p), Int32(LCB_DENSE_BF16))
            }
        lcb_dense_linear_with(
            x, rows, pointer, dtype, weights.outFeatures, weights.inFeatures, bias, y,
            instructionSet.code, Int32(clamping: threads))
    }

    /// Scalar reference for `linear`: accumulates in Float32 in input order, then adds the bias.
    public static func linearReference(
        _ x: UnsafePointer<Float>, rows: Int, weights: WeightMatrix, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>
    ) {
        let n = weights.inFeatures
        let m = weights.outFeatures
        for r in 0..<rows {
            let xr = x + r * n
            for o in 0..<m {
                var sum: Float = 0
                for i in 0..<n { sum += xr[i] * weights.element(o, i) }
                if let bias { sum += bias[o] }
                y[r * m + o] = sum
            }
        }
    }
}

/// The SIMD instruction sets the dense kernels are written for.
public enum KernelInstructionSet: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Portable C with one accumulator per output, in input order (bit-identical to `linearReference`).
    case scalar = 0
    /// AVX2 + FMA + F16C: 8 f32 lanes per accumulator.
    case avx2 = 1
    /// AVX-512 F/BW/VL: 16 f32 lanes per accumulator.
    case avx512 = 2

    /// The best instruction set this CPU supports.
    public static var best: KernelInstructionSet {
        KernelInstructionSet(rawValue: Int(lcb_dense_isa_best())) ?? .scalar
    }

    /// Whether this CPU can run these kernels.
    public var isSupported: Bool { lcb_dense_isa_supported(code) != 0 }

    /// f32 lanes per accumulator: each dot product sums this many interleaved partial sums.
    public var lanes: Int {
        switch self {
        case .scalar: 1
        case .avx2: 8
        case .avx512: 16
        }
    }

    public var description: String {
        switch self {
        case .scalar: "scalar"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    var code: Int32 { Int32(rawValue) }
}

/// The threads the kernels run on: one persistent pool for the whole process.
///
/// `count` is the process-wide setting that `--threads` sets. Other parallel work in the engine
/// (attention heads, elementwise loops) should go through `parallelFor` rather than a second pool
/// (e.g. `DispatchQueue.concurrentPerform`): the pool's workers spin for a short while after each
/// call, so a second set of threads would compete with them for the cores.
public enum KernelThreads {
    /// Threads per kernel call, at least 1. Defaults to the processors this process may run on.
    ///
    /// Setting 0 or less restores the default. Kernel results do not depend on it.
    public static var count: Int {
        get { Int(lcb_threads_count()) }
        set { lcb_threads_set_count(Int32(clamping: newValue)) }
    }

    /// Runs `body(i)` for every `i` in `0..<iterations` on up to `count` threads (the caller among
    /// them) and returns when all have finished.
    ///
    /// Iterations are handed out dynamically, so `body` must make each iteration's result
    /// independent of the thread that runs it, and must be safe to call concurrently. A call made
    /// while another `parallelFor` or kernel is running (nested, or from another thread) runs all
    /// its iterations on the calling thread.
    public static func parallelFor(_ iterations: Int, _ body: (Int) -> Void) {
        guard iterations > 0 else { return }
        if iterations == 1 { return body(0) }
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { pointer in
                lcb_threads_run(iterations, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, pointer, 0)
            }
        }
    }
}
