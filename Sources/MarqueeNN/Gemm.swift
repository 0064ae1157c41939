// GEMM: C[M, N] = A[M, K] * B[K, N] + bias, with B packed once at load time.
//
// The micro-kernel computes a 6 x 16 tile of C in registers: six SIMD16 accumulators (twelve
// ymm registers on AVX2, six zmm on AVX-512), one SIMD16 row of B and one broadcast of A per
// step, i.e. six fused multiply-adds per 16 floats of B loaded. A is reached through row
// pointers (an "indirect" GEMM, as in XNNPACK's igemm): for a plain matrix they point at the
// rows of A, for a convolution each kernel tap has its own six pointers into the input image
// (or at a zero row where the tap falls in the padding), so no im2col copy is made.
// Rows past M repeat the last row and are not stored; columns past N are zero in the packed
// B and are not stored.
//
// Disassembly (release, -march=native on a Zen 3 EPYC: AVX2 + FMA, no AVX-512): the inner
// loop is unrolled by two k steps, each 2 vmovups of B, 6 vbroadcastss of A from memory and
// 12 vfmadd231ps on ymm; all 16 ymm registers are live (12 accumulators, 2 B, 2 broadcasts)
// and nothing spills. On an AVX-512 machine (Zen 4 EPYC) the same source gives 6 zmm
// accumulators and one embedded-broadcast FMA per row and step (vfmadd231ps (%rsi,%rdi,4)
// {1to16}), unrolled by four k steps; tiles of at most four rows run a four-accumulator copy.
// On AVX2, a panel of at most eight columns runs in SIMD8 (six ymm accumulators): a 1x1
// projection to 24 channels took 0.33 ms on 56x56x144 with 16-wide tails, 0.27 ms so.
// The micro-kernel is @inline(always): with two callers the compiler had stopped inlining
// it and called it per tile. Its epilogue (Epilogue.swift) applies identity, ReLU and ReLU6
// as an inline vmaxps/vminps; a call to Activation.apply per store had cost as much as the
// multiply-adds of a K = 16 tile.

import CCPUHints

/// Rows of C computed per micro-kernel call.
let gemmTileRows = 6
/// Columns of C per micro-kernel call (one SIMD16).
let gemmTileColumns = 16

/// A K x N matrix (plus an N-vector bias) packed for the micro-kernel: ceil(N / 16) panels,
/// each K rows of 16 floats, zero past column N.
public struct PackedMatrix: @unchecked Sendable {
    /// K
    public let rows: Int
    /// N
    public let columns: Int
    let panelCount: Int
    let storage: TensorStorage
    let biasStorage: TensorStorage

    var panels: UnsafeMutablePointer<Float> { storage.pointer }
    var bias: UnsafeMutablePointer<Float> { biasStorage.pointer }

    /// A zero K x N matrix, which the caller fills through `panels` at `offset(k, n)`.
    init(rows: Int, columns: Int, bias: [Float]? = nil) {
        precondition(rows >= 0 && columns >= 0, "negative GEMM dimension")
        precondition(bias == nil || bias!.count == columns, "bias has \(bias!.count) values for \(columns) columns")
        self.rows = rows
        self.columns = columns
        panelCount = (columns + gemmTileColumns - 1) / gemmTileColumns
        storage = TensorStorage(capacity: panelCount * rows * gemmTileColumns)
        biasStorage = TensorStorage(capacity: panelCount * gemmTileColumns)
        if let bias { for n in 0..<columns { biasStorage.pointer[n] = bias[n] } }
    }

    /// Where element (k, n) is in `panels`.
    @inline(__always)
    func offset(_ k: Int, _ n: Int) -> Int {
        ((n / gemmTileColumns) * rows + k) * gemmTileColumns + n % gemmTileColumns
    }

