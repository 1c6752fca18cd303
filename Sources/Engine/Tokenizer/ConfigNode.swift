/// A value inside a tokenizer file together with where it came from, for precise errors.
///
/// Stage factories read their settings through it, so a wrong or missing field is reported as
/// `tokenizer.json: model.merges[3]: expected …` rather than as a crash or a silent default.
struct ConfigNode: Sendable {
    let value: JSONValue
    /// The file the value was read from.
    let file: String
    /// The JSON path of the value inside the file (`model`, `normalizer.normalizers[1]`).
    let location: String

    /// A value of the wrong kind: says what was expected and what was found.
    func invalid(_ expected: String) -> TokenizerError {
        .invalidValue(path: file, where: location, expected: "\(expected), found \(value.kindName)")
    }

    /// A value of the right kind that still does not fit (the message explains why).
    func unusable(_ expected: String) -> TokenizerError {
        .invalidValue(path: file, where: location, expected: expected)
    }

    func child(_ key: String) -> ConfigNode? {
        guard let child = value[key] else { return nil }
        return ConfigNode(value: child, file: file, location: location.isEmpty ? key : "\(location).\(key)")
    }

    /// The member `key`, required to be present and not null.
    func required(_ key: String) throws -> ConfigNode {
        guard let node = child(key), !node.value.isNull else {
            throw TokenizerError.invalidValue(
                path: file, where: location.isEmpty ? key : "\(location).\(key)", expected: "a value (field is missing)")
        }
        return node
    }

    /// The member `key` if present and not null.
    func optional(_ key: String) -> ConfigNode? {
        guard let node = child(key), !node.value.isNull else { return nil }
        return node
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw invalid("a string") }
        return s
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw invalid("true or false") }
        return b
    }

    func int() throws -> Int {
        guard case .number(let n) = value, n.rounded() == n, abs(n) < 9.0e15 else { throw invalid("an integer") }
        return Int(n)
    }

    func double() throws -> Double {
        guard case .number(let n) = value else { throw invalid("a number") }
        return n
    }

    func array() throws -> [ConfigNode] {
        guard case .array(let elements) = value else { throw invalid("an array") }
        return elements.enumerated().map { ConfigNode(value: $1, file: file, location: "\(location)[\($0)]") }
    }

    /// The elements of an array without building a node for each (for large arrays).
    func elements() throws -> [JSONValue] {
        guard case .array(let elements) = value else { throw invalid("an array") }
        return elements
    }

    /// The node of element `index` of an array (for error messages).
    func element(_ index: Int) -> ConfigNode {
        guard case .array(let elements) = value, elements.indices.contains(index) else { return self }
        return ConfigNode(value: elements[index], file: file, location: "\(location)[\(index)]")
    }

    func members() throws -> [(key: String, value: JSONValue)] {
        guard case .object(let members) = value else { throw invalid("an object") }
        return members
    }

    func string(_ key: String) throws -> String { try required(key).string() }
    func bool(_ key: String, default fallback: Bool) throws -> Bool { try optional(key)?.bool() ?? fallback }
    func int(_ key: String) throws -> Int { try required(key).int() }
    func optionalString(_ key: String) throws -> String? { try optional(key)?.string() }

    /// The `type` field that selects a stage implementation.
    func typeName() throws -> String { try string("type") }

    /// The error for a `type` value no factory knows.
    func unsupported(_ type: String, section: String, supported: [String]) -> TokenizerError {
        .unsupportedType(path: file, section: section, type: type, supported: supported)
    }
}
