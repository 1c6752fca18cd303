/// Exact storage sizes computed from shapes alone (no data), for planners, `lcb plan`/`inspect`
/// and reports. They equal the `byteCount` of the real caches and layers (tested).
public enum ByteAccounting {
    /// Bytes of an f16 KV cache (the baseline): 2 bytes per key and value element.
    public static func fp16KVCache(tokens: Int, layers: Int, kvHeads: Int, headDim: Int) -> Int {
        2 * 2 * tokens * layers * kvHeads * headDim
    }

    /// Bytes of a `QuantizedKVCache` after one append of `prefill` tokens per layer followed by
    /// `decoded` single-token appends.
    public static func kvCache(
        _ config: KVQuantizationConfig, prefill: Int, decoded: Int, layers: Int, kvHeads: Int, headDim: Int
    ) -> Int {
        var total = 0
        for keys in [true, false] {
            let plan = StreamPlan.make(config, forKeys: keys)
            var stream = StreamSizes(width: kvHeads * headDim, heads: kvHeads, dim: headDim, plan: plan)
            stream.append(prefill, first: true)
            for _ in 0..<decoded { stream.append(1, first: false) }
            total += stream.byteCount
        }
        return total * layers
    }

    /// Bytes of a quantized linear layer `[outFeatures, inFeatures]` (AWQ: after folding its input
    /// scale into the preceding op).
    public static func linear(
        _ config: WeightQuantizationConfig, outFeatures: Int, inFeatures: Int, hasBias: Bool
    ) -> Int {
        let grouping = WeightQuantizer.Grouping(scope: config.scope, groupSize: config.groupSize, inFeatures: inFeatures)
        var bytes = outFeatures * PackedCodes.wordCount(inFeatures, bits: config.bits) * 4
        bytes += grouping.count(rows: outFeatures) * 3
        if config.method == .outlier {
            let n = outFeatures * inFeatures
            let outliers = 2 * min(Int(Double(n) * config.fraction / 2), n / 2)
            if outliers > 0 { bytes += outliers * 6 + (outFeatures + 1) * 4 }
        }
        if hasBias { bytes += outFeatures * 4 }
        return bytes
    }

    /// Mirrors `KVStream.append` on sizes only.
    struct StreamSizes {
        struct Block {
            var layout: KVGroupLayout
            var codes: Int
            var groups: Int
            var outliers: Int
            var lowRankBytes: Int
        }

        let width: Int, heads: Int, dim: Int
        let plan: StreamPlan
        var blocks: [Block] = []
        var window = 0

        init(width: Int, heads: Int, dim: Int, plan: StreamPlan) {
            self.width = width
            self.heads = heads
            self.dim = dim
            self.plan = plan
        }

        mutating func append(_ tokens: Int, first: Bool) {
            window += tokens
            let flush: Int
            switch plan.flush {
            case .immediate: flush = window
            case .blocks(let r): flush = window / r * r
            case .slidingWindow(let r): flush = max(window - r, 0)
            }
            guard flush > 0 else { return }
            window -= flush
            let codec = plan.codec
            var layout = codec.layout
            let n = flush * width
            var outliers = 0
            switch codec.outliers {
            case .none: break
            case .perTensor(let f): outliers = 2 * min(Int(Double(n) * f / 2), n / 2)
            case .perChannel(let f):
                let k = Int(Double(flush) * f / 2)
                if k > 0 { outliers = width * 2 * min(k, flush / 2) }
            case .perToken(let f):
                let k = Int(Double(width) * f / 2)
                if k > 0 { outliers = flush * 2 * min(k, width / 2) }
            }
            let requested = first ? plan.prefillRank : plan.rank
            let r = min(requested, flush, dim)
            let lowRank = requested > 0 ? heads * (flush * r + dim * r) * 2 : 0
            if flush == 1, layout == .perTensor { layout = .tokensOverChannels(groupSize: width) }
            let block = Block(layout: layout, codes: n, groups: layout.groupCount(tokens: flush, heads: heads, dim: dim),
                              outliers: outliers, lowRankBytes: lowRank)
            if var last = blocks.last, last.layout == layout, last.lowRankBytes == 0, lowRank == 0,
               layout.isPerTokenGrouping {
                last.codes += block.codes
                last.groups += block.groups
                last.outliers += block.outliers
                blocks[blocks.count - 1] = last
            } else {
                blocks.append(block)
            }
        }

        var byteCount: Int {
            blocks.reduce(0) {
                $0 + PackedCodes.wordCount($1.codes, bits: plan.codec.bits) * 4 + $1.groups * 4 + $1.outliers * 6 + $1.lowRankBytes
            } + window * width * 2
        }
    }
}

extension KVGroupLayout {
    /// Groups never span two tokens, so chunks can be concatenated.
    var isPerTokenGrouping: Bool {
        switch self {
        case .perToken, .tokensOverChannels: true
        case .perTensor, .headDimIndex, .channelsOverTokens: false
        }
    }
}
