// Technical quality of one frame, for judging it as artwork: sharpness, exposure, contrast,
// colourfulness, and flags for frames that are never artwork (black, near-uniform, caption
// cards).
//
// Luma is Rec. 601 (0.299 R + 0.587 G + 0.114 B) on the 0...255 scale of the RGB values.
//
// Sharpness is normalised for resolution by measuring on a fixed working size: luma is
// area-averaged to `workingHeight` (180) rows, the width keeping the aspect ratio, and the
// sharpness is the variance of the 4-neighbour Laplacian [0 1 0; 1 -4 1; 0 1 0] over the
// interior of that image (OpenCV's `cv2.Laplacian(gray, CV_64F).var()` at ksize 1, without the
// border rows and columns). A 4K frame and a 480p copy of it therefore score alike. Frames
// shorter than 180 rows are measured at their own size, never upsampled. 180 rows is about
// the height at which artwork is seen in a catalog row: blur that shows there is what
// matters, while a soft but well-focused source (an SD title shown in HD) is not punished for
// its lack of pixel-level detail.

import MarqueeMedia

public struct FrameQuality: Sendable, Equatable, Codable {
    /// Rows of the luma image on which sharpness and the caption-card measures are taken.
    public static let workingHeight = 180
    /// A pixel this dark or darker counts as black (as ffmpeg's blackdetect pix_th=0.10).
    public static let blackLevel: Float = 0.10 * 255
    /// A frame with at least this share of black pixels is black (blackdetect pic_th=0.98).
    public static let blackFrameShare: Float = 0.98
    /// Luma at or below this is a clipped shadow, at or above `highlightLevel` a clipped highlight.
    public static let shadowLevel: Float = 5
    public static let highlightLevel: Float = 250

    /// Variance of the Laplacian of luma at the working size (0...255 luma units squared).
    public var sharpness: Float
    /// Mean luma, 0...1.
    public var meanLuma: Float
    /// Share of pixels with clipped shadows (luma ≤ 5) and clipped highlights (luma ≥ 250).
    public var shadowShare: Float
    public var highlightShare: Float
    /// RMS contrast: the standard deviation of luma, 0...0.5.
    public var contrast: Float
    /// Hasler and Süsstrunk's colourfulness M on 0...255 RGB: with rg = R − G and
    /// yb = (R + G) / 2 − B, M = sqrt(σrg² + σyb²) + 0.3 sqrt(μrg² + μyb²). 0 for gray;
    /// about 33 is "moderately", 59 "quite" and 82 "highly" colourful in their scale.
    public var colourfulness: Float
    /// Share of pixels at or below `blackLevel`.
    public var blackShare: Float
    public var caption: CaptionCardMeasures
    /// Width and height of the image the frame was measured on (sharpness, caption measures).
    public var workingWidth: Int
    public var workingHeight: Int

    /// At least 98% of the pixels are black.
    public var isBlack: Bool { blackShare >= Self.blackFrameShare }
    /// One flat colour: luma and the colour-opponent channels barely vary.
    public var isNearUniform: Bool { contrast < 0.02 && chromaSpread < 5 }
    public var isCaptionCard: Bool { caption.isCaptionCard }
    /// sqrt(σrg² + σyb²), the first term of the colourfulness.
    public var chromaSpread: Float

    public init(sharpness: Float, meanLuma: Float, shadowShare: Float, highlightShare: Float, contrast: Float,
                colourfulness: Float, chromaSpread: Float, blackShare: Float, caption: CaptionCardMeasures,
                workingWidth: Int, workingHeight: Int) {
        self.sharpness = sharpness
        self.meanLuma = meanLuma
        self.shadowShare = shadowShare
        self.highlightShare = highlightShare
        self.contrast = contrast
        self.colourfulness = colourfulness
        self.chromaSpread = chromaSpread
        self.blackShare = blackShare
        self.caption = caption
        self.workingWidth = workingWidth
        self.workingHeight = workingHeight
    }

