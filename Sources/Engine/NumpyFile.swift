import Foundation

/// Reads and writes float32 arrays in NumPy's `.npy` format (version 1.0/2.0, little-endian `<f4`,
/// C order) — for `--dump-logits` and the test fixtures.
public enum NumpyFile {
    public struct Array: Equatable, Sendable {
        public var shape: [Int]
        public var values: [Float]
    }

    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a float32 `.npy` file.
    public static func read(_ url: URL) throws -> Array {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        func fail(_ detail: String) -> FormatError { FormatError(description: "\(url.path): \(detail)") }
        guard bytes.count >= 10, bytes[0] == 0x93, Swift.Array(bytes[1..<6]) == Swift.Array("NUMPY".utf8) else {
            throw fail("not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        guard headerStart + headerLength <= bytes.count,
            let header = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: .ascii)
        else { throw fail("truncated header") }
        guard header.contains("'descr': '<f4'") else { throw fail("only little-endian float32 ('<f4') arrays are supported") }
        guard header.contains("'fortran_order': False") else { throw fail("Fortran-order arrays are not supported") }
        guard let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else {
            throw fail("no shape in header")
        }
        let shape = header[header.index(after: open)..<close].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let start = headerStart + headerLength
        guard bytes.count - start == count * 4 else {
            throw fail("shape \(shape) needs \(count * 4) data bytes, file has \(bytes.count - start)")
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { raw in out.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start...])) }
        }
        return Array(shape: shape, values: values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) })
    }

    /// The `.npy` (version 1.0) encoding of `values` with `shape`.
    public static func encode(_ values: [Float], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "shape must match the number of values")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so that the data starts on a 64-byte boundary, header ending in a newline.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Swift.Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Swift.Array(header.utf8))
        for value in values {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Writes `values` with `shape` as a `.npy` file.
    public static func write(_ values: [Float], shape: [Int], to url: URL) throws {
        try encode(values, shape: shape).write(to: url)
    }
}
