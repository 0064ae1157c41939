// 3x3 convolution, stride 1, padding 1, by Winograd's minimal filtering F(m x m, 3x3), m = 4 or 6.
//
// Each m x m block of outputs comes from an (m+2) x (m+2) block of inputs with (m+2)² multiplications
// per (in, out) channel pair instead of 9m²: the input tile d and the kernel g are transformed,
// multiplied elementwise, and transformed back (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015):
//
//     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// Summed over input channels, the elementwise products become (m+2)² independent GEMMs, one per
// position ξ of the tile: M[ξ] (tiles x Cout) = V[ξ] (tiles x Cin) · U[ξ] (Cin x Cout).
// F(4x4, 3x3) (interpolation points 0, ±1, ±2) does 36/16 = 2.25 GEMM rows per output,
// F(6x6, 3x3) (0, ±1, ±2, ±1/2) 64/36 = 1.78 and fits maps whose sides are multiples of 6
// (TransNetV2's 6x12) without computing rows past the edge, at the cost of 64/36 times the
// transformed kernels and products to keep near the caches. Work is split into chunks of tiles;
// each thread transforms its chunk's inputs, runs the GEMMs (the 6x16 micro-kernel of
// Gemm.swift) and transforms the products back into the output, adding the bias and the
// activation. The kernel transform is done once in Double; the input and output transforms
// use small constant coefficients (up to 21/4 and 32 for m = 6), so results differ from direct
// convolution by float rounding: about 1e-6 relative for m = 4, about ten times that for m = 6.

/// Transformed 3x3 kernels: (m+2)² packed Cin x Cout matrices, U[ξ] = (G g Gᵀ)[ξ].
public struct Winograd3x3Weights: @unchecked Sendable {
    public let outChannels: Int
    public let inChannels: Int
    /// m: each tile gives m x m outputs from (m+2) x (m+2) inputs.
    public let tileSize: Int
    let matrices: [PackedMatrix]
    let bias: TensorStorage

    /// G for F(4x4, 3x3), 6 x 3, row-major.
    static let g4: [Double] = [1.0 / 4, 0, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
                               1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6, 0, 0, 1]
    /// G for F(6x6, 3x3), 8 x 3, row-major.
    static let g6: [Double] = [1, 0, 0, -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9, 2.0 / 9, -2.0 / 9,
                               1.0 / 90, 1.0 / 45, 2.0 / 45, 1.0 / 90, -1.0 / 45, 2.0 / 45,
                               32.0 / 45, 16.0 / 45, 8.0 / 45, 32.0 / 45, -16.0 / 45, 8.0 / 45, 0, 0, 1]

    /// From PyTorch's layout: weight [out, in, 3, 3], bias [out] (or none); `tileSize` 4 or 6.
    public init(oihw weight: [Float], bias: [Float]?, outChannels: Int, inChannels: Int, tileSize: Int = 4) {
        precondition(weight.count == outChannels * inChannels * 9,
                     "winograd weight has \(weight.count) values, expected [\(outChannels), \(inChannels), 3, 3]")
        precondition(bias == nil || bias!.count == outChannels, "winograd bias has \(bias!.count) values for \(outChannels) channels")
        precondition(tileSize == 4 || tileSize == 6, "winograd tiles are 4x4 or 6x6, not \(tileSize)")
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.tileSize = tileSize
        let g = tileSize == 4 ? Self.g4 : Self.g6
        let alpha = tileSize + 2, points = alpha * alpha
        // One Cin x Cout matrix per point ξ of the transformed tile, written in place.
        let packed = (0..<points).map { _ in PackedMatrix(rows: inChannels, columns: outChannels) }
        let targets = packed.map(\.panels)
        weight.withUnsafeBufferPointer { weight in
        targets.withUnsafeBufferPointer { targets in
        g.withUnsafeBufferPointer { g in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: alpha * 3) { gk in
            for i in 0..<inChannels {
                for o in 0..<outChannels {
                    let k = weight.baseAddress! + (o * inChannels + i) * 9
                    // G k: alpha x 3
                    for r in 0..<alpha {
                        for c in 0..<3 {
                            gk[r * 3 + c] = g[r * 3] * Double(k[c]) + g[r * 3 + 1] * Double(k[3 + c])
                                + g[r * 3 + 2] * Double(k[6 + c])
                        }
                    }
                    // (G k) Gᵀ: alpha x alpha
                    let at = packed[0].offset(i, o)
                    for r in 0..<alpha {
                        for c in 0..<alpha {
                            let v = gk[r * 3] * g[c * 3] + gk[r * 3 + 1] * g[c * 3 + 1] + gk[r * 3 + 2] * g[c * 3 + 2]
                            targets[r * alpha + c][at] = Float(v)
                        }
                    }
                }
            }
        }
        }
        }
        }
        matrices = packed
        self.bias = TensorStorage(capacity: outChannels)
        if let bias { for o in 0..<outChannels { self.bias.pointer[o] = bias[o] } }
    }
}

