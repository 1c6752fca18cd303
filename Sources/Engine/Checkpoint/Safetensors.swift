import Foundation

/// Element types the engine reads from checkpoints.
public enum TensorDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    public var byteSize: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        }
    }
}

/// One tensor inside a memory-mapped checkpoint file, in its on-disk dtype.
public struct Tensor: @unchecked Sendable {
    /// Name as written in the file (before any renaming).
    public let name: String
    public let file: URL
    public let dtype: TensorDType
    public let shape: [Int]
    /// Start of the elements; valid while `owner` lives and aligned for `dtype`.
    public let data: UnsafeRawPointer
    /// Keeps the mapping (or the aligned copy) alive.
    public let owner: AnyObject

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dtype.byteSize }

    /// Element `index` widened to Float32.
    @inline(__always)
    public func element(_ index: Int) -> Float {
        switch dtype {
        case .f32: return data.assumingMemoryBound(to: Float.self)[index]
        case .f16: return Float(Float16(bitPattern: data.assumingMemoryBound(to: UInt16.self)[index]))
        case .bf16: return Float(bitPattern: UInt32(data.assumingMemoryBound(to: UInt16.self)[index]) << 16)
        }
    }

    /// Elements `[start, start + count)` widened to Float32 into `destination`.
    public func copyElements(from start: Int, count: Int, into destination: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32:
            destination.update(from: data.assumingMemoryBound(to: Float.self) + start, count: count)
        case .f16:
            HalfConversion.widen(data.assumingMemoryBound(to: UInt16.self) + start, into: destination, count: count)
        case .bf16:
            let source = data.assumingMemoryBound(to: UInt16.self) + start
            for i in 0..<count { destination[i] = Float(bitPattern: UInt32(source[i]) << 16) }
        }
    }

    /// All elements as Float32 (for small tensors: norms, biases, embeddings rows).
    public func floats() -> [Float] {
        [Float](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
            if let base = buffer.baseAddress { copyElements(from: 0, count: elementCount, into: base) }
            initialized = elementCount
        }
    }

    /// The tensor viewed as `[rows, columns]` (the trailing dimensions flattened) without copying.
    public func matrix() -> WeightMatrix {
        let rows = shape.first ?? 1
        let columns = rows == 0 ? 0 : elementCount / rows
        let storage: WeightMatrix.Storage
        switch dtype {
        case .f32: storage = .f32(data.assumingMemoryBound(to: Float.self))
        case .f16: storage = .f16(data.assumingMemoryBound(to: UInt16.self))
        case .bf16: storage = .bf16(data.assumingMemoryBound(to: UInt16.self))
        }
        return WeightMatrix(storage: storage, outFeatures: rows, inFeatures: columns)
    }
}

/// A memory-mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the bytes.
///
/// The header is validated when the file opens (offsets inside the file, sizes consistent with
/// shape and dtype); a tensor whose dtype the engine cannot read fails only when it is requested,
/// so checkpoints carrying unused integer buffers still load.
public struct SafetensorsFile: Sendable {
    /// A header entry.
    public struct Entry: Sendable {
        public let dtype: String
        public let shape: [Int]
        public let begin: Int
        public let end: Int
    }

    public let url: URL
    public let mapping: MappedFile
    public let entries: [String: Entry]
    public let metadata: [String: String]
    let dataStart: Int

    /// Largest header accepted; real headers are well below a megabyte per thousand tensors.
    static let maximumHeaderSize = 100 << 20

    public init(url: URL) throws {
        self.url = url
        mapping = try MappedFile(url: url)
        let size = mapping.byteCount
        guard size >= 8, let base = mapping.base else {
            throw CheckpointError.corrupt(url, "it has \(size) bytes, fewer than the 8-byte header length")
        }
        var headerLength: UInt64 = 0
        withUnsafeMutableBytes(of: &headerLength) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base, count: 8)) }
        headerLength = UInt64(littleEndian: headerLength)
        guard headerLength <= UInt64(Self.maximumHeaderSize), Int(headerLength) <= size - 8 else {
            throw CheckpointError.corrupt(
                url, "the header claims \(headerLength) bytes but the file has \(size - 8) bytes after the length field")
        }
        let headerData = Data(bytes: base + 8, count: Int(headerLength))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw CheckpointError.corrupt(url, "the JSON header does not parse (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else {
            throw CheckpointError.corrupt(url, "the JSON header is not an object")
        }
        dataStart = 8 + Int(headerLength)
        let dataSize = size - dataStart
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                for (key, item) in value as? [String: Any] ?? [:] { metadata[key] = item as? String ?? "\(item)" }
                continue
            }
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                let shape = Self.integers(fields["shape"]), let offsets = Self.integers(fields["data_offsets"]),
                offsets.count == 2
            else {
                throw CheckpointError.corruptTensor(url, tensor: name, "header entry lacks dtype, shape or data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw CheckpointError.corruptTensor(
                    url, tensor: name,
                    "data_offsets [\(begin), \(end)] lie outside the \(dataSize) data bytes of the file")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw CheckpointError.corruptTensor(url, tensor: name, "negative dimension in shape \(shape)")
            }
            if let known = TensorDType(rawValue: dtype) {
                let expected = shape.reduce(1, *) * known.byteSize
                guard expected == end - begin else {
                    throw CheckpointError.corruptTensor(
                        url, tensor: name,
                        "shape \(shape) of \(dtype) needs \(expected) bytes but data_offsets span \(end - begin)")
                }
            }
            entries[name] = Entry(dtype: dtype, shape: shape, begin: begin, end: end)
        }
        self.entries = entries
        self.metadata = metadata
    }

    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in array {
            guard let number = item as? NSNumber else { return nil }
            result.append(number.intValue)
        }
        return result
    }

    /// The tensor named `name` as written in this file.
    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = entries[name] else {
            throw CheckpointError(.missingTensor, "\(url.path): no tensor named '\(name)'")
        }
        guard let dtype = TensorDType(rawValue: entry.dtype) else {
            throw CheckpointError(
                .unsupportedDType,
                "\(url.path): tensor '\(name)' has dtype \(entry.dtype); lcb reads F32, F16 and BF16 — convert the checkpoint to one of them")
        }
        guard let base = mapping.base else {
            throw CheckpointError.corruptTensor(url, tensor: name, "file is empty")
        }
        let pointer = base + dataStart + entry.begin
        if Int(bitPattern: pointer) % dtype.byteSize == 0 {
            return Tensor(name: name, file: url, dtype: dtype, shape: entry.shape, data: pointer, owner: mapping)
        }
        // safetensors does not promise aligned offsets; copy the rare misaligned tensor.
        let copy = OwnedBytes(copying: pointer, count: entry.end - entry.begin, alignment: 16)
        return Tensor(name: name, file: url, dtype: dtype, shape: entry.shape, data: UnsafeRawPointer(copy.pointer), owner: copy)
    }
}