    /// Measures `image` (any size of at least 1x1).
    public static func measure(_ image: RGBImage) -> FrameQuality {
        let width = image.width, height = image.height
        let count = width * height
        guard count > 0 else {
            return FrameQuality(sharpness: 0, meanLuma: 0, shadowShare: 0, highlightShare: 0, contrast: 0, colourfulness: 0,
                                chromaSpread: 0, blackShare: 1, caption: .none, workingWidth: 0, workingHeight: 0)
        }
        var luma = [Float](repeating: 0, count: count)
        let stats = image.pixels.withUnsafeBufferPointer { rgb in
            luma.withUnsafeMutableBufferPointer { luma in
                PixelStatistics.gather(rgb: rgb, luma: luma, width: width, height: height)
            }
        }
        let n = Double(count)
        let meanY = stats.sumY / n
        let varianceY = max(stats.sumY2 / n - meanY * meanY, 0)
        let meanRG = stats.sumRG / n, meanYB = stats.sumYB / n
        let varianceRG = max(stats.sumRG2 / n - meanRG * meanRG, 0)
        let varianceYB = max(stats.sumYB2 / n - meanYB * meanYB, 0)
        let spread = (varianceRG + varianceYB).squareRoot()
        let colourfulness = spread + 0.3 * (meanRG * meanRG + meanYB * meanYB).squareRoot()

        let working = LumaPlane(width: width, height: height, values: luma).areaResampled(toHeight: workingHeight)
        return FrameQuality(
            sharpness: Float(working.laplacianVariance()),
            meanLuma: Float(meanY / 255),
            shadowShare: Float(Double(stats.shadows) / n),
            highlightShare: Float(Double(stats.highlights) / n),
            contrast: Float(varianceY.squareRoot() / 255),
            colourfulness: Float(colourfulness),
            chromaSpread: Float(spread),
            blackShare: Float(Double(stats.blacks) / n),
            caption: CaptionCardMeasures.measure(working),
            workingWidth: working.width, workingHeight: working.height)
    }
}

/// How much a frame looks like a frame-wide caption or credit card: text on a plain
/// background. Taken on the working-size luma.
///
/// The background is the most common luma level (a 1-level histogram bin) and every pixel
/// within ±6 of it. A card has most pixels on the background, many rows that are entirely
/// background (between and around the lines of text), and some rows crossed by text: rows
/// with at least 1% of non-background pixels that switch between background and not at
/// least 6 times (letters), while still mostly background. Footage almost never has a single
/// luma level covering three quarters of the frame; a black letterbox covers a quarter or
/// so; a uniform frame has no text rows.
public struct CaptionCardMeasures: Sendable, Equatable, Codable {
    /// Share of pixels within ±6 luma levels of the most common level.
    public var backgroundShare: Float
    /// Share of rows with at least 98% background pixels.
    public var flatRowShare: Float
    /// Share of rows that look crossed by text.
    public var textRowShare: Float

    public static let none = CaptionCardMeasures(backgroundShare: 0, flatRowShare: 0, textRowShare: 0)
    public static let minimumBackgroundShare: Float = 0.75
    public static let minimumFlatRowShare: Float = 0.35
    public static let minimumTextRowShare: Float = 0.04
    static let tolerance: Float = 6

    public init(backgroundShare: Float, flatRowShare: Float, textRowShare: Float) {
        self.backgroundShare = backgroundShare
        self.flatRowShare = flatRowShare
        self.textRowShare = textRowShare
    }

    public var isCaptionCard: Bool {
        backgroundShare >= Self.minimumBackgroundShare && flatRowShare >= Self.minimumFlatRowShare
            && textRowShare >= Self.minimumTextRowShare
    }

    static func measure(_ plane: LumaPlane) -> CaptionCardMeasures {
        let width = plane.width, height = plane.height
        guard width > 0, height > 0 else { return .none }
        var histogram = [Int](repeating: 0, count: 256)
        for v in plane.values { histogram[Int(min(max(v, 0), 255))] += 1 }
        let mode = Float(histogram.indices.max { histogram[$0] < histogram[$1] } ?? 0) + 0.5
        var background = 0, flatRows = 0, textRows = 0
        plane.values.withUnsafeBufferPointer { values in
            for y in 0..<height {
                let row = values.baseAddress! + y * width
                var inRow = 0, switches = 0
                var previous = true
                for x in 0..<width {
                    let isBackground = abs(row[x] - mode) <= tolerance
                    if isBackground { inRow += 1 }
                    if x > 0 && isBackground != previous { switches += 1 }
                    previous = isBackground
                }
                background += inRow
                let share = Float(inRow) / Float(width)
                if share >= 0.98 { flatRows += 1 }
                if share <= 0.99 && share >= 0.6 && switches >= 6 { textRows += 1 }
            }
        }
        return CaptionCardMeasures(backgroundShare: Float(background) / Float(width * height),
                                   flatRowShare: Float(flatRows) / Float(height),
                                   textRowShare: Float(textRows) / Float(height))
    }
}

