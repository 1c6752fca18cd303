import Foundation

/// Pillow's antialiasing resampling filters, numbered as in `preprocessor_config.json`'s `resample`.
///
/// `nearest` (0) is not offered: Pillow implements it with a different (non-convolution)
/// code path that LLaVA-family processors do not use.
public enum ResamplingFilter: Int, Sendable, CaseIterable, CustomStringConvertible {
    case lanczos = 1
    case bilinear = 2
    case bicubic = 3
    case box = 4
    case hamming = 5

    /// Half-width of the kernel in source pixels when not downscaling.
    var support: Double {
        switch self {
        case .box: 0.5
        case .bilinear, .hamming: 1
        case .bicubic: 2
        case .lanczos: 3
        }
    }

    /// The kernel's weight at distance `x` (Pillow's definitions; bicubic uses a = -0.5).
    func weight(_ x: Double) -> Double {
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let distance = abs(x)
            return distance < 1 ? 1 - distance : 0
        case .hamming:
            let distance = abs(x)
            if distance == 0 { return 1 }
            if distance >= 1 { return 0 }
            let angle = distance * Double.pi
            // Pillow writes these constants as C floats (0.54f, 0.46f), widened to double.
            return sin(angle) / angle * (Double(Float(0.54)) + Double(Float(0.46)) * cos(angle))
        case .bicubic:
            let a = -0.5
            let distance = abs(x)
            if distance < 1 { return ((a + 2) * distance - (a + 3)) * distance * distance + 1 }
            if distance < 2 { return (((distance - 5) * distance + 8) * distance - 4) * a }
            return 0
        case .lanczos:
            guard x >= -3, x < 3 else { return 0 }
            return Self.sinc(x) * Self.sinc(x / 3)
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let angle = x * Double.pi
        return sin(angle) / angle
    }

    public var description: String {
        switch self {
        case .lanczos: "lanczos"
        case .bilinear: "bilinear"
        case .bicubic: "bicubic"
        case .box: "box"
        case .hamming: "hamming"
        }
    }
}

/// Resizes 8-bit RGB images exactly as Pillow's `Image.resize` does for mode "RGB".
///
/// Pillow resamples separably — one pass along each axis with an 8-bit intermediate image —
/// with the kernel stretched by the downscale factor (antialiasing), weights normalised per
/// output pixel and converted to 22-bit fixed point, and each pass rounded and clamped to
/// 0…255. Doing the same arithmetic gives the same bytes, which the fixture tests check.
public enum PillowResampler {
    /// Fixed-point fraction bits of the weights: 32 bits minus 8 for the sample and 2 for headroom.
    static let precisionBits = 22

    /// The weights of one output position along one axis.
    struct Taps {
        /// First source index read.
        var first: Int
        /// Fixed-point weights for source indices `first ..< first + weights.count`.
        var weights: [Int32]
    }

    /// Per-output-pixel source ranges and fixed-point weights for resizing `inputSize` → `outputSize`.
    static func taps(inputSize: Int, outputSize: Int, filter: ResamplingFilter) -> [Taps] {
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let inverseFilterScale = 1 / filterScale
        let unit = Double(1 << precisionBits)
        var result: [Taps] = []
        result.reserveCapacity(outputSize)
        for position in 0..<outputSize {
            let center = (Double(position) + 0.5) * scale
            // Pillow truncates toward zero after adding 0.5, then clamps to the image.
            let first = max(Int(center - support + 0.5), 0)
            let end = min(Int(center + support + 0.5), inputSize)
            var weights = [Double]()
            weights.reserveCapacity(max(end - first, 0))
            var total = 0.0
            for index in first..<max(end, first) {
                let weight = filter.weight((Double(index) - center + 0.5) * inverseFilterScale)
                weights.append(weight)
                total += weight
            }
            let fixed = weights.map { weight -> Int32 in
                let normalised = total != 0 ? weight / total : weight
                return Int32(normalised < 0 ? -0.5 + normalised * unit : 0.5 + normalised * unit)
            }
            result.append(Taps(first: first, weights: fixed))
        }
        return result
    }

