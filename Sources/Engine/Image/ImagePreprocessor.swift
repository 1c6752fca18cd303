import Foundation

/// The fields of a checkpoint's `preprocessor_config.json` that decide pixel values.
///
/// Field names and defaults are those of `transformers`' `CLIPImageProcessor` (and
/// `LlavaImageProcessor`, which adds `do_pad`); a missing field takes the class default.
public struct ImagePreprocessorConfig: Sendable, Equatable {
    /// How `do_resize` sizes the image.
    public enum ResizeTarget: Sendable, Equatable {
        /// Scale so the shorter edge has this length, keeping the aspect ratio (long edge truncated).
        case shortestEdge(Int)
        /// Scale to exactly this size.
        case exact(height: Int, width: Int)
    }

    public var doResize = true
    public var size = ResizeTarget.shortestEdge(224)
    public var resample = ResamplingFilter.bicubic
    public var doCenterCrop = true
    public var cropHeight = 224
    public var cropWidth = 224
    public var doRescale = true
    public var rescaleFactor = 1.0 / 255.0
    public var doNormalize = true
    /// Per-channel mean (R, G, B); OpenAI CLIP's by default.
    public var imageMean = [0.48145466, 0.4578275, 0.40821073]
    /// Per-channel standard deviation (R, G, B); OpenAI CLIP's by default.
    public var imageStd = [0.26862954, 0.26130258, 0.27577711]
    public var doConvertRGB = true
    /// `LlavaImageProcessor`'s `do_pad`: pad to a square with the mean colour before resizing.
    public var doPad = false
    /// `image_processor_type` as written in the file, if any.
    public var processorType: String?

    /// CLIPImageProcessor's defaults.
    public init() {}

    /// LLaVA-1.5's and LLaVA-Gemma's CLIP ViT-L/14-336 settings.
    public static let llava336: ImagePreprocessorConfig = {
        var config = ImagePreprocessorConfig()
        config.size = .shortestEdge(336)
        config.cropHeight = 336
        config.cropWidth = 336
        return config
    }()
}

/// A problem in a `preprocessor_config.json` file.
public struct ImagePreprocessorConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file that was read.
    public let file: String
    /// What is wrong and what to do.
    public let message: String

    public var description: String { "\(file): error: \(message)" }
}

extension ImagePreprocessorConfig {
    /// Reads `preprocessor_config.json` (or a file of the same shape) at `url`.
    public init(contentsOf url: URL) throws(ImagePreprocessorConfigError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImagePreprocessorConfigError(file: url.path,
                                               message: "cannot read the preprocessor config (\(error.localizedDescription))")
        }
        try self.init(json: data, file: url.path)
    }

    /// Parses the JSON text of a preprocessor config; `file` names it in errors.
    public init(json: Data, file: String) throws(ImagePreprocessorConfigError) {
        do {
            self = try JSONDecoder().decode(ImagePreprocessorConfig.self, from: json)
        } catch let error as ImagePreprocessorConfigError {
            throw ImagePreprocessorConfigError(file: file, message: error.message)
        } catch let error as DecodingError {
            throw ImagePreprocessorConfigError(file: file, message: Self.describe(error))
        } catch {
            throw ImagePreprocessorConfigError(file: file, message: "cannot parse (\(error))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func name(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "the top level" : "'" + path.map { $0.intValue.map(String.init) ?? $0.stringValue }
                .joined(separator: ".") + "'"
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(name(context.codingPath)) has the wrong type; expected \(describe(type))"
        case .valueNotFound(let type, let context):
            return "\(name(context.codingPath)) is missing; expected \(describe(type))"
        case .keyNotFound(let key, let context):
            return "\(name(context.codingPath + [key])) is missing"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "\(name(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "cannot parse (\(error))"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: "true or false"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is String.Type: "a string"
        default: "\(type)"
        }
    }
}

