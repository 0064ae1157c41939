// Resizing and cropping of interleaved 8-bit images, reproducing Pillow's `Image.resize`
// (as torchvision's `Resize` calls it on a PIL image) so that preprocessing matches the
// reference pipelines to the last level.

/// An interleaved 8-bit image (RGB when channels == 3), rows top to bottom.
public struct InterleavedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int = 3, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && channels >= 1 && pixels.count == width * height * channels,
                     "image \(width)x\(height)x\(channels) with \(pixels.count) bytes")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

/// Pillow's resampling arithmetic (libImaging/Resample.c): coefficients in double precision,
/// converted to 22-bit fixed point, accumulated with a rounding half, clipped to 0...255.
enum PillowResample {
    static let precisionBits = 32 - 8 - 2

    /// Per output index: first input index and fixed-point weights (the triangle filter,
    /// its support widened by the downscale factor, i.e. antialiased).
    static func coefficients(inSize: Int, outSize: Int) -> [(start: Int, weights: [Int32])] {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 1.0 * filterScale
        var result: [(Int, [Int32])] = []
        result.reserveCapacity(outSize)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1 / filterScale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var w = [Double](repeating: 0, count: max(xmax, 0))
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                var t = (Double(x + xmin) - center + 0.5) * ss
                if t < 0 { t = -t }
                let v = t < 1 ? 1 - t : 0
                w[x] = v
                total += v
            }
            let one = Double(1 << precisionBits)
            let fixed = w.map { v -> Int32 in
                let k = total != 0 ? v / total : v
                return k < 0 ? Int32(-0.5 + k * one) : Int32(0.5 + k * one)
            }
            result.append((xmin, fixed))
        }
        return result
    }

    static let half = Int32(1) << (precisionBits - 1)

    @inline(__always)
    static func clip8(_ v: Int32) -> UInt8 {
        if v >= (1 << precisionBits) << 8 { return 255 }
        if v <= 0 { return 0 }
        return UInt8(truncatingIfNeeded: v >> precisionBits)
    }
}

/// One pass's weights, flat and with the same number of taps for every output index, so that
/// the inner loops index plain buffers. A window cut short by the input's end starts earlier
/// and gets zero weights in front, which leave its sums unchanged.
struct ResampleTable {
    let taps: Int
    /// First input index of each output index's window.
    let starts: [Int]
    /// `taps` weights per output index.
    let weights: [Int32]

    init(inSize: Int, outSize: Int) {
        let windows = PillowResample.coefficients(inSize: inSize, outSize: outSize)
        let taps = windows.map(\.weights.count).max() ?? 0
        var starts: [Int] = [], weights: [Int32] = []
        starts.reserveCapacity(outSize)
        weights.reserveCapacity(outSize * taps)
        for (start, window) in windows {
            let padded = min(start, inSize - taps)
            starts.append(padded)
            weights += repeatElement(0, count: start - padded) + window
            weights += repeatElement(0, count: padded + taps - start - window.count)
        }
        self.taps = taps
        self.starts = starts
        self.weights = weights
    }
}

public enum ImageResize {
    /// Bilinear resize with Pillow's antialiasing (`Image.resize(size, Image.BILINEAR)`):
    /// when shrinking, each output pixel averages the input under a triangle as wide as the
    /// scale factor. Horizontal pass first, then vertical, rounding to 8 bits in between,
    /// exactly as Pillow does; a dimension that does not change is not filtered.
    public static func resizeBilinearAntialiased(_ image: InterleavedImage, width: Int, height: Int) -> InterleavedImage {
        precondition(width >= 0 && height >= 0, "resize to \(width)x\(height)")
        guard image.width > 0 && image.height > 0 && width > 0 && height > 0 else {
            return InterleavedImage(width: width, height: height, channels: image.channels,
                                    pixels: [UInt8](repeating: 0, count: width * height * image.channels))
        }
        var current = image
        if width != image.width {
            current = resampleRows(current, table: ResampleTable(inSize: image.width, outSize: width))
        }
        if height != image.height {
            current = resampleColumns(current, table: ResampleTable(inSize: image.height, outSize: height))
        }
        return current
    }

