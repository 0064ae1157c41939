// 3x3 convolution, stride 1, padding 1, by Winograd's minimal filtering F(4x4, 3x3).
//
// Each 4x4 block of outputs comes from a 6x6 block of inputs with 36 multiplications per
// (in, out) channel pair instead of 144: the input tile d and the kernel g are transformed,
// multiplied elementwise, and transformed back (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015, interpolation points 0, ±1, ±2):
//
//     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// Summed over input channels, the elementwise products become 36 independent GEMMs, one per
// position ξ of the 6x6 tile: M[ξ] (tiles x Cout) = V[ξ] (tiles x Cin) · U[ξ] (Cin x Cout).
// Against F(2x2, 3x3) (16 GEMM rows per 4 outputs) this does 2.25 rows per output instead of
// 4: fewer multiply-adds and less traffic through V and M per output pixel. Work is split
// into chunks of tiles small enough that V and M stay near L2; each thread transforms its
// chunk's inputs, runs the 36 GEMMs (the 6x16 micro-kernel of Gemm.swift) and transforms the
// products back into the output, adding the bias and the activation. The kernel transform is
// done once in Double; the input and output transforms use small integer coefficients, so
// results differ from direct convolution by float rounding (about 1e-6 relative, a few
// times F(2x2)'s).

/// Transformed 3x3 kernels: 36 packed Cin x Cout matrices, U[ξ] = (G g Gᵀ)[ξ].
public struct Winograd3x3Weights: @unchecked Sendable {
    public let outChannels: Int
    public let inChannels: Int
    let matrices: [PackedMatrix]
    let bias: TensorStorage

    /// G, 6 x 3.
    static let g: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                                [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]

    /// From PyTorch's layout: weight [out, in, 3, 3], bias [out] (or none).
    public init(oihw weight: [Float], bias: [Float]?, outChannels: Int, inChannels: Int) {
        precondition(weight.count == outChannels * inChannels * 9,
                     "winograd weight has \(weight.count) values, expected [\(outChannels), \(inChannels), 3, 3]")
        precondition(bias == nil || bias!.count == outChannels, "winograd bias has \(bias!.count) values for \(outChannels) channels")
        self.outChannels = outChannels
        self.inChannels = inChannels
        let g = Self.g
        // u[(o * Cin + i) * 36 + ξ]
        var u = [Float](repeating: 0, count: outChannels * inChannels * 36)
        for pair in 0..<(outChannels * inChannels) {
            let k = weight[(pair * 9)..<(pair * 9 + 9)].map(Double.init)
            // G k: 6 x 3
            var gk = [Double](repeating: 0, count: 18)
            for r in 0..<6 { for c in 0..<3 { gk[r * 3 + c] = g[r][0] * k[c] + g[r][1] * k[3 + c] + g[r][2] * k[6 + c] } }
            // (G k) Gᵀ: 6 x 6
            for r in 0..<6 {
                for c in 0..<6 {
                    u[pair * 36 + r * 6 + c] = Float(gk[r * 3] * g[c][0] + gk[r * 3 + 1] * g[c][1] + gk[r * 3 + 2] * g[c][2])
                }
            }
        }
        matrices = (0..<36).map { xi in
            PackedMatrix(rows: inChannels, columns: outChannels, bias: nil) { i, o in u[(o * inChannels + i) * 36 + xi] }
        }
        self.bias = TensorStorage(capacity: outChannels)
        if let bias { for o in 0..<outChannels { self.bias.pointer[o] = bias[o] } }
    }
}

/// Tiles per chunk: a multiple of the micro-kernel's 6 rows.
let winogradChunkTiles = 24

