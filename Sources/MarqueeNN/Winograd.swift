// 3x3 convolution, stride 1, padding 1, by Winograd's minimal filtering F(2x2, 3x3).
//
// Each 2x2 block of outputs comes from a 4x4 block of inputs with 16 multiplications per
// (in, out) channel pair instead of 36: the input tile d and the kernel g are transformed,
// multiplied elementwise, and transformed back (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015):
//
//     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// Summed over input channels, the elementwise products become 16 independent GEMMs, one per
// position ξ of the 4x4 tile: M[ξ] (tiles x Cout) = V[ξ] (tiles x Cin) · U[ξ] (Cin x Cout).
// Work is split into chunks of tiles small enough that V and M stay in L2; each thread
// transforms its chunk's inputs, runs the 16 GEMMs (the 6x16 micro-kernel of Gemm.swift)
// and transforms the products back into the output, adding the bias and the activation.
// The transforms add and subtract only (G's halves are in the weights), so the results
// differ from direct convolution by float rounding alone (about 1e-6 relative).

/// Transformed 3x3 kernels: 16 packed Cin x Cout matrices, U[ξ] = (G g Gᵀ)[ξ].
public struct Winograd3x3Weights: @unchecked Sendable {
    public let outChannels: Int
    public let inChannels: Int
    let matrices: [PackedMatrix]
    let bias: TensorStorage

    /// From PyTorch's layout: weight [out, in, 3, 3], bias [out] (or none).
    public init(oihw weight: [Float], bias: [Float]?, outChannels: Int, inChannels: Int) {
        precondition(weight.count == outChannels * inChannels * 9,
                     "winograd weight has \(weight.count) values, expected [\(outChannels), \(inChannels), 3, 3]")
        precondition(bias == nil || bias!.count == outChannels, "winograd bias has \(bias!.count) values for \(outChannels) channels")
        self.outChannels = outChannels
        self.inChannels = inChannels
        // u[(o * Cin + i) * 16 + ξ]
        var u = [Float](repeating: 0, count: outChannels * inChannels * 16)
        for pair in 0..<(outChannels * inChannels) {
            let g = Array(weight[(pair * 9)..<(pair * 9 + 9)])
            // G g: 4 x 3
            var gg = [Float](repeating: 0, count: 12)
            for c in 0..<3 {
                let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                gg[c] = g0
                gg[3 + c] = (g0 + g1 + g2) / 2
                gg[6 + c] = (g0 - g1 + g2) / 2
                gg[9 + c] = g2
            }
            // (G g) Gᵀ: 4 x 4
            for r in 0..<4 {
                let a = gg[r * 3], b = gg[r * 3 + 1], c = gg[r * 3 + 2]
                u[pair * 16 + r * 4] = a
                u[pair * 16 + r * 4 + 1] = (a + b + c) / 2
                u[pair * 16 + r * 4 + 2] = (a - b + c) / 2
                u[pair * 16 + r * 4 + 3] = c
            }
        }
        matrices = (0..<16).map { xi in
            PackedMatrix(rows: inChannels, columns: outChannels, bias: nil) { i, o in u[(o * inChannels + i) * 16 + xi] }
        }
        self.bias = TensorStorage(capacity: outChannels)
        if let bias { for o in 0..<outChannels { self.bias.pointer[o] = bias[o] } }
    }
}

/// Tiles per chunk: a multiple of the micro-kernel's 6 rows.
let winogradChunkTiles = 48

/// out[N, H, W, Cout] = conv3x3(in[N, H, W, Cin], stride 1, zero padding 1) + bias, then the activation.
public func winogradConv3x3(out: Tensor, in input: Tensor, weights: Winograd3x3Weights,
                            activation: Activation = .none, pool: ThreadPool = .shared) {
    precondition(input.rank == 4 && input.c == weights.inChannels,
                 "winograd: input \(input.shape) for \(weights.inChannels) in-channels")
    precondition(out.shape == [input.n, input.h, input.w, weights.outChannels],
                 "winograd: out \(out.shape) for input \(input.shape)")
    let (n, h, w, cin, cout) = (input.n, input.h, input.w, input.c, weights.outChannels)
    guard out.count > 0, cin > 0 else {
        if out.count > 0 { for p in 0..<(out.count / cout) { for o in 0..<cout { out.data[p * cout + o] = activation.apply(weights.bias.pointer[o]) } } }
        return
    }
    let tilesH = (h + 1) / 2, tilesW = (w + 1) / 2
    let tiles = n * tilesH * tilesW
    let chunks = (tiles + winogradChunkTiles - 1) / winogradChunkTiles
    let src = UnsafePointer(input.data), dst = out.data
    let bias = UnsafePointer(weights.bias.pointer)
    let zeros = TensorStorage(capacity: cin)
    let zero = UnsafePointer(zeros.pointer)
    let work = 2 * tiles * 16 * cin * cout
    pool.parallelFor(count: chunks, work: work) { range in
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * winogradChunkTiles * cin)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * winogradChunkTiles * cout)
        let pixels = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 16)
        defer { v.deallocate(); m.deallocate(); pixels.deallocate() }
        for chunk in range {
            let first = chunk * winogradChunkTiles
            let count = min(winogradChunkTiles, tiles - first)
            // V[ξ][tile][c] = (Bᵀ d B)[ξ]
            for t in 0..<count {
                let tile = first + t
                let image = tile / (tilesH * tilesW)
                let rem = tile - image * tilesH * tilesW
                let ty = rem / tilesW, tx = rem - (rem / tilesW) * tilesW
                for i in 0..<4 {
                    let y = 2 * ty - 1 + i
                    for j in 0..<4 {
                        let x = 2 * tx - 1 + j
                        pixels[i * 4 + j] = y >= 0 && y < h && x >= 0 && x < w ? src + ((image * h + y) * w + x) * cin : zero
                    }
                }
                winogradInputTile(pixels, channels: cin, out: v + t * cin, stride: winogradChunkTiles * cin)
            }
            // M[ξ] = V[ξ] · U[ξ]
            for xi in 0..<16 {
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
                let y0 = 2 * ty, x0 = 2 * tx
                let base = dst + ((image * h + y0) * w + x0) * cout
                winogradOutputTile(m + t * cout, stride: winogradChunkTiles * cout, channels: cout, bias: bias,
                                   activation: activation, out: base, rowStride: w * cout,
                                   rows: min(2, h - y0), columns: min(2, w - x0))
            }
        }
    }
}