    /// The horizontal pass: each output pixel is a weighted sum of `taps` neighbouring input
    /// pixels of its row, channel by channel.
    static func resampleRows(_ image: InterleavedImage, table: ResampleTable) -> InterleavedImage {
        let ch = image.channels, taps = table.taps, outWidth = table.starts.count
        var out = [UInt8](repeating: 0, count: outWidth * image.height * ch)
        // The 4-byte loads read one byte past a window: safe on every row but the last.
        let lastRowReadingPastPixel = image.height - 1
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                table.weights.withUnsafeBufferPointer { weights in
                    for y in 0..<image.height {
                        let row = src.baseAddress! + y * image.width * ch
                        let outRow = dst.baseAddress! + y * outWidth * ch
                        for x in 0..<outWidth {
                            let w = weights.baseAddress! + x * taps
                            let p = row + table.starts[x] * ch
                            let o = outRow + x * ch
                            if ch == 3 && y < lastRowReadingPastPixel {
                                // One RGB pixel per 4-byte load; its fourth byte, the next
                                // pixel's red, is weighted into a lane that is dropped.
                                var s = SIMD4<Int32>(repeating: PillowResample.half)
                                for i in 0..<taps {
                                    let rgbx = UnsafeRawPointer(p + 3 * i).loadUnaligned(as: SIMD4<UInt8>.self)
                                    s &+= SIMD4<Int32>(truncatingIfNeeded: rgbx) &* w[i]
                                }
                                let clipped = (s &>> Int32(PillowResample.precisionBits))
                                    .clamped(lowerBound: SIMD4(repeating: 0), upperBound: SIMD4(repeating: 255))
                                o[0] = UInt8(truncatingIfNeeded: clipped[0])
                                o[1] = UInt8(truncatingIfNeeded: clipped[1])
                                o[2] = UInt8(truncatingIfNeeded: clipped[2])
                            } else {
                                for c in 0..<ch {
                                    var s = PillowResample.half
                                    for i in 0..<taps { s &+= Int32(p[ch * i + c]) &* w[i] }
                                    o[c] = PillowResample.clip8(s)
                                }
                            }
                        }
                    }
                }
            }
        }
        return InterleavedImage(width: outWidth, height: image.height, channels: ch, pixels: out)
    }

    /// The vertical pass: each output row is a weighted sum of `taps` input rows, computed 16
    /// bytes at a time.
    static func resampleColumns(_ image: InterleavedImage, table: ResampleTable) -> InterleavedImage {
        let rowLength = image.width * image.channels, taps = table.taps, outHeight = table.starts.count
        var out = [UInt8](repeating: 0, count: rowLength * outHeight)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                table.weights.withUnsafeBufferPointer { weights in
                    for y in 0..<outHeight {
                        let w = weights.baseAddress! + y * taps
                        let first = src.baseAddress! + table.starts[y] * rowLength
                        let outRow = dst.baseAddress! + y * rowLength
                        var i = 0
                        while i + 16 <= rowLength {
                            var s = SIMD16<Int32>(repeating: PillowResample.half)
                            for j in 0..<taps {
                                let bytes = UnsafeRawPointer(first + j * rowLength + i).loadUnaligned(as: SIMD16<UInt8>.self)
                                s &+= SIMD16<Int32>(truncatingIfNeeded: bytes) &* w[j]
                            }
                            let clipped = (s &>> Int32(PillowResample.precisionBits))
                                .clamped(lowerBound: SIMD16(repeating: 0), upperBound: SIMD16(repeating: 255))
                            UnsafeMutableRawPointer(outRow + i).storeBytes(
                                of: SIMD16<UInt8>(truncatingIfNeeded: clipped), as: SIMD16<UInt8>.self)
                            i += 16
                        }
                        while i < rowLength {
                            var s = PillowResample.half
                            for j in 0..<taps { s &+= Int32(first[j * rowLength + i]) &* w[j] }
                            outRow[i] = PillowResample.clip8(s)
                            i += 1
                        }
                    }
                }
            }
        }
        return InterleavedImage(width: image.width, height: outHeight, channels: image.channels, pixels: out)
    }

    /// The size torchvision's `Resize(shortSide)` gives an image: the short side becomes
    /// `shortSide`, the long side `int(shortSide * long / short)`.
    /// An empty image stays empty.
    public static func sizeForShortSide(width: Int, height: Int, shortSide: Int) -> (width: Int, height: Int) {
        precondition(shortSide > 0, "short-side resize to \(shortSide)")
        guard width > 0 && height > 0 else { return (0, 0) }
        let short = min(width, height), long = max(width, height)
        let newLong = Int(Double(shortSide * long) / Double(short))
        return width <= height ? (shortSide, newLong) : (newLong, shortSide)
    }

    /// torchvision's `Resize(shortSide)` on a PIL image.
    public static func resizeShortSide(_ image: InterleavedImage, to shortSide: Int) -> InterleavedImage {
        let size = sizeForShortSide(width: image.width, height: image.height, shortSide: shortSide)
        return resizeBilinearAntialiased(image, width: size.width, height: size.height)
    }

    /// torchvision's `CenterCrop`: top = round((h - ch) / 2), left = round((w - cw) / 2) with
    /// Python's round-half-to-even; parts of the crop outside the image are zero.
    public static func centerCrop(_ image: InterleavedImage, width: Int, height: Int) -> InterleavedImage {
        precondition(width >= 0 && height >= 0, "crop to \(width)x\(height)")
        let top = Int((Double(image.height - height) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(image.width - width) / 2).rounded(.toNearestOrEven))
        let ch = image.channels
        var out = [UInt8](repeating: 0, count: width * height * ch)
        for y in 0..<height {
            let sy = y + top
            guard sy >= 0 && sy < image.height else { continue }
            for x in 0..<width {
                let sx = x + left
                guard sx >= 0 && sx < image.width else { continue }
                for c in 0..<ch { out[(y * width + x) * ch + c] = image.pixels[(sy * image.width + sx) * ch + c] }
            }
        }
        return InterleavedImage(width: width, height: height, channels: ch, pixels: out)
    }

    /// Writes the image into out[0, H, W, C] as (pixel / 255 - mean[c]) / std[c].
    public static func normalize(_ image: InterleavedImage, into out: Tensor, mean: [Float], std: [Float]) {
        let ch = image.channels
        precondition(out.shape == [1, image.height, image.width, ch] && mean.count == ch && std.count == ch,
                     "normalize: \(image.width)x\(image.height)x\(ch) into \(out.shape)")
        let d = out.data
        let scale = std.map { 1 / (255 * $0) }, shift = (0..<ch).map { -mean[$0] / std[$0] }
        for i in 0..<image.pixels.count {
            let c = i % ch
            d[i] = Float(image.pixels[i]) * scale[c] + shift[c]
        }
    }
}
