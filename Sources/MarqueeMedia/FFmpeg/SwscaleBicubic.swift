import CFFmpeg
#if arch(x86_64) && MARQUEE_AVX2
import _Builtin_intrinsics.intel
import CCPUHints
#endif

/// libswscale's bicubic YUV 4:2:0 → RGB24 scaling, recomputed bit for bit.
///
/// Every decoded frame is scaled to 48x27 for the shot detector, and on a 1080p title
/// libswscale's generic horizontal filter loop (a 160-tap filter over every source line) costs
/// about a sixth of the whole decode. This reproduces libswscale's integer arithmetic on the
/// x86 path (libswscale 6, FFmpeg 5.1: `initFilter`, `hScale8To15`, `yuv2rgb24_X_c` and the
/// `yuv2rgb` tables) with AVX2 passes that load each coefficient once for eight source lines.
/// Integer sums do not depend on the order of their terms, so the bytes are libswscale's; the
/// tests compare them on real and synthetic frames. One frame at a time: the scaled lines
/// live in buffers kept from frame to frame.
final class SwscaleBicubic {
    let filters: BicubicFilters
    let tables: YUVToRGBTables
    /// The lines of the frame being scaled, kept from frame to frame.
    private let lines: ScaledLines
    /// One output row's vertical sums: Y for each pixel, then U and V for each pair.
    private let sums: UnsafeMutablePointer<Int32>

    /// The libswscale major version whose arithmetic this reproduces (FFmpeg 5.1, Debian 12).
    static let libswscaleMajorVersion = 6

    /// Whether this build has the AVX2 passes (release builds on a CPU with AVX2).
    static var isAvailable: Bool {
        #if arch(x86_64) && MARQUEE_AVX2
        return true
        #else
        return false
        #endif
    }

    /// nil where `BicubicFilters` does not cover the sizes.
    init?(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int, tables: YUVToRGBTables) {
        guard let filters = BicubicFilters(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width, height: height)
        else { return nil }
        self.filters = filters
        self.tables = tables
        lines = ScaledLines(filters)
        sums = .allocate(capacity: 2 * width)
    }

    deinit {
        lines.deallocate()
        sums.deallocate()
    }

    /// y, u, v: the planes of a yuv420p frame and their line sizes; out: width·height·3 bytes.
    func scale(y: UnsafePointer<UInt8>, yStride: Int, u: UnsafePointer<UInt8>, uStride: Int,
               v: UnsafePointer<UInt8>, vStride: Int, into out: UnsafeMutablePointer<UInt8>) {
        #if arch(x86_64) && MARQUEE_AVX2
        filters.scaleAcross(lines: 0..<filters.source.height, y: y, yStride: yStride, u: u, uStride: uStride,
                            v: v, vStride: vStride, into: lines)
        scaleDown(lines, into: out)
        #endif
    }

    /// The second half: a frame whose lines are all scaled across, filtered down and converted to RGB.
    func scaleDown(_ lines: ScaledLines, into out: UnsafeMutablePointer<UInt8>) {
        #if arch(x86_64) && MARQUEE_AVX2
        let (width, height) = filters.destination
        let chromaWidth = width / 2
        // yuv2rgb24_X_c: each output row filters the scaled lines down, keeps bits 19 and up,
        // and looks the values up in the RGB tables; two pixels share one U and one V.
        let (ySums, uSums, vSums) = (sums, sums + width, sums + width + chromaWidth)
        for row in 0..<height {
            filters.lumaVertical.filterDown(lines.luma, row: row, into: ySums)
            filters.chromaVertical.filterDown(lines.u, row: row, into: uSums)
            filters.chromaVertical.filterDown(lines.v, row: row, into: vSums)
            let rowOut = out + row * width * 3
            for i in 0..<chromaWidth {
                let u = Int(uSums[i] >> 19) + YUVToRGBTables.headroom
                let v = Int(vSums[i] >> 19) + YUVToRGBTables.headroom
                let (r, g, b) = (Int(tables.red[v]), Int(tables.greenU[u]) + Int(tables.greenV[v]), Int(tables.blue[u]))
                for p in 0..<2 {
                    let luminance = Int(ySums[2 * i + p] >> 19)
                    let pixel = rowOut + (2 * i + p) * 3
                    pixel[0] = tables.y[r + luminance]
                    pixel[1] = tables.y[g + luminance]
                    pixel[2] = tables.y[b + luminance]
                }
            }
        }
        #endif
    }
}