extension ImagePreprocessorConfig: Decodable {
    enum CodingKeys: String, CodingKey {
        case processorType = "image_processor_type"
        case doResize = "do_resize"
        case size
        case resample
        case doCenterCrop = "do_center_crop"
        case cropSize = "crop_size"
        case doRescale = "do_rescale"
        case rescaleFactor = "rescale_factor"
        case doNormalize = "do_normalize"
        case imageMean = "image_mean"
        case imageStd = "image_std"
        case doConvertRGB = "do_convert_rgb"
        case doPad = "do_pad"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        processorType = try container.decodeIfPresent(String.self, forKey: .processorType)
        doResize = try container.decodeIfPresent(Bool.self, forKey: .doResize) ?? doResize
        doCenterCrop = try container.decodeIfPresent(Bool.self, forKey: .doCenterCrop) ?? doCenterCrop
        doRescale = try container.decodeIfPresent(Bool.self, forKey: .doRescale) ?? doRescale
        doNormalize = try container.decodeIfPresent(Bool.self, forKey: .doNormalize) ?? doNormalize
        doConvertRGB = try container.decodeIfPresent(Bool.self, forKey: .doConvertRGB) ?? doConvertRGB
        doPad = try container.decodeIfPresent(Bool.self, forKey: .doPad) ?? doPad
        rescaleFactor = try container.decodeIfPresent(Double.self, forKey: .rescaleFactor) ?? rescaleFactor
        if let mean = try container.decodeIfPresent(ChannelValues.self, forKey: .imageMean) {
            imageMean = mean.values
        }
        if let std = try container.decodeIfPresent(ChannelValues.self, forKey: .imageStd) {
            guard std.values.allSatisfy({ $0 > 0 }) else {
                throw ImagePreprocessorConfigError(file: "", message: "'image_std' must be positive; found \(std.values)")
            }
            imageStd = std.values
        }
        if let code = try container.decodeIfPresent(Int.self, forKey: .resample) {
            guard let filter = ResamplingFilter(rawValue: code) else {
                let known = ResamplingFilter.allCases.map { "\($0.rawValue) (\($0))" }.joined(separator: ", ")
                throw ImagePreprocessorConfigError(
                    file: "", message: "unsupported 'resample' \(code); expected one of \(known)")
            }
            resample = filter
        }
        if let field = try container.decodeIfPresent(SizeField.self, forKey: .size) {
            switch field {
            // CLIPImageProcessor reads a bare integer `size` as the shortest edge.
            case .single(let side), .shortestEdge(let side): size = .shortestEdge(side)
            case .box(let height, let width): size = .exact(height: height, width: width)
            }
        }
        if let field = try container.decodeIfPresent(SizeField.self, forKey: .cropSize) {
            switch field {
            case .single(let side), .shortestEdge(let side):
                cropHeight = side
                cropWidth = side
            case .box(let height, let width):
                cropHeight = height
                cropWidth = width
            }
        }
    }
}

/// `image_mean` / `image_std`: three numbers, or one for every channel.
private struct ChannelValues: Decodable {
    var values: [Double]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(Double.self) {
            values = [single, single, single]
            return
        }
        let list = try container.decode([Double].self)
        guard list.count == 3 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected 3 values (R, G, B), found \(list.count)"))
        }
        values = list
    }
}

/// `size` / `crop_size`: an integer, `{"shortest_edge": N}` or `{"height": H, "width": W}`.
private enum SizeField: Decodable {
    case single(Int)
    case shortestEdge(Int)
    case box(height: Int, width: Int)

    private struct Keys: Decodable {
        var shortest_edge: Int?
        var longest_edge: Int?
        var height: Int?
        var width: Int?
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let expected = "expected a positive integer, {\"shortest_edge\": N} or {\"height\": H, \"width\": W}"
        func invalid(_ why: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: why + "; " + expected))
        }
        if let side = try? container.decode(Int.self) {
            guard side > 0 else { throw invalid("\(side) is not positive") }
            self = .single(side)
            return
        }
        guard let keys = try? container.decode(Keys.self) else { throw invalid("unrecognised value") }
        if let height = keys.height, let width = keys.width {
            guard height > 0, width > 0 else { throw invalid("sizes must be positive") }
            self = .box(height: height, width: width)
        } else if keys.longest_edge != nil {
            throw invalid("'longest_edge' is not supported")
        } else if let side = keys.shortest_edge {
            guard side > 0 else { throw invalid("\(side) is not positive") }
            self = .shortestEdge(side)
        } else {
            throw invalid("no size keys")
        }
    }
}

/// CHW float pixel values, the input of a CLIP vision tower.
public struct PixelValues: Sendable, Equatable {
    /// Always 3 (R, G, B).
    public let channels: Int
    public let height: Int
    public let width: Int
    /// `channels * height * width` values, channel-major.
    public var values: [Float]

