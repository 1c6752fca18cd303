import Foundation

/// A vector drawing in points, origin at the top left: what both the SVG and the PDF writer draw.
///
/// Plots are laid out once into this value, so the SVG (for the web, README) and the PDF (for
/// pdflatex, which cannot include SVG) show exactly the same figure.
public struct Drawing: Sendable, Hashable {
    public var width: Double
    public var height: Double
    public var items: [Item]

    public init(width: Double, height: Double, items: [Item] = []) {
        self.width = width
        self.height = height
        self.items = items
    }

    public struct Color: Sendable, Hashable {
        public var red: Double, green: Double, blue: Double

        public init(_ red: Double, _ green: Double, _ blue: Double) {
            self.red = red
            self.green = green
            self.blue = blue
        }

        public init(hex: UInt32) {
            self.init(Double((hex >> 16) & 0xFF) / 255, Double((hex >> 8) & 0xFF) / 255, Double(hex & 0xFF) / 255)
        }

        public static let black = Color(0, 0, 0)
        public static let gray = Color(hex: 0x888888)
        public static let lightGray = Color(hex: 0xDDDDDD)

        /// `#rrggbb`.
        public var hex: String {
            let digits = Array("0123456789abcdef")
            return "#" + [red, green, blue].map { component -> String in
                let byte = Int((min(max(component, 0), 1) * 255).rounded())
                return String([digits[byte >> 4], digits[byte & 15]])
            }.joined()
        }
    }

    public enum Anchor: String, Sendable, Hashable {
        case start, middle, end
    }

    public enum Item: Sendable, Hashable {
        /// An open polyline.
        case path(points: [Point], color: Color, width: Double, dash: [Double])
        /// A filled circle (data markers).
        case dot(center: Point, radius: Double, color: Color)
        /// Text with its baseline at `at`; `rotated` turns it 90° anticlockwise (y-axis titles).
        case text(String, at: Point, size: Double, anchor: Anchor, color: Color, rotated: Bool)
    }

    public struct Point: Sendable, Hashable {
        public var x: Double, y: Double

        public init(_ x: Double, _ y: Double) {
            self.x = x
            self.y = y
        }
    }

    /// Approximate width of `text` in Helvetica at `size` (from Helvetica's metrics for digits and
    /// punctuation, averages for letters): enough to place right-aligned labels in the PDF.
    public static func textWidth(_ text: String, size: Double) -> Double {
        var units = 0.0
        for scalar in text.unicodeScalars {
            switch scalar {
            case "0"..."9", "$", "+", "=", "<", ">", "~": units += 556
            case ".", ",", ":", ";", " ", "/", "!", "i", "j", "l", "I", "'": units += 278
            case "-", "(", ")", "[", "]", "r", "t", "f": units += 333
            case "m", "M", "W": units += 833
            case "w": units += 722
            case "A"..."Z": units += 667
            default: units += 520
            }
        }
        return units / 1000 * size
    }
}