/// libswscale's four filters for one source size and output size, where the passes here
/// reproduce its arithmetic.
struct BicubicFilters {
    let source: (width: Int, height: Int)
    let destination: (width: Int, height: Int)
    let lumaHorizontal: PaddedFilter
    let chromaHorizontal: PaddedFilter
    let lumaVertical: PaddedFilter
    let chromaVertical: PaddedFilter

    /// nil unless the frame shrinks to half its size or less in both directions: the passes
    /// here are faster than libswscale from a third down (1080p → 640x360: 3.8 against 4.4 ms)
    /// and about as fast at a half, slower for milder shrinks, and a same-size conversion is
    /// another path in libswscale altogether. nil also where libswscale takes another path than the one
    /// reproduced here: odd output widths (full chroma interpolation), one- and two-tap
    /// vertical filters (its bilinear output functions, which round differently), filters too
    /// long for one pass (a cascade of two scalers), in builds without AVX2, and with a
    /// libswscale of another major version than the one reproduced.
    init?(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) {
        #if arch(x86_64) && MARQUEE_AVX2
        guard Int(swscale_version() >> 16) == SwscaleBicubic.libswscaleMajorVersion,
              width % 2 == 0, width > 0, height > 0, 2 * width <= sourceWidth, 2 * height <= sourceHeight else { return nil }
        // RGB output keeps one chroma sample per two pixels across, one per row down.
        let (chromaWidth, chromaHeight) = ((sourceWidth + 1) / 2, (sourceHeight + 1) / 2)
        guard let lumaH = SwscaleFilter.bicubic(from: sourceWidth, to: width, align: 4, one: 1 << 14),
              let chromaH = SwscaleFilter.bicubic(from: chromaWidth, to: width / 2, align: 4, one: 1 << 14),
              let lumaV = SwscaleFilter.bicubic(from: sourceHeight, to: height, align: 2, one: 1 << 12),
              let chromaV = SwscaleFilter.bicubic(from: chromaHeight, to: height, align: 2, one: 1 << 12),
              !(lumaV.size == 1 && chromaV.size <= 2), !(lumaV.size == 2 && chromaV.size == 2),
              let lumaHorizontal = PaddedFilter(lumaH, sourceSize: sourceWidth, unpacking: true),
              let chromaHorizontal = PaddedFilter(chromaH, sourceSize: chromaWidth, unpacking: true),
              let lumaVertical = PaddedFilter(lumaV, sourceSize: sourceHeight, unpacking: false),
              let chromaVertical = PaddedFilter(chromaV, sourceSize: chromaHeight, unpacking: false)
        else { return nil }
        source = (sourceWidth, sourceHeight)
        destination = (width, height)
        self.lumaHorizontal = lumaHorizontal
        self.chromaHorizontal = chromaHorizontal
        self.lumaVertical = lumaVertical
        self.chromaVertical = chromaVertical
        #else
        return nil
        #endif
    }

    #if arch(x86_64) && MARQUEE_AVX2
    /// The first half for the luma lines `lines` and the chroma lines beside them: each line
    /// scaled across. Lines may come in bands, in any order, as long as every line of a frame
    /// comes before `SwscaleBicubic.scaleDown` reads them.
    func scaleAcross(lines: Range<Int>, y: UnsafePointer<UInt8>, yStride: Int, u: UnsafePointer<UInt8>, uStride: Int,
                     v: UnsafePointer<UInt8>, vStride: Int, into scaled: ScaledLines) {
        lumaHorizontal.scaleLines(lines, of: y, stride: yStride, into: scaled.luma)
        // 4:2:0: chroma line c sits beside luma lines 2c and 2c + 1.
        let chroma = (lines.lowerBound / 2)..<min((lines.upperBound + 1) / 2, scaled.u.lines)
        chromaHorizontal.scaleLines(chroma, of: u, stride: uStride, into: scaled.u)
        chromaHorizontal.scaleLines(chroma, of: v, stride: vStride, into: scaled.v)
    }
    #endif
}

