import Foundation
internal import CImageCodecs

/// A failure of libpng while writing or reading a synthetic image.
public struct PNGCodecError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { "PNG encoding failed: \(message)" }
}

/// PNG encoding (and decoding, for checks) of 8-bit RGB rasters through libpng's simplified API.
///
/// The simplified API catches libpng's longjmp errors itself and reports them as a return
/// value, so Swift can call it directly.
public enum PNGCodec {
    /// The raster as PNG bytes (8-bit RGB, no interlacing; deterministic for equal input).
    public static func encode(_ raster: RGBRaster) throws(PNGCodecError) -> Data {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(raster.width)
        image.height = png_uint_32(raster.height)
        image.format = png_uint_32(PNG_FORMAT_RGB)
        let stride = png_int_32(raster.width * 3)
        var size: png_alloc_size_t = 0
        // First call measures, second writes.
        let measured = raster.pixels.withUnsafeBytes { pixels in
            png_image_write_to_memory(&image, nil, &size, 0, pixels.baseAddress, stride, nil)
        }
        guard measured != 0, size > 0 else { throw PNGCodecError(message: message(of: &image)) }
        var output = Data(count: Int(size))
        let written = output.withUnsafeMutableBytes { buffer in
            raster.pixels.withUnsafeBytes { pixels in
                png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, pixels.baseAddress, stride, nil)
            }
        }
        png_image_free(&image)
        guard written != 0 else { throw PNGCodecError(message: message(of: &image)) }
        return output.prefix(Int(size))
    }

    /// Decodes a PNG to 8-bit RGB with libpng (used to check what `encode` wrote).
    public static func decode(_ data: Data) throws(PNGCodecError) -> RGBRaster {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        // libpng keeps reading from the buffer until finish_read, so both calls share one borrow.
        let decoded: RGBRaster? = data.withUnsafeBytes { bytes in
            guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else { return nil }
            image.format = png_uint_32(PNG_FORMAT_RGB)
            let width = Int(image.width), height = Int(image.height)
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            let finished = pixels.withUnsafeMutableBytes { buffer in
                png_image_finish_read(&image, nil, buffer.baseAddress, png_int_32(width * 3), nil)
            }
            return finished != 0 ? RGBRaster(width: width, height: height, pixels: pixels) : nil
        }
        guard let decoded else { throw PNGCodecError(message: message(of: &image)) }
        return decoded
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }
}
