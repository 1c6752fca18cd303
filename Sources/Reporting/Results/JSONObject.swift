import Foundation

/// A parsed JSON object with lenient typed accessors (numbers as text or numbers, ids as either).
///
/// The report files are written by another layer and may gain fields; reading them through this
/// keeps Reporting independent of that layer's Swift types.
struct JSONObject: @unchecked Sendable {
    // JSONSerialization values: only ever read, never mutated.
    let storage: [String: Any]

    static func parse(_ data: Data, location: String) throws -> JSONObject {
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            throw ReportingError.malformed(location: location, problem: "not valid JSON (\(error.localizedDescription))")
        }
        guard let object = value as? [String: Any] else {
            throw ReportingError.malformed(location: location, problem: "expected a JSON object")
        }
        return JSONObject(storage: object)
    }

    var keys: [String] { Array(storage.keys) }

    /// True when the key is present (with any value, null included).
    func has(_ key: String) -> Bool { storage[key] != nil }

    /// Text, or a number/bool written as text (run ids may be integers).
    func string(_ key: String) -> String? {
        switch storage[key] {
        case let text as String: return text
        case let number as NSNumber:
            if isBoolean(number) { return number.boolValue ? "true" : "false" }
            let double = number.doubleValue
            if double == double.rounded(), abs(double) < 1e15 { return String(Int64(double)) }
            return NumberText.plain(double)
        default: return nil
        }
    }

    func number(_ key: String) -> Double? {
        switch storage[key] {
        case let number as NSNumber where !isBoolean(number): return number.doubleValue
        case let text as String: return Double(text)
        default: return nil
        }
    }

    func bool(_ key: String) -> Bool? {
        guard let number = storage[key] as? NSNumber else { return nil }
        return number.boolValue
    }

    func object(_ key: String) -> JSONObject? {
        (storage[key] as? [String: Any]).map(JSONObject.init(storage:))
    }

    func objectList(_ key: String) -> [JSONObject] {
        ((storage[key] as? [Any]) ?? []).compactMap { ($0 as? [String: Any]).map(JSONObject.init(storage:)) }
    }

    func strings(_ key: String) -> [String]? {
        (storage[key] as? [Any])?.compactMap { $0 as? String }
    }

    /// A required list of objects.
    func objects(_ key: String, location: String) throws -> [JSONObject] {
        guard let list = storage[key] else { return [] }
        guard let array = list as? [Any] else {
            throw ReportingError.malformed(location: location, problem: "\"\(key)\" must be a list")
        }
        return try array.enumerated().map { position, element in
            guard let object = element as? [String: Any] else {
                throw ReportingError.malformed(location: "\(location).\(key)[\(position)]", problem: "expected an object")
            }
            return JSONObject(storage: object)
        }
    }
}

/// JSONSerialization may give booleans as NSNumber; this tells them apart from 0 and 1 (JSON never
/// produces an 8-bit integer, whose type code `c` booleans share).
private func isBoolean(_ number: NSNumber) -> Bool {
    String(cString: number.objCType) == "c"
}