/// Every line of one frame's three planes scaled across: what the vertical pass reads.
struct ScaledLines {
    let luma: PaddedFilter.Columns
    let u: PaddedFilter.Columns
    let v: PaddedFilter.Columns

    init(_ filters: BicubicFilters) {
        let (width, sourceHeight) = (filters.destination.width, filters.source.height)
        luma = PaddedFilter.Columns(count: width, lines: sourceHeight)
        u = PaddedFilter.Columns(count: width / 2, lines: (sourceHeight + 1) / 2)
        v = PaddedFilter.Columns(count: width / 2, lines: (sourceHeight + 1) / 2)
    }

    func deallocate() {
        luma.deallocate()
        u.deallocate()
        v.deallocate()
    }
}

/// One direction of a libswscale scaling filter: output i is
/// Σ_j coefficients[i·size + j] · input[positions[i] + j].
struct SwscaleFilter {
    var positions: [Int]
    var coefficients: [Int16]
    var size: Int

    /// libswscale's `initFilter` for SWS_BICUBIC with its default parameters (B = 0, C = 0.6),
    /// no extra source or destination filter, both grids centred on the pixel (position 128),
    /// and the x86 alignment of the filter length (`align`: 4 across, 2 down). Coefficients
    /// sum to `one` (1 << 14 across, 1 << 12 down). nil where libswscale would refuse the
    /// filter as too long and cascade two scalers instead.
    static func bicubic(from sourceSize: Int, to destinationSize: Int, align: Int, one: Int) -> SwscaleFilter? {
        let (srcW, dstW) = (sourceSize, destinationSize)
        let xInc = Int64((srcW << 16) + (dstW >> 1)) / Int64(dstW)
        let fone: Int64 = 1 << (54 - min(log2(srcW / dstW), 8))
        let maximumReduceCutoff = 0.002 * Double(fone)   // SWS_MAX_REDUCE_CUTOFF · fone
        var filterPos = [Int](repeating: 0, count: dstW)
        var filter: [Int64]
        var filterSize: Int

        if abs(xInc - 0x10000) < 10 {   // unscaled (source and destination positions are equal)
            filterSize = 1
            filter = [Int64](repeating: fone, count: dstW)
            for i in 0..<dstW { filterPos[i] = i }
        } else {
            let sizeFactor = 4
            filterSize = xInc <= 1 << 16 ? 1 + sizeFactor : 1 + (sizeFactor * srcW + dstW - 1) / dstW
            filterSize = max(min(filterSize, srcW - 2), 1)
            filter = [Int64](repeating: 0, count: dstW * filterSize)
            let position: Int64 = 128
            var xDstInSrc = ((position * xInc) >> 7) - ((position * 0x10000) >> 7)
            let b: Int64 = 0, c = Int64(0.6 * Double(1 << 24))
            for i in 0..<dstW {
                var xx = Int((xDstInSrc - Int64(filterSize - 2) * (1 << 16)) / (1 << 17))
                filterPos[i] = xx
                for j in 0..<filterSize {
                    var d = abs(Int64(xx) * (1 << 17) - xDstInSrc) << 13
                    if xInc > 1 << 16 { d = d * Int64(dstW) / Int64(srcW) }
                    var coefficient: Int64 = 0
                    if d < 1 << 31 {
                        let dd = (d * d) >> 30
                        let ddd = (dd * d) >> 30
                        if d < 1 << 30 {
                            coefficient = (12 * (1 << 24) - 9 * b - 6 * c) * ddd
                                + (-18 * (1 << 24) + 12 * b + 6 * c) * dd
                                + (6 * (1 << 24) - 2 * b) * (1 << 30)
                        } else {
                            coefficient = (-b - 6 * c) * ddd + (6 * b + 30 * c) * dd
                                + (-12 * b - 48 * c) * d + (8 * b + 24 * c) * (1 << 30)
                        }
                    }
                    coefficient /= (1 << 54) / fone
                    filter[i * filterSize + j] = coefficient
                    xx += 1
                }
                xDstInSrc += 2 * xInc
            }
        }

        // Reduce: drop near-zero coefficients on the left (shifting the filter right) and
        // find the longest run that is not near zero on the right.
        let wide = filterSize
        var minFilterSize = 0
        for i in stride(from: dstW - 1, through: 0, by: -1) {
            let row = i * wide
            var cutOff: Int64 = 0
            for _ in 0..<wide {
                cutOff += abs(filter[row])
                if Double(cutOff) > maximumReduceCutoff { break }
                if i < dstW - 1 && filterPos[i] >= filterPos[i + 1] { break }   // keep positions increasing
                for k in 1..<wide { filter[row + k - 1] = filter[row + k] }
                filter[row + wide - 1] = 0
                filterPos[i] += 1
            }
            var kept = wide
            cutOff = 0
            for j in stride(from: wide - 1, to: 0, by: -1) {
                cutOff += abs(filter[row + j])
                if Double(cutOff) > maximumReduceCutoff { break }
                kept -= 1
            }
            minFilterSize = max(minFilterSize, kept)
        }
        let alignment = minFilterSize == 1 && align == 2 ? 1 : align
        filterSize = (minFilterSize + alignment - 1) & ~(alignment - 1)
        if filterSize >= 256 { return nil }   // MAX_FILTER_SIZE: libswscale cascades
        var reduced = [Int64](repeating: 0, count: dstW * filterSize)
        for i in 0..<dstW {
            for j in 0..<min(filterSize, wide) { reduced[i * filterSize + j] = filter[i * wide + j] }
        }

        // Borders: fold the coefficients that fall outside the source onto its edge pixels.
        for i in 0..<dstW {
            let row = i * filterSize
            if filterPos[i] < 0 {
                for j in 1..<max(filterSize, 1) {
                    let left = max(j + filterPos[i], 0)
                    reduced[row + left] += reduced[row + j]
                    reduced[row + j] = 0
                }
                filterPos[i] = 0
            }
            if filterPos[i] + filterSize > srcW {
                let shift = filterPos[i] + min(filterSize - srcW, 0)
                var outside: Int64 = 0
                for j in stride(from: filterSize - 1, through: 0, by: -1) where filterPos[i] + j >= srcW {
                    outside += reduced[row + j]
                    reduced[row + j] = 0
                }
                for j in stride(from: filterSize - 1, through: 0, by: -1) {
                    reduced[row + j] = j < shift ? 0 : reduced[row + j - shift]
                }
                filterPos[i] -= shift
                reduced[row + srcW - 1 - filterPos[i]] += outside
            }
        }

        // Normalize to `one`, carrying each coefficient's rounding error into the next.
        var coefficients = [Int16](repeating: 0, count: dstW * filterSize)
        for i in 0..<dstW {
            let row = i * filterSize
            var sum: Int64 = 0
            for j in 0..<filterSize { sum += reduced[row + j] }
            sum = (sum + Int64(one / 2)) / Int64(one)
            if sum == 0 { sum = 1 }
            var error: Int64 = 0
            for j in 0..<filterSize {
                let v = reduced[row + j] + error
                let rounded = (v >= 0 ? v + (sum >> 1) : v - (sum >> 1)) / sum   // ROUNDED_DIV
                coefficients[row + j] = Int16(truncatingIfNeeded: rounded)
                error = v - rounded * sum
            }
        }
        return SwscaleFilter(positions: filterPos, coefficients: coefficients, size: filterSize)
    }