/// Sums over all pixels of an RGB image, taken in one pass that also writes the luma plane.
struct PixelStatistics {
    var sumY = 0.0, sumY2 = 0.0
    var sumRG = 0.0, sumRG2 = 0.0, sumYB = 0.0, sumYB2 = 0.0
    var shadows = 0, highlights = 0, blacks = 0

    /// rgb is (height, width, 3) UInt8; luma receives (height, width) Float.
    static func gather(rgb: UnsafeBufferPointer<UInt8>, luma: UnsafeMutableBufferPointer<Float>,
                       width: Int, height: Int) -> PixelStatistics {
        var total = PixelStatistics()
        let src = rgb.baseAddress!, dst = luma.baseAddress!
        let wR = SIMD8<Float>(repeating: 0.299), wG = SIMD8<Float>(repeating: 0.587), wB = SIMD8<Float>(repeating: 0.114)
        let shadowLevel = SIMD8<Float>(repeating: FrameQuality.shadowLevel)
        let highlightLevel = SIMD8<Float>(repeating: FrameQuality.highlightLevel)
        let blackLevel = SIMD8<Float>(repeating: FrameQuality.blackLevel)
        let zero = SIMD8<Int32>(repeating: 0), one = SIMD8<Int32>(repeating: 1)
        for y in 0..<height {
            // Per-row sums stay in Float lanes (at most 16384 pixels x 255² fits the mantissa
            // to about 1e-7 relative); the title-wide sums are Double.
            var sY = SIMD8<Float>(), sY2 = SIMD8<Float>(), sRG = SIMD8<Float>(), sRG2 = SIMD8<Float>()
            var sYB = SIMD8<Float>(), sYB2 = SIMD8<Float>()
            var nShadow = SIMD8<Int32>(), nHighlight = SIMD8<Int32>(), nBlack = SIMD8<Int32>()
            let rowIn = src + y * width * 3, rowOut = dst + y * width
            var x = 0
            while x + 8 <= width {
                let p = rowIn + x * 3
                let r = SIMD8<Float>(Float(p[0]), Float(p[3]), Float(p[6]), Float(p[9]),
                                     Float(p[12]), Float(p[15]), Float(p[18]), Float(p[21]))
                let g = SIMD8<Float>(Float(p[1]), Float(p[4]), Float(p[7]), Float(p[10]),
                                     Float(p[13]), Float(p[16]), Float(p[19]), Float(p[22]))
                let b = SIMD8<Float>(Float(p[2]), Float(p[5]), Float(p[8]), Float(p[11]),
                                     Float(p[14]), Float(p[17]), Float(p[20]), Float(p[23]))
                let l = wR * r + wG * g + wB * b
                UnsafeMutableRawPointer(rowOut + x).storeBytes(of: l, as: SIMD8<Float>.self)
                let rg = r - g, yb = 0.5 * (r + g) - b
                sY += l; sY2 += l * l
                sRG += rg; sRG2 += rg * rg
                sYB += yb; sYB2 += yb * yb
                nShadow &+= zero.replacing(with: one, where: l .<= shadowLevel)
                nHighlight &+= zero.replacing(with: one, where: l .>= highlightLevel)
                nBlack &+= zero.replacing(with: one, where: l .<= blackLevel)
                x += 8
            }
            var rowSums = PixelStatistics()
            rowSums.sumY = Double(sY.sum()); rowSums.sumY2 = Double(sY2.sum())
            rowSums.sumRG = Double(sRG.sum()); rowSums.sumRG2 = Double(sRG2.sum())
            rowSums.sumYB = Double(sYB.sum()); rowSums.sumYB2 = Double(sYB2.sum())
            rowSums.shadows = Int(nShadow.wrappedSum()); rowSums.highlights = Int(nHighlight.wrappedSum())
            rowSums.blacks = Int(nBlack.wrappedSum())
            while x < width {
                let p = rowIn + x * 3
                let r = Float(p[0]), g = Float(p[1]), b = Float(p[2])
                let l = 0.299 * r + 0.587 * g + 0.114 * b
                rowOut[x] = l
                let rg = r - g, yb = 0.5 * (r + g) - b
                rowSums.sumY += Double(l); rowSums.sumY2 += Double(l * l)
                rowSums.sumRG += Double(rg); rowSums.sumRG2 += Double(rg * rg)
                rowSums.sumYB += Double(yb); rowSums.sumYB2 += Double(yb * yb)
                if l <= FrameQuality.shadowLevel { rowSums.shadows += 1 }
                if l >= FrameQuality.highlightLevel { rowSums.highlights += 1 }
                if l <= FrameQuality.blackLevel { rowSums.blacks += 1 }
                x += 1
            }
            total.add(rowSums)
        }
        return total
    }