/// Tiles per chunk. Every chunk streams all the transformed kernels ((m+2)²·Cin·Cout floats)
/// past its tiles, so layers with large kernels take more tiles per chunk to use each weight
/// more often, though their V and M then outgrow L2. The largest (TransNetV2's block 2, F(6x6)
/// kernels of 17 and 34 MB, as large as L3) take 100: its 200 tiles a call are then one chunk per
/// thread and each thread reads the kernels once (96 left a third chunk of 8 tiles that read
/// them all again; block 2 went from 60-63 to 57 ms a window).
func winogradChunkTiles(inChannels: Int, outChannels: Int) -> Int {
    let weights = inChannels * outChannels
    return weights <= 64 * 128 ? 24 : weights <= 128 * 256 ? 48 : 100
}

/// out[N, H, W, Cout] = conv3x3(in[N, H, W, Cin], stride 1, zero padding 1) + bias, then the activation.
///
/// With `rows`, only those output rows are computed (the range starts on a multiple of the
/// tile size) and `out` holds just them: [N, rows.count, W, Cout]. A caller that consumes
/// the output band by band keeps each band in the cache.
public func winogradConv3x3(out: Tensor, in input: Tensor, weights: Winograd3x3Weights, rows: Range<Int>? = nil,
                            activation: Activation = .none, pool: ThreadPool = .shared) {
    precondition(input.rank == 4 && input.c == weights.inChannels,
                 "winograd: input \(input.shape) for \(weights.inChannels) in-channels")
    let band = rows ?? 0..<input.h
    let size = weights.tileSize
    precondition(band.lowerBound % size == 0 && band.lowerBound >= 0 && band.upperBound <= input.h,
                 "winograd: rows \(band) of \(input.h) do not start on a tile")
    precondition(out.shape == [input.n, band.count, input.w, weights.outChannels],
                 "winograd: out \(out.shape) for rows \(band) of input \(input.shape)")
    let (cin, cout) = (input.c, weights.outChannels)
    let (firstRow, bandH) = (band.lowerBound, band.count)
    guard out.count > 0, cin > 0 else {
        if out.count > 0 { for p in 0..<(out.count / cout) { for o in 0..<cout { out.data[p * cout + o] = activation.apply(weights.bias.pointer[o]) } } }
        return
    }
    if size == 4 {
        winogradTiles(WinogradF4.self, out: out, in: input, weights: weights, firstRow: firstRow, bandH: bandH,
                      activation: activation, pool: pool)
    } else {
        winogradTiles(WinogradF6.self, out: out, in: input, weights: weights, firstRow: firstRow, bandH: bandH,
                      activation: activation, pool: pool)
    }
}

