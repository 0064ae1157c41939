/// An 8-bit interleaved RGB image, rows top to bottom, no padding: `pixels.count == width * height * 3`.
public struct RGBImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGB pixel count does not match \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// The image turned clockwise by a multiple of 90 degrees.
    public func rotated(clockwiseDegrees degrees: Int) -> RGBImage {
        let turns = ((degrees / 90) % 4 + 4) % 4
        if turns == 0 { return self }
        let outWidth = turns == 2 ? width : height
        let outHeight = turns == 2 ? height : width
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    for x in 0..<width {
                        let (ox, oy): (Int, Int)
                        switch turns {
                        case 1: (ox, oy) = (height - 1 - y, x)
                        case 2: (ox, oy) = (width - 1 - x, height - 1 - y)
                        default: (ox, oy) = (y, width - 1 - x)
                        }
                        let s = (y * width + x) * 3, d = (oy * outWidth + ox) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: out)
    }
}