    /// Packs the matrix whose element (k, n) is `element(k, n)`. Inlined, so that each
    /// caller's `element` becomes a plain load: models pack millions of weights at load time.
    @inline(__always)
    init(rows: Int, columns: Int, bias: [Float]?, element: (Int, Int) -> Float) {
        self.init(rows: rows, columns: columns, bias: bias)
        let p = storage.pointer
        for panel in 0..<panelCount {
            for k in 0..<rows {
                for j in 0..<min(gemmTileColumns, columns - panel * gemmTileColumns) {
                    p[(panel * rows + k) * gemmTileColumns + j] = element(k, panel * gemmTileColumns + j)
                }
            }
        }
    }

    /// Packs a row-major K x N matrix (`values[k * N + n]`).
    public init(rowMajor values: [Float], rows: Int, columns: Int, bias: [Float]? = nil) {
        precondition(values.count == rows * columns, "matrix has \(values.count) values, expected \(rows)x\(columns)")
        self.init(rows: rows, columns: columns, bias: bias) { k, n in values[k * columns + n] }
    }

    /// Packs the transpose of a row-major N x K matrix (`values[n * K + k]`), which is how
    /// PyTorch stores a Linear layer's weight ([out_features, in_features]).
    public init(transposing values: [Float], rows: Int, columns: Int, bias: [Float]? = nil) {
        precondition(values.count == rows * columns, "matrix has \(values.count) values, expected \(columns)x\(rows)")
        self.init(rows: rows, columns: columns, bias: bias) { k, n in values[n * rows + k] }
    }
}

/// Computes rows x columns (<= 6 x 16) of C from `taps` groups of `depth` steps.
///
/// `a` holds `taps * 6` row pointers (tap-major); `b` is one packed panel. With `residual`,
/// its rows (`ldr` apart) are added after the activation, as a residual connection's sum.
@inline(always)
func gemmMicroKernel6x16(
    depth: Int, taps: Int,
    a: UnsafePointer<UnsafePointer<Float>>,
    b: UnsafePointer<Float>,
    bias: UnsafePointer<Float>,
    epilogue: Epilogue,
    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int,
    residual: UnsafePointer<Float>? = nil, ldr: Int = 0
) {
    // A short tile (the last of M = 49, 7x7 pixels, has one row) computes four rows, not
    // six: four accumulators still keep the FMA units busy, so its multiply-adds take two
    // thirds of the time. Each row's sum is formed in the same order either way.
    //
    // Likewise a panel of at most eight columns (the last of N = 24 or 40) computes eight
    // where a register holds eight floats (AVX2): half the multiply-adds, in six chains.
    if columns <= 8 && marquee_register_floats() == 8 {
        gemmMicroKernel(computedRows: rows <= 4 ? 4 : 6, depth: depth, taps: taps, a: a, b: b, bias: bias,
                        epilogue: epilogue, c: c, ldc: ldc, rows: rows, columns: columns, residual: residual, ldr: ldr,
                        vector: SIMD8<Float>.self)
    } else if rows <= 4 {
        gemmMicroKernel(computedRows: 4, depth: depth, taps: taps, a: a, b: b, bias: bias, epilogue: epilogue,
                        c: c, ldc: ldc, rows: rows, columns: columns, residual: residual, ldr: ldr,
                        vector: SIMD16<Float>.self)
    } else {
        gemmMicroKernel(computedRows: 6, depth: depth, taps: taps, a: a, b: b, bias: bias, epilogue: epilogue,
                        c: c, ldc: ldc, rows: rows, columns: columns, residual: residual, ldr: ldr,
                        vector: SIMD16<Float>.self)
    }
}