/// The work of `winogradConv3x3` for one tile size, specialized for it.
private func winogradTiles<Size: WinogradTileSize>(
    _: Size.Type, out: Tensor, in input: Tensor, weights: Winograd3x3Weights, firstRow: Int, bandH: Int,
    activation: Activation, pool: ThreadPool
) {
    let (n, h, w, cin, cout) = (input.n, input.h, input.w, input.c, weights.outChannels)
    let alpha = Size.alpha, size = alpha - 2, points = alpha * alpha
    let tilesH = (bandH + size - 1) / size, tilesW = (w + size - 1) / size
    let tiles = n * tilesH * tilesW
    let chunkTiles = winogradChunkTiles(inChannels: cin, outChannels: cout)
    let chunks = (tiles + chunkTiles - 1) / chunkTiles
    let src = UnsafePointer(input.data), dst = out.data
    let bias = UnsafePointer(weights.bias.pointer)
    let zeros = TensorStorage(capacity: cin)
    let zero = UnsafePointer(zeros.pointer)
    let work = 2 * tiles * points * cin * cout
    let epilogue = Epilogue(activation)
    /// The image of a tile and its top-left output pixel in the band.
    @inline(__always) func origin(_ tile: Int) -> (image: Int, y0: Int, x0: Int) {
        let image = tile / (tilesH * tilesW)
        let rem = tile - image * tilesH * tilesW
        let ty = rem / tilesW
        return (image, size * ty, size * (rem - ty * tilesW))
    }
    pool.parallelFor(count: chunks, work: work) { range in
        let v = UnsafeMutablePointer<Float>.allocate(capacity: points * chunkTiles * cin)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: points * chunkTiles * cout)
        let pixels = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: points)
        let scratch = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: points)
        defer { v.deallocate(); m.deallocate(); pixels.deallocate(); scratch.deallocate() }
        for chunk in range {
            let first = chunk * chunkTiles
            let count = min(chunkTiles, tiles - first)
            // V[ξ][tile][c] = (Bᵀ d B)[ξ]
            for t in 0..<count {
                let (image, y0, x0) = origin(first + t)
                for i in 0..<alpha {
                    let y = firstRow + y0 - 1 + i
                    for j in 0..<alpha {
                        let x = x0 - 1 + j
                        pixels[i * alpha + j] = y >= 0 && y < h && x >= 0 && x < w ? src + ((image * h + y) * w + x) * cin : zero
                    }
                }
                winogradInputTile(pixels, size: Size.self, channels: cin, out: v + t * cin, stride: chunkTiles * cin, scratch: scratch)
            }
            // M[ξ] = V[ξ] · U[ξ], stored tile by tile (M[tile][ξ][c]) so that the output
            // transform reads each tile's products in one sequential run, not from (m+2)² places.
            for xi in 0..<points {
                let a = UnsafePointer(v + xi * chunkTiles * cin)
                indirectGemm(m: count, taps: 1, depth: cin, b: weights.matrices[xi], activation: .none,
                             out: m + xi * cout, ldc: points * cout, pool: .serial) { m0, rows, ind in
                    for r in 0..<gemmTileRows { ind[r] = a + (m0 + min(r, rows - 1)) * cin }
                }
            }
            // Y = Aᵀ M A + bias
            for t in 0..<count {
                let (image, y0, x0) = origin(first + t)
                winogradOutputTile(m + t * points * cout, size: Size.self, stride: cout, channels: cout, bias: bias,
                                   epilogue: epilogue, out: dst + ((image * bandH + y0) * w + x0) * cout, rowStride: w * cout,
                                   rows: min(size, bandH - y0), columns: min(size, w - x0), scratch: scratch)
            }
        }
    }
}

/// Bᵀ x for one 6-vector x (a column or a row of a 6x6 tile), F(4x4, 3x3); on its own, F(4, 3)
/// (the temporal convolutions of TemporalConvolution.swift).
@inline(__always)
func winogradInputTransform(_ x0: SIMD16<Float>, _ x1: SIMD16<Float>, _ x2: SIMD16<Float>,
                            _ x3: SIMD16<Float>, _ x4: SIMD16<Float>, _ x5: SIMD16<Float>,
                            _ store: (Int, SIMD16<Float>) -> Void) {
    let four = SIMD16<Float>(repeating: 4), five = SIMD16<Float>(repeating: 5), two = SIMD16<Float>(repeating: 2)
    let a = x4 - x2, b = x1 - x3
    store(0, fma16(four, x0, fma16(-five, x2, x4)))
    store(1, fma16(-four, x1 + x2, x3 + x4))
    store(2, fma16(four, x1 - x2, x4 - x3))
    store(3, fma16(-two, b, a))
    store(4, fma16(two, b, a))
    store(5, fma16(four, x1, fma16(-five, x3, x5)))
}

