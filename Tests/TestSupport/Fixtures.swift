import Foundation

/// Locations of committed test fixtures, independent of the working directory the tests run in.
public enum Fixtures {
    /// The package root, found from this source file's location.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures/<path>`.
    public static func url(_ path: String) -> URL {
        packageRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(path)
    }

    /// The JSON file `Tests/Fixtures/<path>` decoded as `type`.
    public static func decodeJSON<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: url(path)))
    }

    /// Little-endian Float32 values, as the fixture scripts write them (`numpy` `<f4` bytes).
    public static func littleEndianFloats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }
}