    /// av_log2: the index of the highest set bit, 0 for 0.
    private static func log2(_ x: Int) -> Int { Int.bitWidth - 1 - (x | 1).leadingZeroBitCount }
}

/// A SwscaleFilter laid out for AVX2: taps padded with zeros to a multiple of 16, each window
/// starting where it reads only inside the source, and, across, each 32-tap block's
/// coefficients in the order that unpacking 32 pixel bytes delivers them.
struct PaddedFilter {
    /// First source pixel (or line) of each output's window.
    let starts: [Int]
    let coefficients: [Int16]
    let taps: Int
    var outputs: Int { starts.count }

    init?(_ filter: SwscaleFilter, sourceSize: Int, unpacking: Bool) {
        let taps = (filter.size + 15) / 16 * 16
        // A filter longer than the source has zero taps past its end, which would land
        // outside the padded window.
        guard taps <= sourceSize, filter.positions.allSatisfy({ $0 >= 0 && $0 + filter.size <= sourceSize }) else { return nil }
        var starts: [Int] = [], coefficients: [Int16] = []
        for (i, position) in filter.positions.enumerated() {
            // Padding after the window could run past the source's end: move the window left
            // and pad before it instead.
            let start = min(position, sourceSize - taps)
            var padded = [Int16](repeating: 0, count: taps)
            for j in 0..<filter.size { padded[position - start + j] = filter.coefficients[i * filter.size + j] }
            starts.append(start)
            coefficients += unpacking ? Self.unpackingOrder(padded) : padded
        }
        self.starts = starts
        self.coefficients = coefficients
        self.taps = taps
    }

