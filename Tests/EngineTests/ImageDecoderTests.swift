import Foundation
import Testing
import TestSupport
@testable import Engine

/// The committed image fixtures (Tools/fixtures/images.py) and their manifest.
enum ImageFixtures {
    struct Manifest: Decodable {
        var pillow: String
        var libjpeg_turbo: String
        var images: [String: Image]
        var cases: [Case]
    }

    struct Image: Decodable {
        var description: String
        var pil_mode: String
        var width: Int
        var height: Int
        var format: String
        var transparency: Bool
        var decoded: String?
        var decoded_discard_alpha: String?
        var decoded_fnv1a64: String?
    }

    struct Case: Decodable, CustomTestStringConvertible {
        var name: String
        var config: String
        var image: String
        var pad: Bool
        var shape: [Int]
        var uint8: String?
        var float32: String?
        var uint8_png: String?
        var float_sum: Double?
        var float_checks: [[Double]]?

        var testDescription: String { name }
    }

    static let manifest: Manifest = {
        do {
            return try Fixtures.decodeJSON(Manifest.self, "images/manifest.json")
        } catch {
            preconditionFailure("Tests/Fixtures/images/manifest.json is unreadable (\(error)); run Tools/fixtures/images.py")
        }
    }()

    static var imageNames: [String] { manifest.images.keys.sorted() }
    static var transparentImageNames: [String] { imageNames.filter { manifest.images[$0]!.transparency } }

    static func url(_ relative: String) -> URL { Fixtures.url("images/" + relative) }

    static func bytes(_ relative: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(relative))) }

    static func floats(_ relative: String) throws -> [Float] {
        Fixtures.littleEndianFloats(try Data(contentsOf: url(relative)))
    }

    /// FNV-1a 64-bit, as the fixture script computes it.
    static func fnv1a64(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Number of differing samples and the largest absolute difference.
    static func difference(_ a: [UInt8], _ b: [UInt8]) -> (count: Int, maximum: Int) {
        var count = 0, maximum = 0
        for (x, y) in zip(a, b) where x != y {
            count += 1
            maximum = max(maximum, abs(Int(x) - Int(y)))
        }
        return (count, maximum)
    }
}

@Suite("Image decoding")
struct ImageDecoderTests {
    let decoder = ImageDecoder()

    @Test("decoded pixels equal Pillow's", arguments: ImageFixtures.imageNames)
    func matchesPillow(name: String) throws {
        let expected = try #require(ImageFixtures.manifest.images[name])
        let image = try decoder.decode(contentsOf: ImageFixtures.url("sources/" + name))
        #expect(image.width == expected.width)
        #expect(image.height == expected.height)
        if let hash = expected.decoded_fnv1a64 {
            #expect(ImageFixtures.fnv1a64(image.pixels) == hash, "\(name): decoded pixels differ from Pillow's")
        }
        if let raw = expected.decoded {
            let reference = try ImageFixtures.bytes(raw)
            #expect(reference.count == image.pixels.count)
            let diff = ImageFixtures.difference(image.pixels, reference)
            #expect(diff.count == 0, "\(name) (\(expected.description)): \(diff.count) samples differ, by up to \(diff.maximum)")
        }
    }

