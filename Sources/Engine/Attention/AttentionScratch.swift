/// Reusable memory for attention calls, so that each call does not map (and the kernel zero)
/// fresh pages for its score and row buffers. One per cache or model; not thread-safe.
public final class AttentionScratch {
    private var slots: [UnsafeMutableBufferPointer<Float>] = []

    public init() {}

    /// A buffer of at least `count` floats for `slot`, kept between calls (contents undefined).
    func floats(_ slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
        while slots.count <= slot { slots.append(UnsafeMutableBufferPointer(start: nil, count: 0)) }
        if slots[slot].count < count {
            if slots[slot].baseAddress != nil { slots[slot].deallocate() }
            // Grow by a quarter beyond the request so a context growing token by token reallocates rarely.
            slots[slot] = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count + count / 4, 64))
        }
        return slots[slot].baseAddress!
    }

    deinit {
        for slot in slots where slot.baseAddress != nil { slot.deallocate() }
    }
}
