import Foundation

/// A stored quantized layer that cannot be read: wrong magic, another format version, or
/// fields that do not fit together.
public struct QuantizedLinearFormatError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The binary format of packed layers, so that AWQ/GPTQ results (minutes of calibration) can be
/// stored on disk and read back bit for bit.
///
/// Little-endian throughout. A file is the magic `LCBQLIN\0`, a `UInt32` format version (1), a
/// `UInt64` layer count, then per layer (in name order): the name (`UInt64` byte count + UTF-8),
/// and the layer: `inFeatures`, `outFeatures`, `bits`, `groupSize`, `groupsPerRow`, `rowWords`
/// (each `UInt64`), flags (`UInt8`: 1 shared across rows, 2 bias, 4 input scale), then the arrays,
/// each as a `UInt64` element count followed by its elements: codes (`UInt32`), steps (fp16 bit
/// patterns), zero-points (`UInt8`), outlier row starts and columns (`UInt32`), outlier values
/// (fp16), and when flagged bias and input scale (f32 bit patterns). Every count is checked
/// against the shape on reading.
public enum QuantizedLinearFormat {
    public static let magic: [UInt8] = Array("LCBQLIN".utf8) + [0]
    public static let version: UInt32 = 1

    /// The layers as one byte string (names sorted, so equal inputs give equal bytes).
    public static func encode(_ layers: [String: QuantizedLinear]) -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes(magic)
        writer.u32(version)
        writer.u64(UInt64(layers.count))
        for name in layers.keys.sorted() {
            guard let layer = layers[name] else { continue }
            let utf8 = Array(name.utf8)
            writer.u64(UInt64(utf8.count))
            writer.bytes(utf8)
            encode(layer, into: &writer)
        }
        return writer.data
    }

    /// Reads what `encode` wrote; `source` names the file in errors.
    public static func decode(_ bytes: [UInt8], source: String = "quantized layers") throws -> [String: QuantizedLinear] {
        var reader = ByteReader(bytes: bytes, source: source)
        guard try reader.bytes(magic.count) == magic else {
            throw QuantizedLinearFormatError("\(source): not a quantized-layer file (bad magic); delete it and rerun to recompute")
        }
        let found = try reader.u32()
        guard found == version else {
            throw QuantizedLinearFormatError("\(source): format version \(found), this lcb reads version \(version); delete it and rerun to recompute")
        }
        let count = try reader.count(limit: bytes.count)
        var layers: [String: QuantizedLinear] = [:]
        for _ in 0..<count {
            let nameLength = try reader.count(limit: bytes.count)
            let name = String(decoding: try reader.bytes(nameLength), as: UTF8.self)
            guard layers[name] == nil else { throw QuantizedLinearFormatError("\(source): layer '\(name)' appears twice") }
            layers[name] = try decodeLayer(&reader, name: name)
        }
        guard reader.atEnd else { throw QuantizedLinearFormatError("\(source): \(bytes.count - reader.offset) bytes after the last layer") }
        return layers
    }

    static func encode(_ layer: QuantizedLinear, into writer: inout ByteWriter) {
        for value in [layer.inFeatures, layer.outFeatures, layer.bits.rawValue, layer.groupSize, layer.groupsPerRow, layer.rowWords] {
            writer.u64(UInt64(value))
        }
        var flags: UInt8 = layer.sharedAcrossRows ? 1 : 0
        if layer.bias != nil { flags |= 2 }
        if layer.inputScale != nil { flags |= 4 }
        writer.bytes([flags])
        writer.u32s(layer.words)
        writer.u16s(layer.scales.map(\.bitPattern))
        writer.u64(UInt64(layer.zeroPoints.count))
        writer.bytes(layer.zeroPoints)
        writer.u32s(layer.outlierRowStarts)
        writer.u32s(layer.outlierColumns)
        writer.u16s(layer.outlierValues.map(\.bitPattern))
        if let bias = layer.bias { writer.u32s(bias.map(\.bitPattern)) }
        if let inputScale = layer.inputScale { writer.u32s(inputScale.map(\.bitPattern)) }
    }

    static func decodeLayer(_ reader: inout ByteReader, name: String) throws -> QuantizedLinear {
        let limit = reader.buffer.count * 8
        let inFeatures = try reader.count(limit: limit), outFeatures = try reader.count(limit: limit)
        let bitCount = try reader.count(limit: 64), groupSize = try reader.count(limit: limit)
        let groupsPerRow = try reader.count(limit: limit), rowWords = try reader.count(limit: limit)
        let flags = try reader.bytes(1)[0]
        func fail(_ problem: String) -> QuantizedLinearFormatError {
            QuantizedLinearFormatError("\(reader.source): layer '\(name)': \(problem); delete the file and rerun to recompute")
        }
        guard let bits = QuantizationBits(rawValue: bitCount) else { throw fail("\(bitCount) bits") }
        guard inFeatures > 0, outFeatures > 0, groupSize > 0 else { throw fail("empty shape") }
        guard groupsPerRow == (inFeatures + groupSize - 1) / groupSize else { throw fail("\(groupsPerRow) groups per row for \(inFeatures) inputs in groups of \(groupSize)") }
        guard rowWords == (inFeatures + bits.codesPerWord - 1) / bits.codesPerWord else { throw fail("\(rowWords) words per row") }
        let shared = flags & 1 != 0
        let words = try reader.u32s()
        let scales = try reader.u16s().map(Float16.init(bitPattern:))
        let fileSize = reader.buffer.count
        let zeroPointCount = try reader.count(limit: fileSize)
        let zeroPoints = try reader.bytes(zeroPointCount)
        let rowStarts = try reader.u32s(), columns = try reader.u32s()
        let outliers = try reader.u16s().map(Float16.init(bitPattern:))
        let bias = flags & 2 != 0 ? try reader.u32s().map(Float.init(bitPattern:)) : nil
        let inputScale = flags & 4 != 0 ? try reader.u32s().map(Float.init(bitPattern:)) : nil
        let groups = shared ? groupsPerRow : outFeatures * groupsPerRow
        guard words.count == outFeatures * rowWords else { throw fail("\(words.count) code words, expected \(outFeatures * rowWords)") }
        guard scales.count == groups, zeroPoints.count == groups else { throw fail("\(scales.count) steps and \(zeroPoints.count) zero-points, expected \(groups)") }
        guard zeroPoints.allSatisfy({ Int($0) <= bits.maxCode }) else { throw fail("a zero-point above \(bits.maxCode)") }
        if rowStarts.isEmpty {
            guard columns.isEmpty, outliers.isEmpty else { throw fail("outliers without row starts") }
        } else {
            guard rowStarts.count == outFeatures + 1, rowStarts.first == 0, Int(rowStarts[outFeatures]) == columns.count,
                  zip(rowStarts, rowStarts.dropFirst()).allSatisfy({ $0 <= $1 }),
                  outliers.count == columns.count, columns.allSatisfy({ Int($0) < inFeatures }) else {
                throw fail("inconsistent outliers")
            }
        }
        if let bias, bias.count != outFeatures { throw fail("\(bias.count) bias values, expected \(outFeatures)") }
        if let inputScale, inputScale.count != inFeatures { throw fail("\(inputScale.count) input scales, expected \(inFeatures)") }
        return QuantizedLinear(
            inFeatures: inFeatures, outFeatures: outFeatures, bits: bits, groupSize: groupSize, groupsPerRow: groupsPerRow,
            sharedAcrossRows: shared, rowWords: rowWords, words: words, scales: scales, zeroPoints: zeroPoints,
            outlierRowStarts: rowStarts, outlierColumns: columns, outlierValues: outliers, bias: bias, inputScale: inputScale)
    }
}