    @Test("discarding alpha equals Pillow's convert(\"RGB\")", arguments: ImageFixtures.transparentImageNames)
    func discardAlphaMatchesPillow(name: String) throws {
        let expected = try #require(ImageFixtures.manifest.images[name]?.decoded_discard_alpha)
        let image = try ImageDecoder(transparency: .discardAlpha).decode(contentsOf: ImageFixtures.url("sources/" + name))
        let diff = ImageFixtures.difference(image.pixels, try ImageFixtures.bytes(expected))
        #expect(diff.count == 0, "\(name): \(diff.count) samples differ, by up to \(diff.maximum)")
        // Where Pillow's two readings differ, ours must too (otherwise the test above proves nothing).
        let composited = try decoder.decode(contentsOf: ImageFixtures.url("sources/" + name))
        let pillowComposited = try ImageFixtures.bytes(try #require(ImageFixtures.manifest.images[name]?.decoded))
        #expect((composited.pixels != image.pixels) == (pillowComposited != (try ImageFixtures.bytes(expected))))
    }

    @Test("the format comes from the bytes, not the file name")
    func detectsFormatByContent() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-image-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let png = try Data(contentsOf: ImageFixtures.url("sources/rgb8_37x23.png"))
        let misnamed = directory.appendingPathComponent("photo.jpg")
        try png.write(to: misnamed)
        let image = try decoder.decode(contentsOf: misnamed)
        #expect(image.pixels == (try ImageFixtures.bytes("decoded/rgb8_37x23.rgb")))
        #expect(ImageFormat.detect(png) == .png)
        #expect(ImageFormat.detect(try Data(contentsOf: ImageFixtures.url("sources/gray_40x30.jpg"))) == .jpeg)
        #expect(ImageFormat.detect([UInt8]("GIF89a".utf8)) == nil)
    }

