import CZlib
import Foundation

/// gzip (RFC 1952) through the system zlib: the committed form of `samples.jsonl`.
///
/// Compression is deterministic: the header carries no file name, a zero modification time and
/// operating system 255 ("unknown"), so the same input gives the same bytes on every platform
/// with the same zlib (whose deflate output has been stable across releases for years).
public enum Gzip {
    /// Why bytes could not be decompressed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Not gzip or zlib data, or damaged (zlib's message).
        case corrupt(String)
        /// The stream stops before its end (a truncated file).
        case truncated
        /// zlib itself failed (out of memory, version mismatch): its return code.
        case zlib(Int32)

        public var description: String {
            switch self {
            case .corrupt(let message): return "not valid gzip data (\(message))"
            case .truncated: return "the gzip data ends before its end-of-stream marker (truncated file?)"
            case .zlib(let code): return "zlib failed with code \(code)"
            }
        }
    }

    /// True when `data` starts with the gzip magic bytes 1f 8b.
    public static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// `data` as one gzip member at `level` (0 … 9; 9 by default: files are written once and read often).
    public static func compress(_ data: Data, level: Int32 = 9) throws -> Data {
        var stream = z_stream()
        guard lcb_deflate_init_gzip(&stream, level) == Z_OK else { throw Failure.zlib(Z_STREAM_ERROR) }
        defer { deflateEnd(&stream) }
        // zlib keeps a pointer to the header until it has written it: allocate it outside Swift's
        // automatic storage so it outlives every deflate call below.
        let header = UnsafeMutablePointer<gz_header>.allocate(capacity: 1)
        defer { header.deallocate() }
        header.initialize(to: gz_header())
        header.pointee.os = 255
        guard deflateSetHeader(&stream, header) == Z_OK else { throw Failure.zlib(Z_STREAM_ERROR) }

        var output = Data()
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            var offset = 0
            var status = Z_OK
            repeat {
                // avail_in is 32-bit: feed at most 1 GiB at a time.
                if stream.avail_in == 0, offset < input.count, let base = input.baseAddress {
                    let count = min(input.count - offset, 1 << 30)
                    stream.next_in = UnsafeMutablePointer(mutating: base.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
                    stream.avail_in = uInt(count)
                    offset += count
                }
                let flush = offset == input.count ? Z_FINISH : Z_NO_FLUSH
                let produced = buffer.withUnsafeMutableBufferPointer { out -> Int in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = deflate(&stream, flush)
                    return chunk - Int(stream.avail_out)
                }
                output.append(contentsOf: buffer[0..<produced])
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw Failure.zlib(status) }
            } while status != Z_STREAM_END
        }
        return output
    }

    /// The decompressed bytes of gzip (or zlib) data; concatenated gzip members are joined, as
    /// `gzip -d` does.
    public static func decompress(_ data: Data) throws -> Data {
        guard !data.isEmpty else { throw Failure.truncated }
        var output = Data()
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < input.count {
                var stream = z_stream()
                guard lcb_inflate_init_auto(&stream) == Z_OK else { throw Failure.zlib(Z_STREAM_ERROR) }
                defer { inflateEnd(&stream) }
                var status = Z_OK
                repeat {
                    if stream.avail_in == 0 {
                        guard offset < input.count, let base = input.baseAddress else { throw Failure.truncated }
                        let count = min(input.count - offset, 1 << 30)
                        stream.next_in = UnsafeMutablePointer(mutating: base.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
                        stream.avail_in = uInt(count)
                        offset += count
                    }
                    let produced = buffer.withUnsafeMutableBufferPointer { out -> Int in
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(chunk)
                        status = inflate(&stream, Z_NO_FLUSH)
                        return chunk - Int(stream.avail_out)
                    }
                    output.append(contentsOf: buffer[0..<produced])
                    switch status {
                    case Z_OK, Z_STREAM_END: break
                    case Z_BUF_ERROR: if stream.avail_in > 0 { throw Failure.zlib(status) }
                    case Z_DATA_ERROR, Z_NEED_DICT:
                        throw Failure.corrupt(stream.msg.map { String(cString: $0) } ?? "data error")
                    default: throw Failure.zlib(status)
                    }
                } while status != Z_STREAM_END
                // Input the member did not use belongs to the next member (or is trailing garbage).
                offset -= Int(stream.avail_in)
                if offset < input.count {
                    let rest = Data(input[offset...])
                    // Trailing zero padding (tape blocks) is ignored, as gzip does; other bytes must be a member.
                    if rest.allSatisfy({ $0 == 0 }) { break }
                    guard isGzip(rest) else { throw Failure.corrupt("\(rest.count) bytes after the end of the gzip stream") }
                }
            }
        }
        return output
    }
}