/// The micro-kernel's body for tiles of at most `computedRows` rows and `V.scalarCount`
/// columns. Inlined with a constant `computedRows`, the accumulators past it and their
/// multiply-adds compile away.
@inline(__always)
private func gemmMicroKernel<V: FloatVector>(
    computedRows: Int, depth: Int, taps: Int,
    a: UnsafePointer<UnsafePointer<Float>>,
    b: UnsafePointer<Float>,
    bias: UnsafePointer<Float>,
    epilogue: Epilogue,
    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int,
    residual: UnsafePointer<Float>?, ldr: Int, vector: V.Type
) {
    var c0 = loadVector(bias, as: V.self)
    var c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
    var bp = b
    var ap = a
    for _ in 0..<taps {
        let a0 = ap[0], a1 = ap[1], a2 = ap[2], a3 = ap[3], a4 = ap[4], a5 = ap[5]
        ap += 6
        var k = 0
        while k < depth {
            let bv = loadVector(bp, as: V.self)
            c0 = c0.addingFusedProduct(V(broadcast: a0[k]), bv)
            c1 = c1.addingFusedProduct(V(broadcast: a1[k]), bv)
            c2 = c2.addingFusedProduct(V(broadcast: a2[k]), bv)
            c3 = c3.addingFusedProduct(V(broadcast: a3[k]), bv)
            if computedRows > 4 {
                c4 = c4.addingFusedProduct(V(broadcast: a4[k]), bv)
                c5 = c5.addingFusedProduct(V(broadcast: a5[k]), bv)
            }
            bp += 16
            k += 1
        }
    }
    c0 = epilogue.apply(c0); c1 = epilogue.apply(c1); c2 = epilogue.apply(c2)
    c3 = epilogue.apply(c3); c4 = epilogue.apply(c4); c5 = epilogue.apply(c5)
    let lanes = V.scalarCount
    if let r = residual {
        // Only rows that exist: past the last one the residual may end.
        if columns == lanes {
            c0 = c0.adding(loadVector(r, as: V.self))
            if rows > 1 { c1 = c1.adding(loadVector(r + ldr, as: V.self)) }
            if rows > 2 { c2 = c2.adding(loadVector(r + 2 * ldr, as: V.self)) }
            if rows > 3 { c3 = c3.adding(loadVector(r + 3 * ldr, as: V.self)) }
            if rows > 4 { c4 = c4.adding(loadVector(r + 4 * ldr, as: V.self)) }
            if rows > 5 { c5 = c5.adding(loadVector(r + 5 * ldr, as: V.self)) }
        } else {
            c0 = c0.adding(loadPartialVector(r, columns))
            if rows > 1 { c1 = c1.adding(loadPartialVector(r + ldr, columns)) }
            if rows > 2 { c2 = c2.adding(loadPartialVector(r + 2 * ldr, columns)) }
            if rows > 3 { c3 = c3.adding(loadPartialVector(r + 3 * ldr, columns)) }
            if rows > 4 { c4 = c4.adding(loadPartialVector(r + 4 * ldr, columns)) }
            if rows > 5 { c5 = c5.adding(loadPartialVector(r + 5 * ldr, columns)) }
        }
    }
    if columns == lanes {
        storeVector(c0, c)
        if rows > 1 { storeVector(c1, c + ldc) }
        if rows > 2 { storeVector(c2, c + 2 * ldc) }
        if rows > 3 { storeVector(c3, c + 3 * ldc) }
        if rows > 4 { storeVector(c4, c + 4 * ldc) }
        if rows > 5 { storeVector(c5, c + 5 * ldc) }
    } else {
        storePartialVector(c0, c, columns)
        if rows > 1 { storePartialVector(c1, c + ldc, columns) }
        if rows > 2 { storePartialVector(c2, c + 2 * ldc, columns) }
        if rows > 3 { storePartialVector(c3, c + 3 * ldc, columns) }
        if rows > 4 { storePartialVector(c4, c + 4 * ldc, columns) }
        if rows > 5 { storePartialVector(c5, c + 5 * ldc, columns) }
    }
}

/// Bytes of B (K x 16 floats per panel) a GEMM works through at a time: a chunk stays in L2
/// while every row block of A streams past it.
let gemmChunkBytes = 128 * 1024

/// Sixteen zeros: the bias of a GEMM that adds none (a share of a sum split by depth).
let gemmZeroBias = TensorStorage(capacity: gemmTileColumns)

