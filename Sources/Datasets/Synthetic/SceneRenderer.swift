/// An 8-bit RGB raster, rows top to bottom, pixels interleaved R, G, B.
public struct RGBRaster: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBRaster needs width * height * 3 samples")
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

/// Draws scenes with 4×4 supersampled edges, so shapes keep their outline at 48 pixels.
public enum SceneRenderer {
    /// Subsamples per pixel along each axis.
    static let samplesPerAxis = 4

    /// The scene as pixels; later objects cover earlier ones where they overlap.
    public static func render(_ scene: Scene) -> RGBRaster {
        let size = scene.size
        let count = samplesPerAxis * samplesPerAxis
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        let background = Scene.background
        for py in 0..<size {
            for px in 0..<size {
                var sums = (0, 0, 0)
                for sy in 0..<samplesPerAxis {
                    for sx in 0..<samplesPerAxis {
                        // Pixel centres sit on integer coordinates, like object centres.
                        let x = Double(px) + (Double(sx) + 0.5) / Double(samplesPerAxis) - 0.5
                        let y = Double(py) + (Double(sy) + 0.5) / Double(samplesPerAxis) - 0.5
                        let color = scene.objects.last { $0.contains(x, y) }?.color.rgb ?? background
                        sums.0 += Int(color.red)
                        sums.1 += Int(color.green)
                        sums.2 += Int(color.blue)
                    }
                }
                let index = (py * size + px) * 3
                pixels[index] = UInt8((sums.0 + count / 2) / count)
                pixels[index + 1] = UInt8((sums.1 + count / 2) / count)
                pixels[index + 2] = UInt8((sums.2 + count / 2) / count)
            }
        }
        return RGBRaster(width: size, height: size, pixels: pixels)
    }
}
