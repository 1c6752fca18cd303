/// An 8-bit RGB image: rows top to bottom, each pixel three bytes R, G, B.
///
/// This is what every decoder produces and what the preprocessing steps before rescaling
/// (pad to square, resize, centre crop) operate on, as Pillow's mode "RGB" does.
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `height * width * 3` samples, row-major, interleaved R, G, B.
    public var pixels: [UInt8]

    /// Wraps interleaved RGB samples; `pixels.count` must be `width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage needs width * height * 3 samples")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image of one colour.
    public init(width: Int, height: Int, fill: (red: UInt8, green: UInt8, blue: UInt8)) {
        precondition(width >= 0 && height >= 0, "RGBImage sizes are never negative")
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for index in stride(from: 0, to: pixels.count, by: 3) {
            pixels[index] = fill.red
            pixels[index + 1] = fill.green
            pixels[index + 2] = fill.blue
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        let index = (y * width + x) * 3
        return (pixels[index], pixels[index + 1], pixels[index + 2])
    }
}