/// C = epilogue(A * B + bias) (+ residual) on the calling thread, for kernels that split the
/// work among threads themselves. a: M rows `lda` apart; out: `ldc` apart; residual: `ldr`
/// apart. B is taken in chunks that stay in L2 (see `gemmChunkBytes`), each chunk meeting
/// every 6-row block of A in turn.
///
/// A thread's share of a GEMM split by columns takes `panels` (16 columns each; C's first
/// column is the first panel's); of a GEMM split by depth, the rows `depth` of B (A's rows
/// hold just those), with `addsBias` false in all but one share.
@inline(__always)
func gemmOnCallingThread(m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedMatrix,
                         panels: Range<Int>? = nil, depth: Range<Int>? = nil, addsBias: Bool = true,
                         epilogue: Epilogue, out: UnsafeMutablePointer<Float>, ldc: Int,
                         residual: UnsafePointer<Float>? = nil, ldr: Int = 0) {
    let panelStride = b.rows * gemmTileColumns
    let panels = panels ?? 0..<b.panelCount, depth = depth ?? 0..<b.rows
    let firstColumn = panels.lowerBound * gemmTileColumns
    let chunkPanels = max(1, gemmChunkBytes / max(1, depth.count * gemmTileColumns * 4))
    withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: gemmTileRows) { pointers in
        let ind = pointers.baseAddress!
        for chunk in stride(from: panels.lowerBound, to: panels.upperBound, by: chunkPanels) {
            for m0 in stride(from: 0, to: m, by: gemmTileRows) {
                let rows = min(gemmTileRows, m - m0)
                for r in 0..<gemmTileRows { ind[r] = a + (m0 + min(r, rows - 1)) * lda }
                for panel in chunk..<min(panels.upperBound, chunk + chunkPanels) {
                    let n0 = panel * gemmTileColumns, column = n0 - firstColumn
                    gemmMicroKernel6x16(depth: depth.count, taps: 1, a: UnsafePointer(ind),
                                        b: b.panels + panel * panelStride + depth.lowerBound * gemmTileColumns,
                                        bias: addsBias ? b.bias + n0 : gemmZeroBias.pointer, epilogue: epilogue,
                                        c: out + m0 * ldc + column, ldc: ldc, rows: rows,
                                        columns: min(gemmTileColumns, b.columns - n0),
                                        residual: residual.map { $0 + m0 * ldr + column }, ldr: ldr)
                }
            }
        }
    }
}

/// Runs the micro-kernel over an M x N output, threads splitting (row block, panel chunk)
/// items. `fillRows(m0, rows, pointers)` writes the `taps * 6` row pointers for output rows
/// m0..<m0+rows, repeating the last row's pointers past `rows`.
///
/// When taps are short (fewer than `gatherBelowDepth` channels, e.g. a one-channel
/// spectrogram under MusiCNN's 7x86 kernel) the per-tap pointer loads dominate the
/// micro-kernel, so each 6-row block is gathered once into a contiguous taps * depth tile
/// and run against every panel as one long tap; B is then not chunked, so the gather is done
/// once per block. It pays off only over enough panels (`gatherMinimumPanels`): on MusiCNN's
/// front end (13 panels) it measured about 1.5x faster, on a 3x3 RGB stem with 32 outputs
/// (2 panels) no faster.
let gatherBelowDepth = 8
let gatherMinimumPanels = 4

