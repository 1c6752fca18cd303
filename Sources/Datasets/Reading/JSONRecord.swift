import Foundation

/// One JSON object from a dataset file, with typed field access whose errors name file and record.
///
/// Datasets mix strings and numbers for ids (`"question_id": 1` vs `"set_id": "0"`), so id-like
/// fields accept both and are returned as strings.
struct JSONRecord {
    let object: [String: Any]
    let file: String
    let location: DatasetError.Location

    init(_ object: [String: Any], file: String, location: DatasetError.Location) {
        self.object = object
        self.file = file
        self.location = location
    }

    /// A value that is not a JSON object, reported as such.
    init(_ value: Any, file: String, location: @autoclosure () -> DatasetError.Location, what: @autoclosure () -> String) throws {
        guard let object = value as? [String: Any] else {
            let location = location()
            throw DatasetError(file: file, location: location,
                               message: "expected \(what()) as a JSON object, found \(JSONRecord.describe(value))")
        }
        self.init(object, file: file, location: location())
    }

    func error(_ message: String, hint: String = "") -> DatasetError {
        DatasetError(file: file, location: location, message: message, hint: hint)
    }

    func has(_ key: String) -> Bool {
        if let value = object[key], !(value is NSNull) { return true }
        return false
    }

    /// A required string field.
    func string(_ key: String) throws -> String {
        // Fast path first: checking `is NSNull` on every value bridges it, which dominates large files.
        if let text = object[key] as? String { return text }
        guard let value = object[key], !(value is NSNull) else { throw missing(key, "a string") }
        guard let text = value as? String else { throw wrongType(key, "a string", value) }
        return text
    }

    /// An optional string field (absent or null gives nil; any other non-string is an error).
    func optionalString(_ key: String) throws -> String? {
        if let text = object[key] as? String { return text }
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw wrongType(key, "a string", value) }
        return text
    }

    /// A required id: a string or an integer, returned as its decimal text.
    func identifier(_ key: String) throws -> String {
        if let value = object[key], let text = JSONRecord.identifierText(value) { return text }
        guard let value = object[key], !(value is NSNull) else { throw missing(key, "a string or integer id") }
        if let text = JSONRecord.identifierText(value) { return text }
        throw wrongType(key, "a string or integer id", value)
    }

    /// An optional id.
    func optionalIdentifier(_ key: String) throws -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        if let text = JSONRecord.identifierText(value) { return text }
        throw wrongType(key, "a string or integer id", value)
    }

    /// A required integer.
    func integer(_ key: String) throws -> Int {
        if let value = object[key], !(value is String), !(value is Bool), let integer = value as? Int { return integer }
        guard let value = object[key], !(value is NSNull) else { throw missing(key, "an integer") }
        if let number = value as? NSNumber, !(value is String), let exact = Int(exactly: number.doubleValue) {
            return exact
        }
        throw wrongType(key, "an integer", value)
    }

    /// A required array of strings.
    func strings(_ key: String) throws -> [String] {
        guard let value = object[key], !(value is NSNull) else { throw missing(key, "a list of strings") }
        guard let items = value as? [Any] else { throw wrongType(key, "a list of strings", value) }
        return try items.enumerated().map { index, item in
            guard let text = item as? String else {
                throw error("field '\(key)' item \(index) should be a string, found \(JSONRecord.describe(item))")
            }
            return text
        }
    }

    /// A required array of objects.
    func objects(_ key: String) throws -> [Any] {
        if let items = object[key] as? [Any] { return items }
        guard let value = object[key], !(value is NSNull) else { throw missing(key, "a list") }
        guard let items = value as? [Any] else { throw wrongType(key, "a list", value) }
        return items
    }

    /// A required object whose values are all strings (or numbers, kept as text).
    func stringMap(_ key: String) throws -> [String: String] {
        guard let value = object[key], !(value is NSNull) else { throw missing(key, "an object of strings") }
        guard let map = value as? [String: Any] else { throw wrongType(key, "an object of strings", value) }
        var result: [String: String] = [:]
        for (name, item) in map {
            guard let text = item as? String ?? JSONRecord.identifierText(item) else {
                throw error("field '\(key).\(name)' should be a string, found \(JSONRecord.describe(item))")
            }
            result[name] = text
        }
        return result
    }

    private func missing(_ key: String, _ expected: String) -> DatasetError {
        error("missing field '\(key)' (expected \(expected))")
    }

    private func wrongType(_ key: String, _ expected: String, _ value: Any) -> DatasetError {
        error("field '\(key)' should be \(expected), found \(JSONRecord.describe(value))")
    }

    static func identifierText(_ value: Any) -> String? {
        if let text = value as? String { return text }
        if let integer = value as? Int { return String(integer) }
        if value is Bool { return nil }
        if let number = value as? NSNumber, let exact = Int(exactly: number.doubleValue) { return String(exact) }
        return nil
    }

    /// A short description of a JSON value for "found …" messages.
    static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let text as String: return "the string \"\(text.count > 40 ? String(text.prefix(40)) + "…" : text)\""
        case is NSNumber: return "the number \(value)"
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value))"
        }
    }
}

/// Whole-file JSON and line-by-line JSONL parsing with file and line in every error.
enum JSONFile {
    /// Parses a JSON document.
    static func document(_ path: UserPath, expecting what: String) throws -> Any {
        let data = try path.read(expecting: what)
        do {
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw DatasetError(file: path.display, message: "is not valid JSON (\(JSONFile.reason(error))); expected \(what)")
        }
    }

    /// Parses a JSONL file: one object per non-blank line, each with its 1-based line number.
    static func lines(_ path: UserPath, expecting what: String) throws -> [JSONRecord] {
        let data = try path.read(expecting: what)
        var records: [JSONRecord] = []
        var lineNumber = 0
        var start = data.startIndex
        while start < data.endIndex {
            lineNumber += 1
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            var line = data[start..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            start = end < data.endIndex ? data.index(after: end) : end
            if line.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            let value: Any
            do {
                value = try JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])
            } catch {
                throw DatasetError(file: path.display, location: .line(lineNumber),
                                   message: "is not valid JSON (\(JSONFile.reason(error))); expected \(what) as one JSON object per line")
            }
            records.append(try JSONRecord(value, file: path.display, location: .line(lineNumber), what: what))
        }
        return records
    }

    static func reason(_ error: Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        return text ?? "malformed JSON"
    }
}
