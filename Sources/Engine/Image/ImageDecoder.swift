import Foundation
internal import CImageSupport

/// The image file formats the engine decodes, recognised by their leading bytes.
public enum ImageFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    case png
    case jpeg

    /// The format whose signature `bytes` start with, or nil.
    public static func detect<Bytes: Collection>(_ bytes: Bytes) -> ImageFormat? where Bytes.Element == UInt8 {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    public var description: String { self == .png ? "PNG" : "JPEG" }
}

/// What becomes of transparent pixels when an image with alpha is turned into RGB.
public enum TransparencyHandling: String, Sendable, CaseIterable {
    /// Composite onto opaque white, as `transformers` 5's `convert_to_rgb` does
    /// (Pillow's `alpha_composite` arithmetic, bit for bit).
    case compositeOnWhite
    /// Drop the alpha channel and keep the stored colour, as Pillow's `convert("RGB")` does
    /// (the original LLaVA code and `transformers` 4.x).
    case discardAlpha
}

/// Why an image file could not be decoded.
public struct ImageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Reason: Sendable, Equatable {
        /// The file could not be read at all.
        case unreadable(String)
        /// The file has no bytes.
        case empty
        /// Neither PNG nor JPEG; the associated text names what it looks like.
        case unsupportedFormat(String)
        /// The codec library rejected the data; its message is attached.
        case corrupt(String)
        /// The data ends before the image does.
        case truncated(String)
        /// More pixels than the decoder's limit.
        case tooLarge(String)
    }

    /// The file (or other source) that was being decoded.
    public let source: String
    /// The format detected from the leading bytes, when there was one.
    public let format: ImageFormat?
    /// What went wrong.
    public let reason: Reason

    public var description: String {
        let what = format.map { "\($0) image" } ?? "image"
        switch reason {
        case .unreadable(let why):
            return "\(source): error: cannot read the image file: \(why)"
        case .empty:
            return "\(source): error: the image file is empty; expected a PNG or JPEG file"
        case .unsupportedFormat(let looksLike):
            return "\(source): error: unsupported image format (\(looksLike)); expected PNG or JPEG: "
                + "convert the image to PNG"
        case .corrupt(let message):
            return "\(source): error: corrupt \(what): \(message); re-export or re-download the file"
        case .truncated(let message):
            return "\(source): error: truncated \(what): \(message); the file is incomplete, re-download it"
        case .tooLarge(let message):
            return "\(source): error: \(what) too large: \(message); downscale it first"
        }
    }
}

/// Decodes PNG and JPEG files to 8-bit RGB the way Pillow (and so `transformers`) reads them.
///
/// PNG goes through libpng, JPEG through libjpeg-turbo with libjpeg's default DCT and
/// upsampling, which is what Pillow uses; grayscale is replicated to three channels, CMYK is
/// converted with Pillow's formula, and transparency is handled as `transparency` says. The
/// format is detected from the bytes, never from the file name. EXIF orientation is ignored,
/// as Pillow's `open` ignores it.
public struct ImageDecoder: Sendable {
    /// Pillow's decompression-bomb error threshold: twice its warning limit of 89,478,485 pixels.
    public static let defaultMaximumPixels = 178_956_970

    /// What becomes of transparent pixels.
    public var transparency: TransparencyHandling
    /// Images with more pixels are refused before any pixel memory is allocated.
    public var maximumPixels: Int

    public init(transparency: TransparencyHandling = .compositeOnWhite,
                maximumPixels: Int = ImageDecoder.defaultMaximumPixels) {
        self.transparency = transparency
        self.maximumPixels = maximumPixels
    }

