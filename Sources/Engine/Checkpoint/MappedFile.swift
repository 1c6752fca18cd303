import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory; the mapping lives as long as this object.
///
/// Tensors point straight into the mapping, so every value that hands out such pointers keeps a
/// reference to its `MappedFile`. The mapping is never written, which makes sharing it across
/// threads safe.
public final class MappedFile: @unchecked Sendable {
    public let url: URL
    public let byteCount: Int
    /// Start of the mapping (nil only for an empty file).
    public let base: UnsafeRawPointer?

    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { throw CheckpointError.missingFile(url, what: "a safetensors file") }
            throw CheckpointError(.missingFile, "\(url.path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw CheckpointError(.missingFile, "\(url.path): cannot stat (\(String(cString: strerror(errno))))")
        }
        byteCount = Int(info.st_size)
        if byteCount == 0 {
            base = nil
            return
        }
        guard let pointer = mmap(nil, byteCount, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
            throw CheckpointError(.corruptFile, "\(url.path): cannot memory-map (\(String(cString: strerror(errno))))")
        }
        base = UnsafeRawPointer(pointer)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), byteCount) }
    }
}

/// Heap storage for tensor data that had to be copied (misaligned in its file).
final class OwnedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init(copying source: UnsafeRawPointer, count: Int, alignment: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: alignment)
        pointer.copyMemory(from: source, byteCount: count)
    }

    deinit { pointer.deallocate() }
}