    /// Unpacking 32 bytes against zero gives pixels 0–7 and 16–23 (low), then 8–15 and 24–31
    /// (high); a last block of 16 is widened in order.
    static func unpackingOrder<T>(_ taps: [T]) -> [T] {
        var ordered: [T] = []
        var block = 0
        while block + 32 <= taps.count {
            for range in [0..<8, 16..<24, 8..<16, 24..<32] { ordered += range.map { taps[block + $0] } }
            block += 32
        }
        return ordered + taps[block...]
    }

    /// Horizontally scaled lines, stored by output column so that a vertical window is
    /// contiguous (the padded vertical windows end inside the column).
    struct Columns {
        let base: UnsafeMutablePointer<Int16>
        let count: Int
        let lines: Int
        let stride: Int

        init(count: Int, lines: Int) {
            self.count = count
            self.lines = lines
            stride = (lines + 15) / 16 * 16
            base = .allocate(capacity: count * stride)
            base.initialize(repeating: 0, count: count * stride)
        }

        func deallocate() { base.deallocate() }
    }

    #if arch(x86_64) && MARQUEE_AVX2
    /// hScale8To15 on the lines `lines`: columns[x][line] = min(Σ coefficient · pixel >> 7, 32767).
    /// Reads no line outside `lines`.
    func scaleLines(_ lines: Range<Int>, of source: UnsafePointer<UInt8>, stride: Int, into columns: Columns) {
        let pairedTaps = taps / 32 * 32
        coefficients.withUnsafeBufferPointer { coefficientBuffer in
            let coefficients = coefficientBuffer.baseAddress!
            let zero = _mm256_setzero_si256(), largest = _mm_set1_epi32(32767)
            // The lines two blocks ahead are fetched while this block is computed, a few cache
            // lines per output: a frame just decoded on another core is rarely in this one's cache.
            // (Near the end some of those lines lie past the plane; a prefetch never faults.)
            let lineBytes = (starts.last ?? 0) + taps
            let cacheLinesPerLine = (lineBytes + 63) / 64
            let prefetchesPerOutput = (8 * cacheLinesPerLine + outputs - 1) / outputs
            // (Not for a band of a frame being decoded: it is read right after it was written.)
            let wholePlane = lines == 0..<columns.lines
            let prefetchOffsets: [Int] = !wholePlane ? [] : (0..<(outputs * prefetchesPerOutput)).map { k in
                let (aheadLine, cacheLine) = min(k, 8 * cacheLinesPerLine - 1).quotientAndRemainder(dividingBy: cacheLinesPerLine)
                return aheadLine * stride + cacheLine * 64
            }
            // Eight lines share each coefficient load; past the last line, the block repeats it
            // and those sums are not kept.
            let end = lines.upperBound
            var line = lines.lowerBound
            while line < end {
                let row = { (i: Int) in source + min(line &+ i, end - 1) &* stride }
                let rows = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
                let ahead = wholePlane && line + 16 < end ? source + (line + 16) &* stride : nil
                for x in 0..<outputs {
                    if let ahead {
                        for k in 0..<prefetchesPerOutput {
                            marquee_prefetch(ahead + prefetchOffsets[x &* prefetchesPerOutput &+ k])
                        }
                    }
                    let start = starts[x]
                    let filter = coefficients + x &* taps
                    var a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero
                    var tap = 0
                    while tap < pairedTaps {
                        let low = Self.load(filter + tap), high = Self.load(filter + tap + 16)
                        @inline(__always) func add32(_ row: UnsafePointer<UInt8>, to sum: __m256i) -> __m256i {
                            let pixels = _mm256_loadu_si256(UnsafeRawPointer(row + start + tap).assumingMemoryBound(to: __m256i.self))
                            return _mm256_add_epi32(sum, _mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi8(pixels, zero), low),
                                                                         _mm256_madd_epi16(_mm256_unpackhi_epi8(pixels, zero), high)))
                        }
                        a0 = add32(rows.0, to: a0); a1 = add32(rows.1, to: a1); a2 = add32(rows.2, to: a2); a3 = add32(rows.3, to: a3)
                        a4 = add32(rows.4, to: a4); a5 = add32(rows.5, to: a5); a6 = add32(rows.6, to: a6); a7 = add32(rows.7, to: a7)
                        tap += 32
                    }
                    if tap < taps {
                        let c = Self.load(filter + tap)
                        @inline(__always) func add16(_ row: UnsafePointer<UInt8>, to sum: __m256i) -> __m256i {
                            let pixels = _mm_loadu_si128(UnsafeRawPointer(row + start + tap).assumingMemoryBound(to: __m128i.self))
                            return _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_cvtepu8_epi16(pixels), c))
                        }
                        a0 = add16(rows.0, to: a0); a1 = add16(rows.1, to: a1); a2 = add16(rows.2, to: a2); a3 = add16(rows.3, to: a3)
                        a4 = add16(rows.4, to: a4); a5 = add16(rows.5, to: a5); a6 = add16(rows.6, to: a6); a7 = add16(rows.7, to: a7)
                    }
                    let low4 = _mm_min_epi32(_mm_srai_epi32(Self.sumLanes(a0, a1, a2, a3), 7), largest)
                    let high4 = _mm_min_epi32(_mm_srai_epi32(Self.sumLanes(a4, a5, a6, a7), 7), largest)
                    let scaled = _mm_packs_epi32(low4, high4)
                    let destination = columns.base + (x &* columns.stride &+ line)
                    if line + 8 <= end {
                        _mm_storeu_si128(UnsafeMutableRawPointer(destination).assumingMemoryBound(to: __m128i.self), scaled)
                    } else {
                        let values = unsafeBitCast(scaled, to: SIMD8<Int16>.self)
                        for i in 0..<(end - line) { destination[i] = values[i] }
                    }
                }
                line += 8
            }
        }
    }

    /// sums[x] = (1 << 18) + Σ_j coefficient[row][j] · columns[x][start[row] + j], as
    /// yuv2rgb24_X_c sums in Int32.
    func filterDown(_ columns: Columns, row: Int, into sums: UnsafeMutablePointer<Int32>) {
        coefficients.withUnsafeBufferPointer { coefficientBuffer in
            let filter = coefficientBuffer.baseAddress! + row &* taps
            let start = starts[row]
            var x = 0
            while x < columns.count {
                // Four columns at a time.
                let column = { (i: Int) -> UnsafePointer<Int16> in
                    let index: Int = min(x &+ i, columns.count - 1) &* columns.stride &+ start
                    return UnsafePointer(columns.base + index)
                }
                let (c0, c1, c2, c3) = (column(0), column(1), column(2), column(3))
                var a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0
                var tap = 0
                while tap < taps {
                    let c = Self.load(filter + tap)
                    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(Self.load(c0 + tap), c))
                    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(Self.load(c1 + tap), c))
                    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(Self.load(c2 + tap), c))
                    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(Self.load(c3 + tap), c))
                    tap += 16
                }
                let total = unsafeBitCast(Self.sumLanes(a0, a1, a2, a3), to: SIMD4<Int32>.self) &+ (1 << 18)
                for i in 0..<min(4, columns.count - x) { sums[x + i] = total[i] }
                x += 4
            }
        }
    }

    /// Lane i: the sum of the eight lanes of accumulator i.
    @inline(__always)
    private static func sumLanes(_ a0: __m256i, _ a1: __m256i, _ a2: __m256i, _ a3: __m256i) -> __m128i {
        let pairs = unsafeBitCast(_mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3)), to: SIMD8<Int32>.self)
        return unsafeBitCast(pairs.lowHalf &+ pairs.highHalf, to: __m128i.self)
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Int16>) -> __m256i {
        _mm256_loadu_si256(UnsafeRawPointer(p).assumingMemoryBound(to: __m256i.self))
    }
    #endif
}