/// out[N, H, W, Cout] = conv3x3(in[N, H, W, Cin], stride 1, zero padding 1) + bias, then the activation.
///
/// With `rows`, only those output rows are computed (the range starts on a multiple of 4, a
/// tile boundary) and `out` holds just them: [N, rows.count, W, Cout]. A caller that consumes
/// the output band by band keeps each band in the cache.
public func winogradConv3x3(out: Tensor, in input: Tensor, weights: Winograd3x3Weights, rows: Range<Int>? = nil,
                            activation: Activation = .none, pool: ThreadPool = .shared) {
    precondition(input.rank == 4 && input.c == weights.inChannels,
                 "winograd: input \(input.shape) for \(weights.inChannels) in-channels")
    let band = rows ?? 0..<input.h
    precondition(band.lowerBound % 4 == 0 && band.lowerBound >= 0 && band.upperBound <= input.h,
                 "winograd: rows \(band) of \(input.h) do not start on a tile")
    precondition(out.shape == [input.n, band.count, input.w, weights.outChannels],
                 "winograd: out \(out.shape) for rows \(band) of input \(input.shape)")
    let (n, h, w, cin, cout) = (input.n, input.h, input.w, input.c, weights.outChannels)
    let (firstRow, bandH) = (band.lowerBound, band.count)
    guard out.count > 0, cin > 0 else {
        if out.count > 0 { for p in 0..<(out.count / cout) { for o in 0..<cout { out.data[p * cout + o] = activation.apply(weights.bias.pointer[o]) } } }
        return
    }
    let tilesH = (bandH + 3) / 4, tilesW = (w + 3) / 4
    let tiles = n * tilesH * tilesW
    let chunks = (tiles + winogradChunkTiles - 1) / winogradChunkTiles
    let src = UnsafePointer(input.data), dst = out.data
    let bias = UnsafePointer(weights.bias.pointer)
    let zeros = TensorStorage(capacity: cin)
    let zero = UnsafePointer(zeros.pointer)
    let work = 2 * tiles * 36 * cin * cout
    pool.parallelFor(count: chunks, work: work) { range in
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 36 * winogradChunkTiles * cin)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 36 * winogradChunkTiles * cout)
        let pixels = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 36)
        let scratch = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: 36)
        defer { v.deallocate(); m.deallocate(); pixels.deallocate(); scratch.deallocate() }
        for chunk in range {
            let first = chunk * winogradChunkTiles
            let count = min(winogradChunkTiles, tiles - first)
            // V[ξ][tile][c] = (Bᵀ d B)[ξ]
            for t in 0..<count {
                let tile = first + t
                let image = tile / (tilesH * tilesW)
                let rem = tile - image * tilesH * tilesW
                let ty = rem / tilesW, tx = rem - (rem / tilesW) * tilesW
                for i in 0..<6 {
                    let y = firstRow + 4 * ty - 1 + i
                    for j in 0..<6 {
                        let x = 4 * tx - 1 + j
                        pixels[i * 6 + j] = y >= 0 && y < h && x >= 0 && x < w ? src + ((image * h + y) * w + x) * cin : zero
                    }
                }
                winogradInputTile(pixels, channels: cin, out: v + t * cin, stride: winogradChunkTiles * cin, scratch: scratch)
            }
            // M[ξ] = V[ξ] · U[ξ]
            for xi in 0..<36 {
                let a = UnsafePointer(v + xi * winogradChunkTiles * cin)
                indirectGemm(m: count, taps: 1, depth: cin, b: weights.matrices[xi], activation: .none,
                             out: m + xi * winogradChunkTiles * cout, ldc: cout, pool: .serial) { m0, rows, ind in
                    for r in 0..<gemmTileRows { ind[r] = a + (m0 + min(r, rows - 1)) * cin }
                }
            }
            // Y = Aᵀ M A + bias
            for t in 0..<count {
                let tile = first + t
                let image = tile / (tilesH * tilesW)
                let rem = tile - image * tilesH * tilesW
                let ty = rem / tilesW, tx = rem - (rem / tilesW) * tilesW
                let y0 = 4 * ty, x0 = 4 * tx
                let base = dst + ((image * bandH + y0) * w + x0) * cout
                winogradOutputTile(m + t * cout, stride: winogradChunkTiles * cout, channels: cout, bias: bias,
                                   activation: activation, out: base, rowStride: w * cout,
                                   rows: min(4, bandH - y0), columns: min(4, w - x0), scratch: scratch)
            }
        }
    }
}

/// Bᵀ x for one 6-vector x (a column or a row of a tile).
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

/// Aᵀ m for one 6-vector m: the four outputs.
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

/// V[ξ] = (Bᵀ d B)[ξ] for one tile, `channels` wide: d[i * 6 + j] points at the input pixel
/// (row i, column j) of the tile; V[ξ] is written at out + ξ * stride. `scratch` holds 36
/// vectors.
@inline(__always)
func winogradInputTile(_ d: UnsafePointer<UnsafePointer<Float>>, channels: Int,
                       out: UnsafeMutablePointer<Float>, stride: Int, scratch t: UnsafeMutablePointer<SIMD16<Float>>) {
    var c = 0
    while c < channels {
        let lanes = min(16, channels - c)
        @inline(__always) func load(_ k: Int) -> SIMD16<Float> {
            lanes == 16 ? load16(d[k] + c) : loadPartial16(d[k] + c, lanes)
        }
        // Bᵀ d, column by column, into t; then (Bᵀ d) B, row by row, into V.
        for j in 0..<6 {
            winogradInputTransform(load(j), load(6 + j), load(12 + j), load(18 + j), load(24 + j), load(30 + j)) { i, value in
                t[i * 6 + j] = value
            }
        }
        for i in 0..<6 {
            let row = t + i * 6
            winogradInputTransform(row[0], row[1], row[2], row[3], row[4], row[5]) { j, value in
                let p = out + (i * 6 + j) * stride + c
                if lanes == 16 { store16(value, p) } else { storePartial16(value, p, lanes) }
            }
        }
        c += 16
    }
}

/// The 4x4 outputs of one tile from its 36 products M[ξ] (at m + ξ * stride), plus bias and
/// activation, written for the `rows` x `columns` of them inside the image. `scratch` holds
/// 24 vectors.
@inline(__always)
func winogradOutputTile(_ m: UnsafeMutablePointer<Float>, stride: Int, channels: Int,
                        bias: UnsafePointer<Float>, activation: Activation,
                        out: UnsafeMutablePointer<Float>, rowStride: Int, rows: Int, columns: Int,
                        scratch s: UnsafeMutablePointer<SIMD16<Float>>) {
    var c = 0
    while c < channels {
        let lanes = min(16, channels - c)
        @inline(__always) func load(_ k: Int) -> SIMD16<Float> {
            lanes == 16 ? load16(m + k * stride + c) : loadPartial16(UnsafePointer(m + k * stride + c), lanes)
        }
        let b = lanes == 16 ? load16(bias + c) : loadPartial16(bias + c, lanes)
        // Aᵀ M, column by column, into s (4 x 6); then (Aᵀ M) A, row by row, into the output.
        for j in 0..<6 {
            winogradOutputTransform(load(j), load(6 + j), load(12 + j), load(18 + j), load(24 + j), load(30 + j)) { i, value in
                s[i * 6 + j] = value
            }
        }
        for i in 0..<rows {
            let row = s + i * 6
            winogradOutputTransform(row[0], row[1], row[2], row[3], row[4], row[5]) { j, value in
                guard j < columns else { return }
                let p = out + i * rowStride + j * channels + c
                let v = activation.apply(value + b)
                if lanes == 16 { store16(v, p) } else { storePartial16(v, p, lanes) }
            }
        }
        c += 16
    }
}
