/// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines.
enum CSVReader {
    struct Row {
        /// 1-based line on which the row starts.
        let line: Int
        let fields: [String]
    }

    enum Failure: Error {
        case unterminatedQuote(line: Int)
        case strayQuote(line: Int)
    }

    static func rows(_ text: String) throws -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var line = 1
        var rowStart = 1
        var inQuotes = false
        var quotedField = false
        var iterator = Array(text.unicodeScalars)[...]
        func endRow() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append(Row(line: rowStart, fields: fields)) }
            fields = []
            field = ""
            quotedField = false
        }
        while let scalar = iterator.popFirst() {
            if inQuotes {
                if scalar == "\"" {
                    if iterator.first == "\"" {
                        iterator.removeFirst()
                        field.unicodeScalars.append("\"")
                    } else {
                        inQuotes = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"":
                guard field.isEmpty && !quotedField else { throw Failure.strayQuote(line: line) }
                inQuotes = true
                quotedField = true
            case ",":
                fields.append(field)
                field = ""
                quotedField = false
            case "\r":
                if iterator.first != "\n" { field.unicodeScalars.append(scalar) }
            case "\n":
                endRow()
                line += 1
                rowStart = line
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes { throw Failure.unterminatedQuote(line: rowStart) }
        if !field.isEmpty || !fields.isEmpty { endRow() }
        return rows
    }
}