    private mutating func add(_ other: PixelStatistics) {
        sumY += other.sumY; sumY2 += other.sumY2
        sumRG += other.sumRG; sumRG2 += other.sumRG2
        sumYB += other.sumYB; sumYB2 += other.sumYB2
        shadows += other.shadows; highlights += other.highlights; blacks += other.blacks
    }
}

/// A single-channel float image, rows top to bottom.
struct LumaPlane {
    var width: Int
    var height: Int
    var values: [Float]

    /// Area-averaged to `targetHeight` rows (each output pixel is the mean of the input area it
    /// covers, fractional pixels weighted by their covered fraction); unchanged when the plane
    /// is not taller than that.
    func areaResampled(toHeight targetHeight: Int) -> LumaPlane {
        guard height > targetHeight, targetHeight > 0 else { return self }
        let outHeight = targetHeight
        let outWidth = max(1, Int((Double(width) * Double(targetHeight) / Double(height)).rounded()))
        let columns = Self.areaWeights(inCount: width, outCount: outWidth)
        let rows = Self.areaWeights(inCount: height, outCount: outHeight)
        // Horizontal pass: (height, outWidth).
        var horizontal = [Float](repeating: 0, count: height * outWidth)
        values.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = src.baseAddress! + y * width, out = dst.baseAddress! + y * outWidth
                    for (ox, span) in columns.enumerated() {
                        var sum: Float = 0
                        for (k, w) in span.weights.enumerated() { sum += w * row[span.start + k] }
                        out[ox] = sum
                    }
                }
            }
        }
        // Vertical pass, whole rows at a time (vectorizes over x).
        var out = [Float](repeating: 0, count: outHeight * outWidth)
        horizontal.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (oy, span) in rows.enumerated() {
                    let outRow = dst.baseAddress! + oy * outWidth
                    for (k, w) in span.weights.enumerated() {
                        let inRow = src.baseAddress! + (span.start + k) * outWidth
                        for x in 0..<outWidth { outRow[x] += w * inRow[x] }
                    }
                }
            }
        }
        return LumaPlane(width: outWidth, height: outHeight, values: out)
    }

    /// For each output index, the first input index and the weights (summing to 1) of the input
    /// pixels its area covers.
    static func areaWeights(inCount: Int, outCount: Int) -> [(start: Int, weights: [Float])] {
        let scale = Double(inCount) / Double(outCount)
        return (0..<outCount).map { o in
            let lower = Double(o) * scale, upper = min(Double(o + 1) * scale, Double(inCount))
            let first = Int(lower), last = min(Int((upper - 1e-9).rounded(.down)), inCount - 1)
            var weights: [Float] = []
            for i in first...max(first, last) {
                let covered = min(upper, Double(i + 1)) - max(lower, Double(i))
                weights.append(Float(max(covered, 0) / (upper - lower)))
            }
            return (first, weights)
        }
    }

    /// Variance of the 4-neighbour Laplacian over the interior pixels; 0 when there is none.
    func laplacianVariance() -> Double {
        guard width >= 3, height >= 3 else { return 0 }
        var sum = 0.0, sumSquares = 0.0
        values.withUnsafeBufferPointer { v in
            let base = v.baseAddress!
            for y in 1..<(height - 1) {
                let up = base + (y - 1) * width, row = base + y * width, down = base + (y + 1) * width
                var s = SIMD8<Float>(), s2 = SIMD8<Float>()
                var x = 1
                while x + 8 <= width - 1 {
                    let c = Self.load(row + x), l = Self.load(row + x - 1), r = Self.load(row + x + 1)
                    let u = Self.load(up + x), d = Self.load(down + x)
                    let lap = 4 * c - l - r - u - d
                    s += lap
                    s2 += lap * lap
                    x += 8
                }
                var rowSum = Double(s.sum()), rowSquares = Double(s2.sum())
                while x < width - 1 {
                    let lap = 4 * row[x] - row[x - 1] - row[x + 1] - up[x] - down[x]
                    rowSum += Double(lap)
                    rowSquares += Double(lap * lap)
                    x += 1
                }
                sum += rowSum
                sumSquares += rowSquares
            }
        }
        let n = Double((width - 2) * (height - 2))
        let mean = sum / n
        return max(sumSquares / n - mean * mean, 0)
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
}