    /// The value at `channel`, row `y`, column `x`.
    public subscript(channel: Int, y: Int, x: Int) -> Float {
        values[(channel * height + y) * width + x]
    }
}

/// Turns decoded images into a vision tower's pixel values as `transformers` does.
///
/// The steps are those of `LlavaImageProcessor` / `CLIPImageProcessor` with the Pillow backend:
/// optional pad to square with the mean colour (LLaVA's `expand2square`), Pillow-exact resize,
/// centre crop (zero-padded when the image is smaller than the crop), rescale, normalise.
/// The 8-bit steps are exact; rescale and normalise use the same float64/float32 rounding as
/// `transformers`' NumPy code.
public struct ImagePreprocessor: Sendable {
    public var config: ImagePreprocessorConfig
    /// Pad to a square with the mean colour before resizing (LLaVA's `image_aspect_ratio: pad`).
    public var padToSquare: Bool

    /// A preprocessor for `config`; `padToSquare` defaults to the config's `do_pad`.
    public init(config: ImagePreprocessorConfig, padToSquare: Bool? = nil) {
        self.config = config
        self.padToSquare = padToSquare ?? config.doPad
    }

    /// A preprocessor for the `preprocessor_config.json` at `url`.
    public init(contentsOf url: URL, padToSquare: Bool? = nil) throws(ImagePreprocessorConfigError) {
        self.init(config: try ImagePreprocessorConfig(contentsOf: url), padToSquare: padToSquare)
    }