/// Bᵀ x for one 8-vector x (a column or a row of an 8x8 tile), F(6x6, 3x3): the rows of Bᵀ
/// pair up as even ± odd parts.
@inline(__always)
func winogradInputTransform8(_ x0: SIMD16<Float>, _ x1: SIMD16<Float>, _ x2: SIMD16<Float>, _ x3: SIMD16<Float>,
                             _ x4: SIMD16<Float>, _ x5: SIMD16<Float>, _ x6: SIMD16<Float>, _ x7: SIMD16<Float>,
                             _ store: (Int, SIMD16<Float>) -> Void) {
    @inline(__always) func k(_ value: Float) -> SIMD16<Float> { SIMD16(repeating: value) }
    store(0, fma16(k(5.25), x4 - x2, x0 - x6))
    let even1 = fma16(k(-4.25), x4, x2 + x6), odd1 = fma16(k(-4.25), x3, x1 + x5)
    store(1, even1 + odd1)
    store(2, even1 - odd1)
    let even2 = fma16(k(0.25), x2, fma16(k(-1.25), x4, x6)), odd2 = fma16(k(0.5), x1, fma16(k(-2.5), x3, x5 + x5))
    store(3, even2 + odd2)
    store(4, even2 - odd2)
    let even3 = fma16(k(4), x2, fma16(k(-5), x4, x6)), odd3 = fma16(k(2), x1, fma16(k(-2.5), x3, k(0.5) * x5))
    store(5, even3 + odd3)
    store(6, even3 - odd3)
    store(7, fma16(k(5.25), x3 - x5, x7 - x1))
}

/// Aᵀ m for one 6-vector m: the four outputs, F(4x4, 3x3); on its own, F(4, 3).
@inline(__always)
func winogradOutputTransform(_ m0: SIMD16<Float>, _ m1: SIMD16<Float>, _ m2: SIMD16<Float>,
                             _ m3: SIMD16<Float>, _ m4: SIMD16<Float>, _ m5: SIMD16<Float>,
                             _ store: (Int, SIMD16<Float>) -> Void) {
    let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
    store(0, m0 + a + c)
    store(1, fma16(SIMD16(repeating: 2), d, b))
    store(2, fma16(SIMD16(repeating: 4), c, a))
    store(3, fma16(SIMD16(repeating: 8), d, b + m5))
}

/// Aᵀ m for one 8-vector m: the six outputs, F(6x6, 3x3).
@inline(__always)
func winogradOutputTransform8(_ m0: SIMD16<Float>, _ m1: SIMD16<Float>, _ m2: SIMD16<Float>, _ m3: SIMD16<Float>,
                              _ m4: SIMD16<Float>, _ m5: SIMD16<Float>, _ m6: SIMD16<Float>, _ m7: SIMD16<Float>,
                              _ store: (Int, SIMD16<Float>) -> Void) {
    @inline(__always) func k(_ value: Float) -> SIMD16<Float> { SIMD16(repeating: value) }
    let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4, e = m5 + m6, f = m5 - m6
    store(0, m0 + a + c + e)
    store(1, fma16(k(2), d, fma16(k(0.5), f, b)))
    store(2, fma16(k(4), c, fma16(k(0.25), e, a)))
    store(3, fma16(k(8), d, fma16(k(0.125), f, b)))
    store(4, fma16(k(16), c, fma16(k(0.0625), e, a)))
    store(5, fma16(k(32), d, fma16(k(0.03125), f, b + m7)))
}

/// A tile size: its 1D transforms, as static functions so that each tile function below is
/// specialized for one size, with its loops over a constant alpha fully unrolled.
protocol WinogradTileSize {
    /// Input points per tile side, m + 2.
    static var alpha: Int { get }
    static func inputLine(_ x: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void)
    static func outputLine(_ x: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void)
}