/// libswscale's lookup tables for YUV → RGB24 (`ff_yuv2rgb_c_init_tables`, 24 bits per pixel):
/// a table of clipped luma values, and per chroma value the offset into it that adds that
/// chroma's contribution to red, green or blue.
struct YUVToRGBTables {
    static let headroom = 512   // YUVRGB_TABLE_HEADROOM: chroma indices are offset by it
    /// av_clip_uint8 of scaled luma, 1024 + 2·512 entries.
    let y: [UInt8]
    /// Offsets into `y`, indexed by chroma + headroom (256 + 2·512 entries).
    let red: [Int32], greenU: [Int32], greenV: [Int32], blue: [Int32]

    /// inverse: libswscale's inverse colour table (v→r, u→b, u→g, v→g coefficients), as
    /// sws_getColorspaceDetails reports it for the context.
    init(inverse: (Int32, Int32, Int32, Int32), fullRange: Bool, brightness: Int32, contrast: Int32, saturation: Int32) {
        let lumaHeadroom = 512
        let yOffset = (fullRange ? 384 : 326) + lumaHeadroom
        var crv = Int64(inverse.0), cbu = Int64(inverse.1), cgu = -Int64(inverse.2), cgv = -Int64(inverse.3)
        var cy: Int64 = 1 << 16, oy: Int64 = 0
        if !fullRange {
            cy = cy * 255 / 219
            oy = 16 << 16
        } else {
            crv = crv * 224 / 255
            cbu = cbu * 224 / 255
            cgu = cgu * 224 / 255
            cgv = cgv * 224 / 255
        }
        let (contrast, saturation) = (Int64(contrast), Int64(saturation))
        cy = (cy * contrast) >> 16
        crv = (crv * contrast * saturation) >> 32
        cbu = (cbu * contrast * saturation) >> 32
        cgu = (cgu * contrast * saturation) >> 32
        cgv = (cgv * contrast * saturation) >> 32
        oy -= 256 * Int64(brightness)
        // Chroma coefficients relative to the luma scale.
        let scaled = { (k: Int64) in (k * (1 << 16) + 0x8000) / max(cy, 1) }
        (crv, cbu, cgu, cgv) = (scaled(crv), scaled(cbu), scaled(cgu), scaled(cgv))

        var y = [UInt8](repeating: 0, count: 1024 + 2 * lumaHeadroom)
        var yb = -(384 << 16) - Int64(lumaHeadroom) * cy - oy
        for i in y.indices {
            y[i] = UInt8(clamping: (yb + 0x8000) >> 16)
            yb += cy
        }
        self.y = y
        let entries = 256 + 2 * Self.headroom
        func offsets(_ increment: Int64, base: Int) -> [Int32] {
            (0..<entries).map { i in
                let chroma = Int64(min(max(i - Self.headroom, 0), 255))
                return Int32(Int64(base) - (increment >> 9) + ((chroma * increment) >> 16))
            }
        }
        red = offsets(crv, base: yOffset)
        greenU = offsets(cgu, base: yOffset)
        blue = offsets(cbu, base: yOffset)
        greenV = offsets(cgv, base: 0)
    }
}