    /// A preprocessor for the `preprocessor_config.json` of a Hugging Face checkpoint folder.
    public init(checkpointFolder folder: URL, padToSquare: Bool? = nil) throws(ImagePreprocessorConfigError) {
        let url = folder.appendingPathComponent("preprocessor_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ImagePreprocessorConfigError(
                file: url.path,
                message: "missing; a vision checkpoint needs it to preprocess images: copy it from the model's "
                    + "Hugging Face repository into \(folder.path)")
        }
        try self.init(contentsOf: url, padToSquare: padToSquare)
    }

    /// Every setting that decides the output, in one canonical line, for content keys.
    ///
    /// Two preprocessors with equal descriptions produce equal pixel values for every image, so
    /// a vision-feature cache keyed on it (with the image bytes and the decoder's transparency
    /// handling) never serves features computed under other settings.
    public var contentDescription: String {
        func number(_ value: Double) -> String { "\(value)" }  // Swift prints the shortest round-trip form
        var parts = ["image-preprocessor/v1"]
        parts.append("pad=\(padToSquare)")
        switch (config.doResize, config.size) {
        case (false, _): parts.append("resize=none")
        case (true, .shortestEdge(let side)): parts.append("resize=shortest:\(side),\(config.resample)")
        case (true, .exact(let height, let width)): parts.append("resize=\(height)x\(width),\(config.resample)")
        }
        parts.append(config.doCenterCrop ? "crop=\(config.cropHeight)x\(config.cropWidth)" : "crop=none")
        parts.append(config.doRescale ? "rescale=\(number(config.rescaleFactor))" : "rescale=none")
        parts.append(config.doNormalize
            ? "normalize=\(config.imageMean.map(number).joined(separator: ","));\(config.imageStd.map(number).joined(separator: ","))"
            : "normalize=none")
        // The pad colour depends on the mean even when normalisation is off.
        if padToSquare { parts.append("padcolor=\(padColor.red),\(padColor.green),\(padColor.blue)") }
        return parts.joined(separator: " ")
    }

    /// The padding colour: each channel's mean times 255, truncated (122, 116, 104 for CLIP).
    public var padColor: (red: UInt8, green: UInt8, blue: UInt8) {
        func byte(_ mean: Double) -> UInt8 { UInt8(clamping: Int(mean * 255)) }
        return (byte(config.imageMean[0]), byte(config.imageMean[1]), byte(config.imageMean[2]))
    }

    /// The output height and width for an image of the given size.
    public func outputSize(width: Int, height: Int) -> (height: Int, width: Int) {
        var size = (height: height, width: width)
        if padToSquare {
            let side = max(width, height)
            size = (side, side)
        }
        if config.doResize { size = resizedSize(height: size.height, width: size.width) }
        if config.doCenterCrop { size = (config.cropHeight, config.cropWidth) }
        return size
    }

    /// Pad, resize and crop: the image just before rescaling, still 8-bit.
    public func resizedAndCropped(_ image: RGBImage) -> RGBImage {
        var current = image
        if padToSquare { current = Self.padToSquare(current, color: padColor) }
        if config.doResize {
            let target = resizedSize(height: current.height, width: current.width)
            current = PillowResampler.resize(current, width: target.width, height: target.height,
                                             filter: config.resample)
        }
        if config.doCenterCrop {
            current = Self.centerCrop(current, height: config.cropHeight, width: config.cropWidth)
        }
        return current
    }

    /// The pixel values for `image`: [3, H, W] after every configured step.
    public func pixelValues(for image: RGBImage) -> PixelValues {
        let prepared = resizedAndCropped(image)
        let plane = prepared.width * prepared.height
        var values = [Float](repeating: 0, count: 3 * plane)
        for channel in 0..<3 {
            // transformers rescales in float64 and rounds to float32, then normalises in float32.
            let mean = Float(config.imageMean[channel])
            let std = Float(config.imageStd[channel])
            for index in 0..<plane {
                let sample = prepared.pixels[index * 3 + channel]
                var value = config.doRescale ? Float(Double(sample) * config.rescaleFactor) : Float(sample)
                if config.doNormalize { value = (value - mean) / std }
                values[channel * plane + index] = value
            }
        }
        return PixelValues(channels: 3, height: prepared.height, width: prepared.width, values: values)
    }

    /// Reads, decodes and preprocesses an image file.
    public func pixelValues(contentsOf url: URL, decoder: ImageDecoder = ImageDecoder())
        throws(ImageDecodingError) -> PixelValues {
        pixelValues(for: try decoder.decode(contentsOf: url))
    }

    private func resizedSize(height: Int, width: Int) -> (height: Int, width: Int) {
        switch config.size {
        case .exact(let targetHeight, let targetWidth):
            return (targetHeight, targetWidth)
        case .shortestEdge(let side):
            // transformers: new_long = int(side * long / short), in float64.
            let short = min(width, height), long = max(width, height)
            let newLong = max(1, Int(Double(side * long) / Double(short)))
            return width <= height ? (newLong, side) : (side, newLong)
        }
    }

    /// `image` centred on a square canvas of `color`, as LLaVA's `expand2square` pastes it.
    public static func padToSquare(_ image: RGBImage, color: (red: UInt8, green: UInt8, blue: UInt8)) -> RGBImage {
        guard image.width != image.height else { return image }
        let side = max(image.width, image.height)
        var canvas = RGBImage(width: side, height: side, fill: color)
        let top = (side - image.height) / 2, left = (side - image.width) / 2
        let rowLength = image.width * 3
        for row in 0..<image.height {
            let source = row * rowLength
            let target = ((row + top) * side + left) * 3
            canvas.pixels.replaceSubrange(target..<(target + rowLength), with: image.pixels[source..<(source + rowLength)])
        }
        return canvas
    }

    /// The centred `height` × `width` window of `image`, zero where it extends past the image
    /// (transformers' `center_crop`, including its rounding of odd margins).
    public static func centerCrop(_ image: RGBImage, height: Int, width: Int) -> RGBImage {
        if height == image.height && width == image.width { return image }
        // Floor division, as Python's // rounds negative margins down.
        func floorHalf(_ value: Int) -> Int { value >= 0 ? value / 2 : -((-value + 1) / 2) }
        let top = floorHalf(image.height - height), left = floorHalf(image.width - width)
        var output = [UInt8](repeating: 0, count: width * height * 3)
        for row in 0..<height {
            let sourceRow = row + top
            guard sourceRow >= 0, sourceRow < image.height else { continue }
            for column in 0..<width {
                let sourceColumn = column + left
                guard sourceColumn >= 0, sourceColumn < image.width else { continue }
                let source = (sourceRow * image.width + sourceColumn) * 3
                let target = (row * width + column) * 3
                output[target] = image.pixels[source]
                output[target + 1] = image.pixels[source + 1]
                output[target + 2] = image.pixels[source + 2]
            }
        }
        return RGBImage(width: width, height: height, pixels: output)
    }
}