/// F(4x4, 3x3).
enum WinogradF4: WinogradTileSize {
    static var alpha: Int { 6 }
    @inline(__always)
    static func inputLine(_ x: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        winogradInputTransform(x(0), x(1), x(2), x(3), x(4), x(5), store)
    }
    @inline(__always)
    static func outputLine(_ x: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        winogradOutputTransform(x(0), x(1), x(2), x(3), x(4), x(5), store)
    }
}

/// F(6x6, 3x3).
enum WinogradF6: WinogradTileSize {
    static var alpha: Int { 8 }
    @inline(__always)
    static func inputLine(_ x: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        winogradInputTransform8(x(0), x(1), x(2), x(3), x(4), x(5), x(6), x(7), store)
    }
    @inline(__always)
    static func outputLine(_ x: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        winogradOutputTransform8(x(0), x(1), x(2), x(3), x(4), x(5), x(6), x(7), store)
    }
}

/// V[ξ] = (Bᵀ d B)[ξ] for one alpha x alpha tile, `channels` wide: d[i * alpha + j] points at
/// the input pixel (row i, column j) of the tile; V[ξ] is written at out + ξ * stride.
/// `scratch` holds alpha² vectors.
func winogradInputTile<Size: WinogradTileSize>(
    _ d: UnsafePointer<UnsafePointer<Float>>, size: Size.Type, channels: Int,
    out: UnsafeMutablePointer<Float>, stride: Int, scratch t: UnsafeMutablePointer<SIMD16<Float>>
) {
    let alpha = Size.alpha
    var c = 0
    while c < channels {
        let lanes = min(16, channels - c)
        @inline(__always) func load(_ k: Int) -> SIMD16<Float> {
            lanes == 16 ? load16(d[k] + c) : loadPartial16(d[k] + c, lanes)
        }
        // Bᵀ d, column by column, into t; then (Bᵀ d) B, row by row, into V.
        for j in 0..<alpha {
            Size.inputLine({ load($0 * alpha + j) }) { i, value in t[i * alpha + j] = value }
        }
        for i in 0..<alpha {
            let row = t + i * alpha
            Size.inputLine({ row[$0] }) { j, value in
                let p = out + (i * alpha + j) * stride + c
                if lanes == 16 { store16(value, p) } else { storePartial16(value, p, lanes) }
            }
        }
        c += 16
    }
}

/// The m x m outputs (m = alpha - 2) of one tile from its alpha² products M[ξ] (at
/// m + ξ * stride), plus bias and activation, written for the `rows` x `columns` of them
/// inside the image. `scratch` holds m * alpha vectors.
func winogradOutputTile<Size: WinogradTileSize>(
    _ m: UnsafeMutablePointer<Float>, size: Size.Type, stride: Int, channels: Int,
    bias: UnsafePointer<Float>, epilogue: Epilogue,
    out: UnsafeMutablePointer<Float>, rowStride: Int, rows: Int, columns: Int,
    scratch s: UnsafeMutablePointer<SIMD16<Float>>
) {
    let alpha = Size.alpha
    var c = 0
    while c < channels {
        let lanes = min(16, channels - c)
        @inline(__always) func load(_ k: Int) -> SIMD16<Float> {
            lanes == 16 ? load16(m + k * stride + c) : loadPartial16(UnsafePointer(m + k * stride + c), lanes)
        }
        let b = lanes == 16 ? load16(bias + c) : loadPartial16(bias + c, lanes)
        // Aᵀ M, column by column, into s (m x alpha); then (Aᵀ M) A, row by row, into the output.
        for j in 0..<alpha {
            Size.outputLine({ load($0 * alpha + j) }) { i, value in s[i * alpha + j] = value }
        }
        for i in 0..<rows {
            let row = s + i * alpha
            Size.outputLine({ row[$0] }) { j, value in
                guard j < columns else { return }
                let p = out + i * rowStride + j * channels + c
                let v = epilogue.apply(value + b)
                if lanes == 16 { store16(v, p) } else { storePartial16(v, p, lanes) }
            }
        }
        c += 16
    }
}