/// Little-endian output.
struct ByteWriter {
    var data: [UInt8] = []
    mutating func bytes(_ values: [UInt8]) { data.append(contentsOf: values) }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u32s(_ values: [UInt32]) {
        u64(UInt64(values.count))
        data.reserveCapacity(data.count + values.count * 4)
        for value in values { u32(value) }
    }
    mutating func u16s(_ values: [UInt16]) {
        u64(UInt64(values.count))
        for value in values { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    }
}

/// Little-endian input that never reads past the end (a truncated file is an error, not a crash).
struct ByteReader {
    let buffer: [UInt8]
    let source: String
    var offset = 0
    var atEnd: Bool { offset == buffer.count }

    init(bytes: [UInt8], source: String) {
        self.buffer = bytes
        self.source = source
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= buffer.count - offset else {
            throw QuantizedLinearFormatError("\(source): truncated at byte \(offset) (wanted \(count) more); delete it and rerun to recompute")
        }
        defer { offset += count }
        return Array(buffer[offset..<(offset + count)])
    }

    mutating func u32() throws -> UInt32 {
        try bytes(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func u64() throws -> UInt64 {
        try bytes(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A count no larger than `limit` (so a damaged count cannot ask for terabytes).
    mutating func count(limit: Int) throws -> Int {
        let value = try u64()
        guard value <= UInt64(limit) else {
            throw QuantizedLinearFormatError("\(source): count \(value) at byte \(offset - 8) is larger than the file; delete it and rerun to recompute")
        }
        return Int(value)
    }

    mutating func u32s() throws -> [UInt32] {
        let count = try self.count(limit: (buffer.count - offset) / 4)
        let raw = try bytes(count * 4)
        return (0..<count).map { i in
            UInt32(raw[4 * i]) | UInt32(raw[4 * i + 1]) << 8 | UInt32(raw[4 * i + 2]) << 16 | UInt32(raw[4 * i + 3]) << 24
        }
    }

    mutating func u16s() throws -> [UInt16] {
        let count = try self.count(limit: (buffer.count - offset) / 2)
        let raw = try bytes(count * 2)
        return (0..<count).map { i in UInt16(raw[2 * i]) | UInt16(raw[2 * i + 1]) << 8 }
    }
}
