import Foundation

/// Writes a `Drawing` as a standalone SVG 1.1 file.
public enum SVGWriter {
    public static func svg(_ drawing: Drawing, title: String? = nil) -> String {
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(n(drawing.width))" height="\(n(drawing.height))" \
            viewBox="0 0 \(n(drawing.width)) \(n(drawing.height))" font-family="Helvetica, Arial, sans-serif">

            """
        if let title { out += "  <title>\(escape(title))</title>\n" }
        out += "  <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        for item in drawing.items {
            switch item {
            case .path(let points, let color, let width, let dash):
                let coordinates = points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
                let dashing = dash.isEmpty ? "" : " stroke-dasharray=\"\(dash.map(n).joined(separator: " "))\""
                out += "  <polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color.hex)\" stroke-width=\"\(n(width))\"\(dashing) stroke-linejoin=\"round\"/>\n"
            case .dot(let center, let radius, let color):
                out += "  <circle cx=\"\(n(center.x))\" cy=\"\(n(center.y))\" r=\"\(n(radius))\" fill=\"\(color.hex)\"/>\n"
            case .text(let text, let at, let size, let anchor, let color, let rotated):
                let rotation = rotated ? " transform=\"rotate(-90 \(n(at.x)) \(n(at.y)))\"" : ""
                out += "  <text x=\"\(n(at.x))\" y=\"\(n(at.y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(color.hex)\"\(rotation)>\(escape(text))</text>\n"
            }
        }
        return out + "</svg>\n"
    }

    static func n(_ value: Double) -> String { NumberText.fixed(value, decimals: 2).replacingOccurrences(of: ".00", with: "") }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
