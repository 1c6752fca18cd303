import Foundation

/// Numbers as text, the same on every machine and locale: `.` decimal point, no grouping, fixed decimals.
public enum NumberText {
    /// `value` with exactly `decimals` digits after the point, rounded half away from zero;
    /// `-0.00` is written `0.00`; NaN and infinities as `nan`, `inf`, `-inf`.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        let decimals = max(0, min(decimals, 12))
        var scale: Double = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        // Beyond 2^53 a double has no fractional digits left to show; print the integer part plainly.
        guard scaled < 9.0e15 else { return (value < 0 ? "-" : "") + String(format: "%.0f", abs(value)) + fraction(zeros: decimals) }
        let units = UInt64(scaled)
        let divisor = UInt64(scale)
        let whole = units / divisor
        var text = String(whole)
        if decimals > 0 {
            let remainder = String(units % divisor)
            text += "." + String(repeating: "0", count: decimals - remainder.count) + remainder
        }
        return (value < 0 && units != 0 ? "-" : "") + text
    }

    /// As `fixed`, with a `+` before positive values (deltas); zero gets no sign.
    public static func signed(_ value: Double, decimals: Int) -> String {
        let text = fixed(value, decimals: decimals)
        if text.hasPrefix("-") || text.allSatisfy({ $0 == "0" || $0 == "." }) { return text }
        return "+" + text
    }

    /// Shortest round-trip text (`0.02`, `4`, `1e-05`), for machine-readable output.
    public static func plain(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A p-value: 4 significant digits, `<1e-10` below that.
    public static func pValue(_ p: Double) -> String {
        if p < 1e-10 { return "<1e-10" }
        if p >= 0.001 { return fixed(p, decimals: 4) }
        // Scientific with 2 decimals, written by hand to stay locale- and platform-independent.
        let exponent = Int(floor(log10(p)))
        var mantissa = p / pow(10, Double(exponent))
        var e = exponent
        if fixed(mantissa, decimals: 2) == "10.00" { mantissa /= 10; e += 1 }
        return fixed(mantissa, decimals: 2) + "e" + (e < 0 ? "-" : "+") + (abs(e) < 10 ? "0" : "") + String(abs(e))
    }

    private static func fraction(zeros: Int) -> String { zeros > 0 ? "." + String(repeating: "0", count: zeros) : "" }
}
