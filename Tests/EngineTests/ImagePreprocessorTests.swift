import Foundation
import Testing
import TestSupport
@testable import Engine

@Suite("CLIP image preprocessing")
struct ImagePreprocessorTests {
    static let cases = ImageFixtures.manifest.cases

    private func prepare(_ fixture: ImageFixtures.Case) throws -> (ImagePreprocessor, RGBImage) {
        let preprocessor = try ImagePreprocessor(contentsOf: ImageFixtures.url(fixture.config),
                                                 padToSquare: fixture.pad ? true : nil)
        let image = try ImageDecoder().decode(contentsOf: ImageFixtures.url(fixture.image))
        return (preprocessor, image)
    }

    /// HWC interleaved → CHW planes, the layout of transformers' arrays.
    private func planar(_ image: RGBImage) -> [UInt8] {
        let plane = image.width * image.height
        var result = [UInt8](repeating: 0, count: plane * 3)
        for index in 0..<plane {
            for channel in 0..<3 { result[channel * plane + index] = image.pixels[index * 3 + channel] }
        }
        return result
    }

    @Test("8-bit stage (pad, resize, crop) equals transformers'", arguments: cases)
    func uint8Stage(fixture: ImageFixtures.Case) throws {
        let (preprocessor, image) = try prepare(fixture)
        let prepared = preprocessor.resizedAndCropped(image)
        #expect([3, prepared.height, prepared.width] == fixture.shape)
        let expected: [UInt8]
        if let raw = fixture.uint8 {
            expected = try ImageFixtures.bytes(raw)
        } else {
            let png = try ImageDecoder().decode(contentsOf: ImageFixtures.url(try #require(fixture.uint8_png)))
            expected = planar(png)
        }
        let diff = ImageFixtures.difference(planar(prepared), expected)
        // Issue 3's bar is 2/255 before normalisation; Pillow's arithmetic is reproduced exactly,
        // so anything but zero differences means a real divergence.
        #expect(diff.maximum <= 2, "\(fixture.name): differs by up to \(diff.maximum)/255")
        #expect(diff.count == 0, "\(fixture.name): \(diff.count) of \(expected.count) samples differ")
    }

    @Test("final pixel values equal transformers'", arguments: cases.filter { $0.float32 != nil || $0.float_checks != nil })
    func pixelValues(fixture: ImageFixtures.Case) throws {
        let (preprocessor, image) = try prepare(fixture)
        let values = preprocessor.pixelValues(for: image)
        #expect([values.channels, values.height, values.width] == fixture.shape)
        if let path = fixture.float32 {
            let expected = try ImageFixtures.floats(path)
            #expect(expected.count == values.values.count)
            let worst = zip(values.values, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-6, "\(fixture.name): max abs error \(worst)")
        }
        if let checks = fixture.float_checks, let sum = fixture.float_sum {
            for check in checks {
                let value = values[Int(check[0]), Int(check[1]), Int(check[2])]
                #expect(abs(Double(value) - check[3]) <= 1e-6, "\(fixture.name) at \(check[0...2])")
            }
            let total = values.values.reduce(0.0) { $0 + Double($1) }
            #expect(abs(total - sum) <= 1e-3 * max(1, abs(sum)), "\(fixture.name): sum \(total) vs \(sum)")
        }
    }

    @Test("preprocessor_config.json fields and defaults")
    func parsesConfig() throws {
        let clip = try ImagePreprocessorConfig(contentsOf: ImageFixtures.url("configs/clip32.json"))
        #expect(clip.size == .shortestEdge(32))
        #expect(clip.cropHeight == 32 && clip.cropWidth == 32)
        #expect(clip.resample == .bicubic)
        #expect(clip.processorType == "CLIPImageProcessor")
        #expect(!clip.doPad)

        let legacy = try ImagePreprocessorConfig(contentsOf: ImageFixtures.url("configs/clip48_legacy.json"))
        #expect(legacy.size == .shortestEdge(48))
        #expect(legacy.cropHeight == 48 && legacy.cropWidth == 48)
        #expect(legacy.imageMean == [0.5, 0.5, 0.5])

        let exact = try ImagePreprocessorConfig(contentsOf: ImageFixtures.url("configs/exact_bilinear.json"))
        #expect(exact.size == .exact(height: 24, width: 40))
        #expect(exact.resample == .bilinear)
        #expect(!exact.doCenterCrop)
        // Fields the file leaves out take CLIPImageProcessor's defaults.
        #expect(exact.imageStd == [0.26862954, 0.26130258, 0.27577711])
        #expect(exact.rescaleFactor == 1.0 / 255.0)

        let pad = try ImagePreprocessorConfig(contentsOf: ImageFixtures.url("configs/llava_pad32.json"))
        #expect(pad.doPad)
        #expect(ImagePreprocessor(config: pad).padToSquare)
        #expect(!ImagePreprocessor(config: pad, padToSquare: false).padToSquare)
    }

    @Test("config errors name the file and the field", arguments: [
        (#"{"do_resize": 1}"#, "'do_resize' has the wrong type; expected true or false"),
        (#"{"resample": 0}"#, "unsupported 'resample' 0; expected one of 1 (lanczos), 2 (bilinear), 3 (bicubic), 4 (box), 5 (hamming)"),
        (#"{"size": {"longest_edge": 300}}"#, "'size': 'longest_edge' is not supported"),
        (#"{"crop_size": -3}"#, "'crop_size': -3 is not positive"),
        (#"{"image_mean": [0.5, 0.5]}"#, "'image_mean': expected 3 values (R, G, B), found 2"),
        (#"{"image_std": [0.5, 0, 0.5]}"#, "'image_std' must be positive"),
        (#"[1, 2]"#, "the top level has the wrong type"),
        (#"{"size": "#, "not valid JSON"),
    ])
    func configErrors(json: String, message: String) throws {
        let error = try #require(throws: ImagePreprocessorConfigError.self) {
            try ImagePreprocessorConfig(json: Data(json.utf8), file: "ckpt/preprocessor_config.json")
        }
        #expect(error.file == "ckpt/preprocessor_config.json")
        #expect(error.description.hasPrefix("ckpt/preprocessor_config.json: error: "))
        #expect(error.message.contains(message), "got: \(error.message)")
    }

    @Test("content description changes exactly when the output can")
    func contentDescription() throws {
        let base = ImagePreprocessor(config: .llava336, padToSquare: false)
        #expect(base.contentDescription == "image-preprocessor/v1 pad=false resize=shortest:336,bicubic crop=336x336 "
                + "rescale=0.00392156862745098 normalize=0.48145466,0.4578275,0.40821073;0.26862954,0.26130258,0.27577711")
        var padded = base
        padded.padToSquare = true
        #expect(padded.contentDescription != base.contentDescription)
        var otherStd = base
        otherStd.config.imageStd[2] = 0.28
        #expect(otherStd.contentDescription != base.contentDescription)
        var renamed = base
        renamed.config.processorType = "SomethingElse"  // does not change pixels, so not the key
        #expect(renamed.contentDescription == base.contentDescription)
    }

    @Test("a checkpoint folder without preprocessor_config.json is a clear error")
    func missingCheckpointConfig() throws {
        let folder = ImageFixtures.url("sources")
        let error = try #require(throws: ImagePreprocessorConfigError.self) {
            try ImagePreprocessor(checkpointFolder: folder)
        }
        #expect(error.file.hasSuffix("sources/preprocessor_config.json"))
        #expect(error.message.hasPrefix("missing; "))
    }

    @Test("pad colour is int(mean * 255) and the image is centred")
    func padToSquare() {
        let preprocessor = ImagePreprocessor(config: .llava336, padToSquare: true)
        #expect(preprocessor.padColor == (122, 116, 104))
        let wide = RGBImage(width: 5, height: 2, fill: (1, 2, 3))
        let padded = ImagePreprocessor.padToSquare(wide, color: preprocessor.padColor)
        #expect(padded.width == 5 && padded.height == 5)
        // (5 - 2) / 2 = 1 row of padding above, 2 below, as expand2square pastes it.
        #expect(padded[0, 0] == (122, 116, 104))
        #expect(padded[4, 1] == (1, 2, 3))
        #expect(padded[4, 2] == (1, 2, 3))
        #expect(padded[2, 3] == (122, 116, 104))
        #expect(preprocessor.outputSize(width: 640, height: 480) == (336, 336))
    }

    @Test("centre crop uses floor division and pads with zeros")
    func centerCrop() {
        var pixels = [UInt8]()
        for index in 0..<(4 * 3) { pixels += [UInt8(index), 0, 0] }
        let image = RGBImage(width: 4, height: 3, pixels: pixels)
        let cropped = ImagePreprocessor.centerCrop(image, height: 2, width: 3)
        // top = (3 - 2) // 2 = 0, left = (4 - 3) // 2 = 0
        #expect(cropped.pixels.enumerated().filter { $0.offset % 3 == 0 }.map(\.element) == [0, 1, 2, 4, 5, 6])
        let padded = ImagePreprocessor.centerCrop(image, height: 3, width: 7)
        // left = (4 - 7) // 2 = -2: two zero columns, the image, one zero column.
        #expect(padded.pixels.enumerated().filter { $0.offset % 3 == 0 }.map(\.element).prefix(7)
                == [0, 0, 0, 1, 2, 3, 0])
    }
}

@Suite("Pillow-exact resampling")
struct PillowResamplerTests {
    @Test("pass order follows Pillow 13: vertical first when more than twice as many rows as columns go")
    func passOrder() {
        #expect(PillowResampler.verticalFirst(from: (45, 35), to: (40, 24)))    // 11 rows > 2 × 5 columns
        #expect(!PillowResampler.verticalFirst(from: (45, 35), to: (40, 25)))   // 10 rows = 2 × 5: horizontal
        #expect(PillowResampler.verticalFirst(from: (30, 50), to: (40, 20)))    // columns gained count as 0
        #expect(!PillowResampler.verticalFirst(from: (23, 37), to: (32, 51)))   // upscaling both ways
        #expect(!PillowResampler.verticalFirst(from: (640, 480), to: (448, 336)))
    }

    @Test("a flat image stays flat with every filter", arguments: ResamplingFilter.allCases)
    func flatStaysFlat(filter: ResamplingFilter) {
        let flat = RGBImage(width: 37, height: 23, fill: (200, 13, 255))
        for (width, height) in [(11, 7), (80, 50), (37, 5), (3, 23)] {
            let resized = PillowResampler.resize(flat, width: width, height: height, filter: filter)
            #expect(resized.width == width && resized.height == height)
            #expect(resized == RGBImage(width: width, height: height, fill: (200, 13, 255)), "\(filter) \(width)x\(height)")
        }
    }

    @Test("fixed-point weights sum to one and widen when downscaling")
    func taps() {
        for (input, output) in [(200, 32), (23, 48), (336, 336), (7, 3)] {
            let taps = PillowResampler.taps(inputSize: input, outputSize: output, filter: .bicubic)
            #expect(taps.count == output)
            for tap in taps {
                let sum = tap.weights.reduce(0) { $0 + Int($1) }
                #expect(abs(sum - (1 << PillowResampler.precisionBits)) <= tap.weights.count)
                #expect(tap.first >= 0 && tap.first + tap.weights.count <= input)
            }
        }
        // Downscaling 200 → 32 stretches bicubic's ±2 support by 6.25 to ±12.5: 25 source pixels.
        let wide = PillowResampler.taps(inputSize: 200, outputSize: 32, filter: .bicubic)
        #expect(wide.map(\.weights.count).max() == 25)
        // Same size: bicubic is the identity.
        let identity = PillowResampler.taps(inputSize: 10, outputSize: 10, filter: .bicubic)
        #expect(identity[4].weights.contains(1 << PillowResampler.precisionBits))
    }
}
