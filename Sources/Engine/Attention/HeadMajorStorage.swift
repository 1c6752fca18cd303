/// Per-layer keys and values laid out `[kvHeads, capacity, headDim]`: the storage policy both
/// full-precision caches (`F16KVCache`, `F32KVCache`) share.
///
/// Each head's rows are contiguous, so attention streams through memory; capacity grows in
/// steps of `growthStep` tokens, never per token. Arrays are copy-on-write, so copying the
/// storage is cheap until either copy is extended, and the two never affect each other.
struct HeadMajorStorage<Element: Numeric> {
    let layerCount: Int
    let kvHeads: Int
    let headDim: Int
    let growthStep: Int

    private(set) var keys: [[Element]]
    private(set) var values: [[Element]]
    private(set) var counts: [Int]

    init(layerCount: Int, kvHeads: Int, headDim: Int, capacity: Int, growthStep: Int) {
        precondition(layerCount > 0 && kvHeads > 0 && headDim > 0 && growthStep > 0)
        self.layerCount = layerCount
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.growthStep = growthStep
        let initial = [Element](repeating: 0, count: capacity * kvHeads * headDim)
        keys = Array(repeating: initial, count: layerCount)
        values = Array(repeating: initial, count: layerCount)
        counts = Array(repeating: 0, count: layerCount)
    }

    /// Elements of one token across all KV heads.
    var tokenStride: Int { kvHeads * headDim }

    /// Tokens stored over all layers.
    var storedTokens: Int { counts.reduce(0, +) }

    /// Tokens `layer` can hold before the next growth step.
    func capacity(layer: Int) -> Int { keys[layer].count / tokenStride }

    /// Appends `tokenCount` tokens given `[tokenCount, kvHeads, headDim]`, storing each head's row
    /// of `headDim` values with `store(source, target, headDim)` (a copy or a conversion).
    mutating func append(
        layer: Int, keys newKeys: UnsafeBufferPointer<Float>, values newValues: UnsafeBufferPointer<Float>, tokenCount: Int,
        store: (UnsafePointer<Float>, UnsafeMutablePointer<Element>, Int) -> Void
    ) {
        guard tokenCount > 0 else { return }
        precondition(newKeys.count >= tokenCount * tokenStride && newValues.count >= tokenCount * tokenStride, "too few keys/values")
        let needed = counts[layer] + tokenCount
        if needed > capacity(layer: layer) {
            let grown = (needed + growthStep - 1) / growthStep * growthStep
            keys[layer] = HeadMajor.regrow(keys[layer], kvHeads: kvHeads, headDim: headDim, rows: counts[layer], capacity: grown)
            values[layer] = HeadMajor.regrow(values[layer], kvHeads: kvHeads, headDim: headDim, rows: counts[layer], capacity: grown)
        }
        let capacity = capacity(layer: layer)
        let start = counts[layer]
        let (d, heads) = (headDim, kvHeads)
        keys[layer].withUnsafeMutableBufferPointer { k in
            values[layer].withUnsafeMutableBufferPointer { v in
                for j in 0..<tokenCount {
                    for g in 0..<heads {
                        let source = (j * heads + g) * d
                        let target = (g * capacity + start + j) * d
                        store(newKeys.baseAddress! + source, k.baseAddress! + target, d)
                        store(newValues.baseAddress! + source, v.baseAddress! + target, d)
                    }
                }
            }
        }
        counts[layer] += tokenCount
    }
}

/// Re-laying out head-major storage when its capacity grows.
enum HeadMajor {
    /// `[kvHeads, capacity, headDim]` buffer with the first `rows` rows of each head copied from `old`.
    static func regrow<Element: Numeric>(_ old: [Element], kvHeads: Int, headDim: Int, rows: Int, capacity: Int) -> [Element] {
        let oldCapacity = old.count / (kvHeads * headDim)
        var grown = [Element](repeating: 0, count: kvHeads * capacity * headDim)
        old.withUnsafeBufferPointer { source in
            grown.withUnsafeMutableBufferPointer { target in
                for g in 0..<kvHeads where rows > 0 {
                    (target.baseAddress! + g * capacity * headDim)
                        .update(from: source.baseAddress! + g * oldCapacity * headDim, count: rows * headDim)
                }
            }
        }
        return grown
    }
}