@inline(__always)
func indirectGemm(
    m: Int, taps: Int, depth: Int, b: PackedMatrix, activation: Activation,
    out: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool,
    fillRows: (Int, Int, UnsafeMutablePointer<UnsafePointer<Float>>) -> Void
) {
    precondition(b.rows == taps * depth, "GEMM depth \(taps)x\(depth) vs packed rows \(b.rows)")
    guard m > 0, b.columns > 0 else { return }
    let rowBlocks = (m + gemmTileRows - 1) / gemmTileRows
    // Chunks of B of at most `gemmChunkBytes`, all of nearly the same size, so that threads
    // taking chunks get equal work (80 panels in 14 chunks of 5 or 6, not 13 of 6 and one of 2).
    let panelBytes = max(1, b.rows * gemmTileColumns * 4)
    let maximumChunkPanels = max(1, min(b.panelCount, gemmChunkBytes / panelBytes))
    let gather = taps > 1 && depth < gatherBelowDepth && b.panelCount >= gatherMinimumPanels
    let chunks = gather ? 1 : (b.panelCount + maximumChunkPanels - 1) / maximumChunkPanels
    let panelStride = b.rows * gemmTileColumns
    let packed = b.panels, bias = b.bias, columns = b.columns
    let work = 2 * m * b.rows * columns
    let tileFloats = gather ? gemmTileRows * taps * depth : 1
    let epilogue = Epilogue(activation)
    pool.parallelFor(count: rowBlocks * chunks, work: work) { range in
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: (taps + 1) * gemmTileRows) { pointers in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: tileFloats) { tileBuffer in
            let ind = pointers.baseAddress!
            // With gathering, the micro-kernel reads the tile through these six row pointers.
            let tileRows = ind + taps * gemmTileRows
            let tile = tileBuffer.baseAddress!
            for r in 0..<gemmTileRows { tileRows[r] = UnsafePointer(tile + (gather ? r * taps * depth : 0)) }
            var filledBlock = -1
            for item in range {
                let chunk = item / rowBlocks
                let block = item % rowBlocks
                let m0 = block * gemmTileRows
                let rows = min(gemmTileRows, m - m0)
                if block != filledBlock {
                    fillRows(m0, rows, ind)
                    filledBlock = block
                    if gather {
                        for r in 0..<gemmTileRows {
                            var dst = tile + r * taps * depth
                            for t in 0..<taps {
                                let src = ind[t * gemmTileRows + r]
                                for c in 0..<depth { dst[c] = src[c] }
                                dst += depth
                            }
                        }
                    }
                }
                let firstPanel = b.panelCount * chunk / chunks
                let lastPanel = b.panelCount * (chunk + 1) / chunks
                for panel in firstPanel..<lastPanel {
                    let n0 = panel * gemmTileColumns
                    gemmMicroKernel6x16(
                        depth: gather ? taps * depth : depth, taps: gather ? 1 : taps,
                        a: gather ? UnsafePointer(tileRows) : UnsafePointer(ind),
                        b: packed + panel * panelStride, bias: bias + n0,
                        epilogue: epilogue,
                        c: out + m0 * ldc + n0, ldc: ldc, rows: rows,
                        columns: min(gemmTileColumns, columns - n0))
                }
            }
        }
        }
    }
}

/// C = A * B + bias, then the activation.
/// a: M rows of K floats, `lda` apart; out: M rows of N floats, `ldc` apart.
public func gemm(out: UnsafeMutablePointer<Float>, ldc: Int,
                 a: UnsafePointer<Float>, lda: Int, m: Int,
                 b: PackedMatrix, activation: Activation = .none, pool: ThreadPool = .shared) {
    precondition(lda >= b.rows && ldc >= b.columns, "gemm: lda \(lda) < K \(b.rows) or ldc \(ldc) < N \(b.columns)")
    indirectGemm(m: m, taps: 1, depth: b.rows, b: b, activation: activation,
                 out: out, ldc: ldc, pool: pool) { m0, rows, ind in
        for r in 0..<gemmTileRows {
            ind[r] = a + (m0 + min(r, rows - 1)) * lda
        }
    }
}

/// out[..., N] = in[..., K] * B + bias: a matrix product over the last axis.
public func gemm(out: Tensor, in input: Tensor, b: PackedMatrix,
                 activation: Activation = .none, pool: ThreadPool = .shared) {
    let k = b.rows, n = b.columns
    precondition(input.shape.last == k && out.shape.last == n && input.count / max(k, 1) == out.count / max(n, 1),
                 "gemm: in \(input.shape) x [\(k), \(n)] -> out \(out.shape)")
    gemm(out: out.data, ldc: n, a: input.data, lda: k, m: k == 0 ? 0 : input.count / k,
         b: b, activation: activation, pool: pool)
}
