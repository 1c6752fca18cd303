import Foundation

/// Writes a `Drawing` as a one-page PDF 1.4 (vector, Helvetica), which pdflatex includes with
/// `\includegraphics` — the LaTeX counterpart of the SVG.
public enum PDFWriter {
    public static func pdf(_ drawing: Drawing, title: String? = nil) -> Data {
        var content = ""
        let height = drawing.height
        for item in drawing.items {
            switch item {
            case .path(let points, let color, let width, let dash):
                guard let first = points.first else { continue }
                content += "\(rgb(color)) RG \(n(width)) w 1 J 1 j [\(dash.map(n).joined(separator: " "))] 0 d\n"
                content += "\(n(first.x)) \(n(height - first.y)) m\n"
                for point in points.dropFirst() { content += "\(n(point.x)) \(n(height - point.y)) l\n" }
                content += "S\n"
            case .dot(let center, let radius, let color):
                // A circle as four cubic Béziers (k = 0.5523 of the radius for the control points).
                let x = center.x, y = height - center.y, r = radius, k = 0.5523 * radius
                content += "\(rgb(color)) rg\n\(n(x + r)) \(n(y)) m\n"
                content += "\(n(x + r)) \(n(y + k)) \(n(x + k)) \(n(y + r)) \(n(x)) \(n(y + r)) c\n"
                content += "\(n(x - k)) \(n(y + r)) \(n(x - r)) \(n(y + k)) \(n(x - r)) \(n(y)) c\n"
                content += "\(n(x - r)) \(n(y - k)) \(n(x - k)) \(n(y - r)) \(n(x)) \(n(y - r)) c\n"
                content += "\(n(x + k)) \(n(y - r)) \(n(x + r)) \(n(y - k)) \(n(x + r)) \(n(y)) c\nf\n"
            case .text(let text, let at, let size, let anchor, let color, let rotated):
                let width = Drawing.textWidth(text, size: size)
                let shift: Double = anchor == .start ? 0 : (anchor == .middle ? width / 2 : width)
                let y = height - at.y
                // Text matrix: rotated text runs upwards, so the anchor shift moves along y.
                let matrix = rotated ? "0 1 -1 0 \(n(at.x)) \(n(y - shift))" : "1 0 0 1 \(n(at.x - shift)) \(n(y))"
                content += "BT \(rgb(color)) rg /F1 \(n(size)) Tf \(matrix) Tm (\(escape(text))) Tj ET\n"
            }
        }
        var objects: [String] = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 \(n(drawing.width)) \(n(drawing.height))] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length \(content.unicodeScalars.count) >>\nstream\n\(content)endstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ]
        if let title { objects.append("<< /Title (\(escape(title))) /Producer (lcb) >>") }
        var out = "%PDF-1.4\n%\u{00E2}\u{00E3}\u{00CF}\u{00D3}\n"
        // Offsets count bytes; the binary-marker comment is written as Latin-1 below, so count it as such.
        var bytes = Data()
        func append(_ text: String) { bytes.append(contentsOf: text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }) }
        append(out)
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(bytes.count)
            append("\(index + 1) 0 obj\n\(object)\nendobj\n")
        }
        let xref = bytes.count
        out = "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { out += String(repeating: "0", count: 10 - String(offset).count) + String(offset) + " 00000 n \n" }
        out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R\(title != nil ? " /Info \(objects.count) 0 R" : "") >>\nstartxref\n\(xref)\n%%EOF\n"
        append(out)
        return bytes
    }

    static func n(_ value: Double) -> String {
        var text = NumberText.fixed(value, decimals: 2)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    static func rgb(_ color: Drawing.Color) -> String { "\(n(color.red)) \(n(color.green)) \(n(color.blue))" }

    /// A PDF literal string: `\`, `(` and `)` escaped; characters outside Latin-1 become `?`.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\", "(", ")": out += "\\" + String(scalar)
            case "\u{2212}", "\u{2013}": out += "-"
            default: out += scalar.value < 256 && scalar.value >= 32 ? String(scalar) : "?"
            }
        }
        return out
    }
}
