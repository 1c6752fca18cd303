/// The largest `|a[i] − b[i]|`: how far a computed tensor is from its reference.
///
/// The two must have the same length (a length mismatch is a bug in the test or the code).
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i])) }
    return worst
}