    /// Reads and decodes the image file at `url`.
    public func decode(contentsOf url: URL) throws(ImageDecodingError) -> RGBImage {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImageDecodingError(source: url.path, format: nil,
                                     reason: .unreadable(Self.describe(readError: error)))
        }
        return try decode(data, source: url.path)
    }

    /// Decodes an image held in memory; `source` names it in errors.
    public func decode(_ data: Data, source: String) throws(ImageDecodingError) -> RGBImage {
        guard !data.isEmpty else {
            throw ImageDecodingError(source: source, format: nil, reason: .empty)
        }
        guard let format = ImageFormat.detect(data.prefix(16)) else {
            throw ImageDecodingError(source: source, format: nil,
                                     reason: .unsupportedFormat(Self.describeUnsupported(data.prefix(16))))
        }
        let limit = UInt64(max(0, maximumPixels))
        var image = lcb_image()
        let status: lcb_decode_status = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            switch format {
            case .png: return lcb_png_decode(bytes.baseAddress, bytes.count, limit, &image)
            case .jpeg: return lcb_jpeg_decode(bytes.baseAddress, bytes.count, limit, &image)
            }
        }
        defer { lcb_image_release(&image) }
        let message = Self.message(of: &image)
        switch status {
        case LCB_DECODE_OK:
            break
        case LCB_DECODE_TRUNCATED:
            throw ImageDecodingError(source: source, format: format, reason: .truncated(message))
        case LCB_DECODE_TOO_LARGE:
            throw ImageDecodingError(source: source, format: format, reason: .tooLarge(message))
        default:
            throw ImageDecodingError(source: source, format: format, reason: .corrupt(message))
        }
        guard let samples = image.pixels else {
            throw ImageDecodingError(source: source, format: format, reason: .corrupt("the decoder returned no pixels"))
        }
        let width = Int(image.width), height = Int(image.height)
        let count = width * height
        switch image.layout {
        case LCB_PIXELS_RGB:
            return RGBImage(width: width, height: height,
                            pixels: Array(UnsafeBufferPointer(start: samples, count: count * 3)))
        case LCB_PIXELS_RGBA:
            return Self.rgb(fromRGBA: UnsafeBufferPointer(start: samples, count: count * 4),
                            width: width, height: height, transparency: transparency)
        case LCB_PIXELS_GRAY:
            return Self.rgb(fromGray: UnsafeBufferPointer(start: samples, count: count), width: width, height: height)
        case LCB_PIXELS_CMYK_INVERTED:
            return Self.rgb(fromInvertedCMYK: UnsafeBufferPointer(start: samples, count: count * 4),
                            width: width, height: height)
        default:
            throw ImageDecodingError(source: source, format: format,
                                     reason: .corrupt("the decoder returned an unknown pixel layout"))
        }
    }

    // MARK: - Colour conversions (Pillow's integer arithmetic)

    static func rgb(fromGray gray: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: gray.count * 3)
        for (index, value) in gray.enumerated() {
            pixels[3 * index] = value
            pixels[3 * index + 1] = value
            pixels[3 * index + 2] = value
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    static func rgb(fromRGBA rgba: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                    transparency: TransparencyHandling) -> RGBImage {
        let count = rgba.count / 4
        var pixels = [UInt8](repeating: 0, count: count * 3)
        for index in 0..<count {
            let alpha = Int(rgba[4 * index + 3])
            for channel in 0..<3 {
                let value = rgba[4 * index + channel]
                pixels[3 * index + channel] = transparency == .discardAlpha
                    ? value : compositeOnWhite(value, alpha: alpha)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// One channel of Pillow's `alpha_composite(white, pixel)`.
    ///
    /// With an opaque destination Pillow's blend weights reduce to `alpha` and `255 - alpha` in
    /// 7-bit fixed point, then it divides by 255 with its shift-and-add approximation and rounds.
    /// This reproduces it exactly for all 65,536 (value, alpha) pairs.
    static func compositeOnWhite(_ value: UInt8, alpha: Int) -> UInt8 {
        if alpha == 0 { return 255 }
        let blended = 128 * (Int(value) * alpha + 255 * (255 - alpha)) + 128 * 128
        return UInt8(truncatingIfNeeded: ((((blended >> 8) + blended) >> 8) >> 7))
    }

    /// Pillow's CMYK → RGB after undoing Adobe's inversion: `(255 - k) - round((c)(255 - k) / 255)`.
    static func rgb(fromInvertedCMYK cmyk: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> RGBImage {
        let count = cmyk.count / 4
        var pixels = [UInt8](repeating: 0, count: count * 3)
        for index in 0..<count {
            let inverseKey = Int(cmyk[4 * index + 3])  // stored inverted: this is 255 - k
            for channel in 0..<3 {
                let ink = 255 - Int(cmyk[4 * index + channel])
                let product = ink * inverseKey + 128
                pixels[3 * index + channel] = UInt8(inverseKey - ((product + (product >> 8)) >> 8))
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    // MARK: - Messages

    private static func message(of image: inout lcb_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }

    private static func describe(readError error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError {
            return "no such file"
        }
        return nsError.localizedDescription
    }

    private static func describeUnsupported<Bytes: Collection>(_ bytes: Bytes) -> String
    where Bytes.Element == UInt8 {
        let signatures: [(prefix: [UInt8], name: String)] = [
            (Array("GIF8".utf8), "a GIF image"),
            (Array("BM".utf8), "a BMP image"),
            ([0x49, 0x49, 0x2A, 0x00], "a TIFF image"),
            ([0x4D, 0x4D, 0x00, 0x2A], "a TIFF image"),
            ([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20], "a JPEG 2000 image"),
            (Array("%PDF".utf8), "a PDF document"),
        ]
        for signature in signatures where bytes.starts(with: signature.prefix) {
            return "the file is \(signature.name)"
        }
        let array = Array(bytes)
        if array.count >= 12, array[0..<4].elementsEqual("RIFF".utf8), array[8..<12].elementsEqual("WEBP".utf8) {
            return "the file is a WebP image"
        }
        if array.count >= 12, array[4..<8].elementsEqual("ftyp".utf8) {
            return "the file is an ISO media file (HEIF/AVIF)"
        }
        let hex = array.prefix(8).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
        return "it starts with bytes \(hex)"
    }
}