/// V[ξ] = (Bᵀ d B)[ξ] for one tile, `channels` wide: d[i * 4 + j] points at the input pixel
/// (row i, column j) of the tile; V[ξ] is written at out + ξ * stride.
@inline(__always)
func winogradInputTile(_ d: UnsafePointer<UnsafePointer<Float>>, channels: Int,
                       out: UnsafeMutablePointer<Float>, stride: Int) {
    var c = 0
    while c < channels {
        let lanes = min(16, channels - c)
        @inline(__always) func load(_ k: Int) -> SIMD16<Float> {
            lanes == 16 ? load16(d[k] + c) : loadPartial16(d[k] + c, lanes)
        }
        @inline(__always) func store(_ value: SIMD16<Float>, _ k: Int) {
            let p = out + k * stride + c
            if lanes == 16 { store16(value, p) } else { storePartial16(value, p, lanes) }
        }
        // d B on each input row i: (d0 - d2, d1 + d2, d2 - d1, d1 - d3), kept in r.
        // Then Bᵀ (d B) on each column: the same combination of rows.
        for j in 0..<4 {
            // Column j of d B needs every row's j-th combination.
            @inline(__always) func row(_ i: Int) -> SIMD16<Float> {
                switch j {
                case 0: return load(i * 4) - load(i * 4 + 2)
                case 1: return load(i * 4 + 1) + load(i * 4 + 2)
                case 2: return load(i * 4 + 2) - load(i * 4 + 1)
                default: return load(i * 4 + 1) - load(i * 4 + 3)
                }
            }
            let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3)
            store(r0 - r2, j)
            store(r1 + r2, 4 + j)
            store(r2 - r1, 8 + j)
            store(r1 - r3, 12 + j)
        }
        c += 16
    }
}

/// The 2x2 outputs of one tile from its 16 products M[ξ] (at m + ξ * stride), plus bias and
/// activation, written for the `rows` x `columns` of them inside the image.
@inline(__always)
func winogradOutputTile(_ m: UnsafeMutablePointer<Float>, stride: Int, channels: Int,
                        bias: UnsafePointer<Float>, activation: Activation,
                        out: UnsafeMutablePointer<Float>, rowStride: Int, rows: Int, columns: Int) {
    var c = 0
    while c < channels {
        let lanes = min(16, channels - c)
        @inline(__always) func load(_ k: Int) -> SIMD16<Float> {
            lanes == 16 ? load16(m + k * stride + c) : loadPartial16(UnsafePointer(m + k * stride + c), lanes)
        }
        @inline(__always) func store(_ value: SIMD16<Float>, _ r: Int, _ col: Int) {
            guard r < rows && col < columns else { return }
            let p = out + r * rowStride + col * channels + c
            let v = activation.apply(value)
            if lanes == 16 { store16(v, p) } else { storePartial16(v, p, lanes) }
        }
        let b = lanes == 16 ? load16(bias + c) : loadPartial16(bias + c, lanes)
        // Aᵀ M on each column j: (m0 + m1 + m2, m1 - m2 - m3); then the same along rows.
        let m0 = load(0), m1 = load(4), m2 = load(8), m3 = load(12)
        let a0 = m0 + m1 + m2, b0 = m1 - m2 - m3
        let n0 = load(1), n1 = load(5), n2 = load(9), n3 = load(13)
        let a1 = n0 + n1 + n2, b1 = n1 - n2 - n3
        let o0 = load(2), o1 = load(6), o2 = load(10), o3 = load(14)
        let a2 = o0 + o1 + o2, b2 = o1 - o2 - o3
        let p0 = load(3), p1 = load(7), p2 = load(11), p3 = load(15)
        let a3 = p0 + p1 + p2, b3 = p1 - p2 - p3
        store(a0 + a1 + a2 + b, 0, 0)
        store(a1 - a2 - a3 + b, 0, 1)
        store(b0 + b1 + b2 + b, 1, 0)
        store(b1 - b2 - b3 + b, 1, 1)
        c += 16
    }
}