    /// `image` resized to `width` × `height` with `filter`, byte for byte as Pillow produces it.
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResamplingFilter) -> RGBImage {
        precondition(width > 0 && height > 0, "resize targets are positive")
        if width == image.width && height == image.height { return image }
        let horizontal = { (input: RGBImage) in
            input.width == width ? input
                : horizontalPass(input, taps: taps(inputSize: image.width, outputSize: width, filter: filter))
        }
        let vertical = { (input: RGBImage) in
            input.height == height ? input
                : verticalPass(input, taps: taps(inputSize: image.height, outputSize: height, filter: filter))
        }
        return verticalFirst(from: (image.width, image.height), to: (width, height))
            ? horizontal(vertical(image)) : vertical(horizontal(image))
    }

    /// Whether Pillow runs the vertical pass first; the order changes the 8-bit intermediate.
    ///
    /// Pillow 13.0.0 (pinned in Tools/requirements.txt) goes vertical-first exactly when the image
    /// loses more than twice as many rows as columns; upscaled axes count as losing none. This
    /// rule was measured against it (every filter, ~900 random size pairs, no exception); older
    /// Pillow releases always went horizontal-first, which differs only where this returns true.
    static func verticalFirst(from input: (width: Int, height: Int), to output: (width: Int, height: Int)) -> Bool {
        let rowsLost = max(0, input.height - output.height)
        let columnsLost = max(0, input.width - output.width)
        return rowsLost > 2 * columnsLost
    }

    private static func clampToByte(_ accumulator: Int) -> UInt8 {
        let value = accumulator >> precisionBits
        return UInt8(clamping: value)
    }

    private static func horizontalPass(_ image: RGBImage, taps: [Taps]) -> RGBImage {
        let outputWidth = taps.count
        var output = [UInt8](repeating: 0, count: outputWidth * image.height * 3)
        let rounding = 1 << (precisionBits - 1)
        image.pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                for row in 0..<image.height {
                    let sourceRow = row * image.width * 3
                    let targetRow = row * outputWidth * 3
                    for (column, tap) in taps.enumerated() {
                        var red = rounding, green = rounding, blue = rounding
                        for (offset, weight) in tap.weights.enumerated() {
                            let index = sourceRow + (tap.first + offset) * 3
                            let w = Int(weight)
                            red += Int(source[index]) * w
                            green += Int(source[index + 1]) * w
                            blue += Int(source[index + 2]) * w
                        }
                        let index = targetRow + column * 3
                        target[index] = clampToByte(red)
                        target[index + 1] = clampToByte(green)
                        target[index + 2] = clampToByte(blue)
                    }
                }
            }
        }
        return RGBImage(width: outputWidth, height: image.height, pixels: output)
    }

    private static func verticalPass(_ image: RGBImage, taps: [Taps]) -> RGBImage {
        let outputHeight = taps.count
        let rowLength = image.width * 3
        var output = [UInt8](repeating: 0, count: rowLength * outputHeight)
        let rounding = 1 << (precisionBits - 1)
        var accumulators = [Int](repeating: 0, count: rowLength)
        image.pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                for (row, tap) in taps.enumerated() {
                    for index in 0..<rowLength { accumulators[index] = rounding }
                    // Row-at-a-time accumulation reads memory in order; the sums are the same.
                    for (offset, weight) in tap.weights.enumerated() {
                        let sourceRow = (tap.first + offset) * rowLength
                        let w = Int(weight)
                        for index in 0..<rowLength {
                            accumulators[index] += Int(source[sourceRow + index]) * w
                        }
                    }
                    let targetRow = row * rowLength
                    for index in 0..<rowLength {
                        target[targetRow + index] = clampToByte(accumulators[index])
                    }
                }
            }
        }
        return RGBImage(width: image.width, height: outputHeight, pixels: output)
    }
}