    @Test("truncated files are reported as truncated, naming the file",
          arguments: ["rgb8_37x23.png", "rgb8_interlaced_45x35.png", "photo420_200x150.jpg", "progressive420_97x61.jpg"])
    func truncated(name: String) throws {
        let data = try Data(contentsOf: ImageFixtures.url("sources/" + name))
        for keep in [data.count / 2, data.count - 20, 40] {
            let error = #expect(throws: ImageDecodingError.self) {
                try decoder.decode(data.prefix(keep), source: "cut-\(name)")
            }
            guard let error else { continue }
            if case .truncated = error.reason {} else {
                Issue.record("\(name) cut to \(keep) bytes: expected .truncated, got \(error.reason)")
            }
            #expect(error.description.hasPrefix("cut-\(name): error: truncated"))
        }
    }

    @Test("corrupt data is reported with the library's reason")
    func corrupt() throws {
        let png = [UInt8](try Data(contentsOf: ImageFixtures.url("sources/rgb8_37x23.png")))
        let idat = try #require(findChunk("IDAT", in: png))

        // Damaged compressed data inside IDAT: zlib, through libpng, names the problem.
        var damaged = png
        for index in (idat + 10)..<(idat + 30) { damaged[index] ^= 0x5A }
        let inflateError = try #require(throws: ImageDecodingError.self) { try decoder.decode(Data(damaged), source: "bad.png") }
        #expect(inflateError.format == .png)
        guard case .corrupt(let inflateMessage) = inflateError.reason else {
            Issue.record("expected .corrupt, got \(inflateError.reason)")
            return
        }
        #expect(inflateMessage.hasPrefix("IDAT: "))
        #expect(inflateError.description.hasPrefix("bad.png: error: corrupt PNG image: IDAT: "))

        // A damaged header chunk fails libpng's CRC check.
        var header = png
        header[16 + 4] ^= 0x01  // IHDR height, CRC left unchanged
        let crcError = try #require(throws: ImageDecodingError.self) { try decoder.decode(Data(header), source: "crc.png") }
        #expect(crcError.reason == .corrupt("IHDR: CRC error"))

        // A JPEG whose frame header declares an unsupported sample precision.
        var jpeg = [UInt8](try Data(contentsOf: ImageFixtures.url("sources/baseline420_37x23.jpg")))
        let frame = try #require(jpeg.indices.dropLast().first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[frame + 4] = 3
        let jpegError = try #require(throws: ImageDecodingError.self) { try decoder.decode(Data(jpeg), source: "bad.jpg") }
        #expect(jpegError.format == .jpeg)
        #expect(jpegError.reason == .corrupt("Unsupported JPEG data precision 3"))

        // A JPEG signature followed by nonsense is rejected, not decoded as grey.
        let nonsense = Data([0xFF, 0xD8, 0xFF, 0x01] + [UInt8](repeating: 0x42, count: 200))
        #expect(throws: ImageDecodingError.self) { try decoder.decode(nonsense, source: "nonsense.jpg") }
    }

    @Test("damaged files never crash the decoder", arguments: [
        "rgb8_interlaced_45x35.png", "palette4_trns_33x19.png", "gray16_33x21.png",
        "progressive420_97x61.jpg", "cmyk_30x20.jpg", "baseline422_45x35.jpg",
    ])
    func fuzz(name: String) throws {
        let original = [UInt8](try Data(contentsOf: ImageFixtures.url("sources/" + name)))
        // A fixed linear congruential sequence: the same damage on every run. (Run once with
        // 3,000 rounds per file as well, without a crash.)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var decoded = 0, refused = 0
        for _ in 0..<150 {
            var bytes = original
            for _ in 0..<(1 + next(4)) {
                // Keep the signature so the damage reaches the codec, not the format check.
                let index = 8 + next(bytes.count - 8)
                bytes[index] = UInt8(truncatingIfNeeded: next(256))
            }
            if next(3) == 0 { bytes.removeLast(next(bytes.count / 2)) }
            do {
                let image = try decoder.decode(Data(bytes), source: "fuzz")
                #expect(image.pixels.count == image.width * image.height * 3)
                decoded += 1
            } catch {
                #expect(error.source == "fuzz")
                refused += 1
            }
        }
        #expect(decoded + refused == 150)
        #expect(refused > 0)
    }

    @Test("unsupported formats, empty and missing files")
    func unsupportedAndMissing() throws {
        let gif = Data("GIF89a".utf8 + [UInt8](repeating: 0, count: 20))
        let gifError = try #require(throws: ImageDecodingError.self) { try decoder.decode(gif, source: "anim.gif") }
        #expect(gifError.reason == .unsupportedFormat("the file is a GIF image"))
        #expect(gifError.description.contains("anim.gif"))
        #expect(gifError.description.contains("expected PNG or JPEG"))

        let text = Data("hello world, not an image".utf8)
        let textError = try #require(throws: ImageDecodingError.self) { try decoder.decode(text, source: "notes.png") }
        #expect(textError.reason == .unsupportedFormat("it starts with bytes 68 65 6c 6c 6f 20 77 6f"))

        let emptyError = try #require(throws: ImageDecodingError.self) { try decoder.decode(Data(), source: "empty.png") }
        #expect(emptyError.reason == .empty)

        let missing = ImageFixtures.url("sources/does-not-exist.png")
        let missingError = try #require(throws: ImageDecodingError.self) { try decoder.decode(contentsOf: missing) }
        guard case .unreadable = missingError.reason else {
            Issue.record("expected .unreadable, got \(missingError.reason)")
            return
        }
        #expect(missingError.description.hasPrefix(missing.path + ": error: cannot read"))
    }

    @Test("images over the pixel limit are refused before decoding", arguments: ["photo420_200x150.jpg", "rgba8_61x97.png"])
    func tooLarge(name: String) throws {
        let small = ImageDecoder(maximumPixels: 1000)
        let error = try #require(throws: ImageDecodingError.self) {
            try small.decode(contentsOf: ImageFixtures.url("sources/" + name))
        }
        guard case .tooLarge(let message) = error.reason else {
            Issue.record("expected .tooLarge, got \(error.reason)")
            return
        }
        #expect(message.contains("more than the limit of 1000"))
    }

    @Test("Pillow's alpha compositing onto white at the extremes")
    func compositeOnWhite() {
        #expect(ImageDecoder.compositeOnWhite(0, alpha: 0) == 255)
        #expect(ImageDecoder.compositeOnWhite(17, alpha: 255) == 17)
        #expect(ImageDecoder.compositeOnWhite(0, alpha: 128) == 127)
        #expect(ImageDecoder.compositeOnWhite(200, alpha: 1) == 255)
    }

    private func findChunk(_ type: String, in bytes: [UInt8]) -> Int? {
        let tag = [UInt8](type.utf8)
        var offset = 8
        while offset + 8 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            if Array(bytes[offset + 4..<offset + 8]) == tag { return offset + 8 }
            offset += 12 + length
        }
        return nil
    }
}
