
/// Splits elementwise work over the CPU cores when it is large enough to pay for the threads.
enum Parallel {
    /// Below this many elements per call, one thread is faster than waking others.
    static let minimumElements = 1 << 15

    /// Calls `body` on disjoint subranges that together cover `0..<count`.
    static func forRanges(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let chunks = count >= minimumElements ? min(KernelThreads.count, count / (minimumElements / 2)) : 1
        guard chunks > 1 else {
            body(0..<count)
            return
        }
        let size = (count + chunks - 1) / chunks
        // The kernels' pool, not a second set of threads competing with its spinning workers.
        KernelThreads.parallelFor(chunks) { chunk in
            let start = chunk * size
            body(start..<min(start + size, count))
        }
    }
}

/// A pointer that parallel loops may share: each thread touches a disjoint range of it.
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
}

