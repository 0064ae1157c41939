// Temporal convolutions (kernel kt x 1 x 1) of several branches that read one tensor, in one
// pass over it.
//
// A (2+1)D cell (TransNetV2) runs its branches' spatial convolutions as one, with their
// out-channels stacked, and then one temporal convolution per branch, each reading its slice
// of those channels at frames t - d, t, t + d (its own dilation d) and writing its slice of
// the cell's output. Run branch by branch as general 3D convolutions, each pass read a
// quarter of every pixel's channels, with a stride of the whole pixel between rows, from a
// tensor far larger than the caches (27x48 pixels x 128 channels x 100 frames is 66 MB): the
// passes waited on memory. Here one pass takes 6 pixels of one frame and runs every branch
// on them, so each pixel's channels are read once per tap, whole, in address order, and the
// frames a tap reaches back to are still in the cache from an earlier tap. The first tap to
// reach a frame is the farthest one ahead; it reads only its own branch's channels, so the
// whole pixels it will next need are prefetched, one 6-pixel block ahead, and every other
// branch's later reads of that frame find them in the cache.
//
// Wide branches of three taps run by Winograd's minimal filtering in time, F(4, 3): the
// outputs at frames t, t + d, t + 2d, t + 3d come from the input at the six frames t - d ...
// t + 4d, transformed as in Winograd.swift (Bᵀ x, then six GEMMs with the transformed taps
// U = G g, then Aᵀ m): 6 multiply-adds per input channel and output channel for four output
// frames instead of 12. The tiles of a branch of dilation d run along its d interleaved
// sequences of frames (r, r + d, r + 2d, ...), the last tile of a sequence cut short. The
// results differ from the direct sums by float rounding, and depend on which tile an output
// frame falls in.
//
// On TransNetV2's block 2 (128 -> 64 channels a branch) this took a window from 57 to 51 ms.
// On its narrower branches (32 -> 16 and 64 -> 32) it measured no faster: the six GEMMs per
// tile are short (depth 32 or 64) and each pays its setup and stores, while the direct pass
// runs at about 70% of the FMA peak there. That figure does not move with the size of the
// band it reads (block 0's four branches over 100 frames take the same time from a 9.8 MB
// band, in L3, as from a 0.2 MB one, in L2): the direct pass is not waiting on memory.

import CCPUHints

/// in x out channels of the narrowest branch that runs by F(4, 3) in time.
let temporalWinogradMinimumWeights = 128 * 64

/// One branch: its weights (kernel kt x 1 x 1, zero padding (kt - 1) / 2 * dilation in time,
/// which keeps the frame count), its dilation in time, and where its channels are.
public struct TemporalBranch: @unchecked Sendable {
    public let weights: Conv3DWeights
    public let dilation: Int
    /// First channel of `in` that the branch reads (weights.inChannels of them).
    public let inChannel: Int
    /// First channel of `out` that the branch writes (weights.outChannels of them).
    public let outChannel: Int
    /// For a branch that runs by F(4, 3): U[ξ] = Σ_k G[ξ, k] W[k], ξ = 0..<6, its three taps
    /// transformed (computed in Double, no bias); empty for one that runs directly.
    let transformedTaps: [PackedMatrix]

    public init(weights: Conv3DWeights, dilation: Int, inChannel: Int, outChannel: Int) {
        precondition(weights.kernel.h == 1 && weights.kernel.w == 1 && weights.kernel.t % 2 == 1,
                     "temporal branch: kernel \(weights.kernel) is not kt x 1 x 1 with odd kt")
        precondition(dilation >= 1 && inChannel >= 0 && outChannel >= 0, "temporal branch: bad dilation or channel")
        self.weights = weights
        self.dilation = dilation
        self.inChannel = inChannel
        self.outChannel = outChannel
        transformedTaps = weights.kernel.t == 3 && weights.inChannels * weights.outChannels >= temporalWinogradMinimumWeights
            ? Self.transform(weights) : []
    }

    private static func transform(_ weights: Conv3DWeights) -> [PackedMatrix] {
        let (depth, matrix, g) = (weights.inChannels, weights.matrix, Winograd3x3Weights.g4)
        return (0..<6).map { xi in
            PackedMatrix(rows: depth, columns: weights.outChannels, bias: nil) { k, n in
                var sum = 0.0
                for tap in 0..<3 { sum += g[xi * 3 + tap] * Double(matrix.panels[matrix.offset(tap * depth + k, n)]) }
                return Float(sum)
            }
        }
    }

    /// How many frames on either side of its output frame the branch reads.
    public var reach: Int { (weights.kernel.t - 1) / 2 * dilation }
}

/// out[n, t, outRow + y, x, branch's channels] = activation(Σ_k W[k] · in[n, t + (k - c) d, y, x,
/// branch's channels] + bias) for every branch, with c = (kt - 1) / 2 and zeros outside 0..<T:
/// per branch, PyTorch's `Conv3d(..., dilation=(d, 1, 1), padding=(c * d, 0, 0))`. The input
/// may be a band of the output's rows (as a spatial convolution computed band by band gives).
/// With `frames`, only those frames of each clip are written (their taps still reach the others).
public func temporalConvolution(out: Tensor, outRow: Int = 0, in input: Tensor, branches: [TemporalBranch],
                                frames written: Range<Int>? = nil,
                                activation: Activation = .none, pool: ThreadPool = .shared) {
    precondition(input.rank == 5 && out.rank == 5 && input.shape[0] == out.shape[0] && input.shape[1] == out.shape[1]
                 && input.shape[3] == out.shape[3] && outRow >= 0 && outRow + input.shape[2] <= out.shape[2],
                 "temporal convolution: input \(input.shape) is not rows \(outRow)... of output \(out.shape)")
    let written = written ?? 0..<input.shape[1]
    precondition(written.lowerBound >= 0 && written.upperBound <= input.shape[1],
                 "temporal convolution: frames \(written) of \(input.shape[1])")
    let (inC, outC) = (input.shape[4], out.shape[4])
    for branch in branches {
        precondition(branch.inChannel + branch.weights.inChannels <= inC
                     && branch.outChannel + branch.weights.outChannels <= outC,
                     "temporal convolution: branch channels outside \(input.shape) -> \(out.shape)")
    }
    let geometry = TemporalGeometry(clips: input.shape[0], frames: input.shape[1], pixels: input.shape[2] * input.shape[3],
                                    inChannels: inC, outChannels: outC, outPixels: out.shape[2] * out.shape[3],
                                    outOffset: outRow * out.shape[3], written: written)
    let direct = branches.filter { $0.transformedTaps.isEmpty }
    if !direct.isEmpty {
        temporalDirect(out: out.data, in: input.data, geometry, branches: direct, epilogue: Epilogue(activation), pool: pool)
    }
    if direct.count < branches.count {
        temporalWinograd(out: out.data, in: input.data, geometry, branches: branches.filter { !$0.transformedTaps.isEmpty },
                         epilogue: Epilogue(activation), pool: pool)
    }
    withExtendedLifetime(branches) {}
}

/// The shapes a temporal convolution works on: `clips` of `frames` frames of `pixels` pixels
/// in, written into rows from `outOffset` pixels on of frames of `outPixels` pixels.
private struct TemporalGeometry {
    var clips, frames, pixels, inChannels, outChannels, outPixels, outOffset: Int
    var written: Range<Int>
    var blocksPerFrame: Int { (pixels + gemmTileRows - 1) / gemmTileRows }

    /// The pixel at `pixel` of frame `t` of the clip starting at frame `clipStart`.
    @inline(__always)
    func input(_ source: UnsafePointer<Float>, clipStart: Int, t: Int, pixel: Int) -> UnsafePointer<Float> {
        source + ((clipStart + t) * pixels + pixel) * inChannels
    }

    @inline(__always)
    func output(_ destination: UnsafeMutablePointer<Float>, clipStart: Int, t: Int, pixel: Int) -> UnsafeMutablePointer<Float> {
        destination + ((clipStart + t) * outPixels + outOffset + pixel) * outChannels
    }
}

/// Every tap's multiply-adds, one 6-pixel block of one frame at a time.
private func temporalDirect(out destination: UnsafeMutablePointer<Float>, in input: UnsafeMutablePointer<Float>,
                            _ geometry: TemporalGeometry, branches: [TemporalBranch], epilogue: Epilogue, pool: ThreadPool) {
    let (clips, frames, pixels, written) = (geometry.clips, geometry.frames, geometry.pixels, geometry.written)
    let (inC, outC) = (geometry.inChannels, geometry.outChannels)
    let blocksPerFrame = geometry.blocksPerFrame
    let taps = branches.map(\.weights.kernel.t).max() ?? 0
    let reach = branches.map(\.reach).max() ?? 0
    let work = branches.reduce(0) { $0 + 2 * clips * written.count * pixels * $1.weights.matrix.rows * $1.weights.outChannels }
    let plans = branches.map(BranchPlan.init)
    let source = UnsafePointer(input)
    plans.withUnsafeBufferPointer { plans in
    pool.parallelFor(count: clips * written.count * blocksPerFrame, work: work) { range in
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: taps * gemmTileRows) { pointers in
            let ind = pointers.baseAddress!
            for item in range {
                let step = item / blocksPerFrame        // n * written.count + (t - written.lowerBound)
                let p0 = (item - step * blocksPerFrame) * gemmTileRows
                let rows = min(gemmTileRows, pixels - p0)
                let t = written.lowerBound + step % written.count
                let clipStart = step / written.count * frames
                if t + reach < frames && p0 + gemmTileRows < pixels {
                    let next = UnsafeRawPointer(geometry.input(source, clipStart: clipStart, t: t + reach, pixel: p0 + gemmTileRows))
                    let bytes = min(gemmTileRows, pixels - p0 - gemmTileRows) * inC * 4
                    for offset in stride(from: 0, to: bytes, by: 64) { marquee_prefetch(next + offset) }
                }
                for plan in plans {
                    let center = (plan.taps - 1) / 2
                    for k in 0..<plan.taps {
                        let tk = t + (k - center) * plan.dilation
                        for r in 0..<gemmTileRows {
                            ind[k * gemmTileRows + r] = tk >= 0 && tk < frames
                                ? geometry.input(source, clipStart: clipStart, t: tk, pixel: p0 + min(r, rows - 1)) + plan.inChannel
                                : plan.zeros
                        }
                    }
                    let panelStride = plan.taps * plan.depth * gemmTileColumns
                    let target = geometry.output(destination, clipStart: clipStart, t: t, pixel: p0) + plan.outChannel
                    for panel in 0..<plan.panelCount {
                        let n0 = panel * gemmTileColumns
                        gemmMicroKernel6x16(depth: plan.depth, taps: plan.taps, a: UnsafePointer(ind),
                                            b: plan.panels + panel * panelStride, bias: plan.bias + n0,
                                            epilogue: epilogue, c: target + n0, ldc: outC, rows: rows,
                                            columns: min(gemmTileColumns, plan.columns - n0))
                    }
                }
            }
        }
    }
    }
}

/// Three-tap branches by F(4, 3) in time. An item is one tile of four output frames of one
/// branch at one block of 6 pixels; consecutive items are consecutive pixel blocks of a tile,
/// so that a thread reads each of the tile's six input frames, and writes each of its four
/// output frames, in address order.
private func temporalWinograd(out destination: UnsafeMutablePointer<Float>, in input: UnsafeMutablePointer<Float>,
                              _ geometry: TemporalGeometry, branches: [TemporalBranch], epilogue: Epilogue, pool: ThreadPool) {
    let (clips, frames, pixels, written) = (geometry.clips, geometry.frames, geometry.pixels, geometry.written)
    let blocksPerFrame = geometry.blocksPerFrame
    let maxDepth = branches.map(\.weights.inChannels).max()!, maxColumns = branches.map(\.weights.outChannels).max()!
    let plans = branches.map(BranchPlan.init)
    // The GEMMs add no bias (every panel reads the same sixteen zeros): the branch's is added after Aᵀ.
    let zeroBias = UnsafePointer(gemmZeroBias.pointer)
    // Every tile with a frame to write, by branch and first output frame: the d tiles that
    // start at frames start ..< start + d cover the 4d frames from `start`.
    var tiles: [(branch: Int, first: Int)] = []
    for (b, plan) in plans.enumerated() {
        for start in stride(from: 0, to: frames, by: 4 * plan.dilation) {
            for first in start..<min(start + plan.dilation, frames) {
                let outputs = stride(from: first, to: min(frames, first + 4 * plan.dilation), by: plan.dilation)
                if outputs.contains(where: written.contains) { tiles.append((b, first)) }
            }
        }
    }
    let work = branches.reduce(0) { $0 + clips * written.count * pixels * 3 * $1.weights.inChannels * $1.weights.outChannels }
    // U[ξ] of branch b at 6b + ξ.
    let transformedTaps = branches.flatMap { $0.transformedTaps.map { UnsafePointer($0.panels) } }
    let source = UnsafePointer(input)
    let identity = Epilogue(.none)
    let items = tiles.count * clips * blocksPerFrame
    plans.withUnsafeBufferPointer { plans in
    transformedTaps.withUnsafeBufferPointer { transformedTaps in
    tiles.withUnsafeBufferPointer { tiles in
    pool.parallelFor(count: items, work: work) { range in
        // Per tile: the transformed inputs V[ξ][pixel][channel] and the products M[ξ][pixel][channel].
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 6 * gemmTileRows * maxDepth)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 6 * gemmTileRows * maxColumns)
        let ind = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: gemmTileRows)
        let x = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 6)
        defer { v.deallocate(); m.deallocate(); ind.deallocate(); x.deallocate() }
        for item in range {
            let tile = tiles[item / (clips * blocksPerFrame)]
            let block = item % (clips * blocksPerFrame)
            let clipStart = block / blocksPerFrame * frames
            let p0 = block % blocksPerFrame * gemmTileRows
            let rows = min(gemmTileRows, pixels - p0)
            let plan = plans[tile.branch]
            let taps = transformedTaps.baseAddress! + tile.branch * 6
            let (d, depth, columns) = (plan.dilation, plan.depth, plan.columns)
            // Output s of the tile is frame `first + s d`; it reads frames first - d ... first + 4d.
            @inline(__always) func frame(_ s: Int) -> Int { tile.first + s * d }
            for row in 0..<rows {
                for s in 0..<6 {
                    let t = frame(s - 1)
                    x[s] = t >= 0 && t < frames
                        ? geometry.input(source, clipStart: clipStart, t: t, pixel: p0 + row) + plan.inChannel : plan.zeros
                }
                var c = 0
                while c < depth {
                    let lanes = min(16, depth - c)
                    @inline(__always) func load(_ s: Int) -> SIMD16<Float> {
                        lanes == 16 ? load16(x[s] + c) : loadPartial16(x[s] + c, lanes)
                    }
                    winogradInputTransform(load(0), load(1), load(2), load(3), load(4), load(5)) { xi, value in
                        let p = v + (xi * gemmTileRows + row) * depth + c
                        if lanes == 16 { store16(value, p) } else { storePartial16(value, p, lanes) }
                    }
                    c += 16
                }
            }
            for xi in 0..<6 {
                for r in 0..<gemmTileRows { ind[r] = UnsafePointer(v + (xi * gemmTileRows + min(r, rows - 1)) * depth) }
                for panel in 0..<plan.panelCount {
                    let n0 = panel * gemmTileColumns
                    gemmMicroKernel6x16(depth: depth, taps: 1, a: UnsafePointer(ind),
                                        b: taps[xi] + panel * depth * gemmTileColumns, bias: zeroBias,
                                        epilogue: identity, c: m + xi * gemmTileRows * columns + n0, ldc: columns,
                                        rows: rows, columns: min(gemmTileColumns, columns - n0))
                }
            }
            for row in 0..<rows {
                var c = 0
                while c < columns {
                    let lanes = min(16, columns - c)
                    @inline(__always) func load(_ xi: Int) -> SIMD16<Float> {
                        let p = UnsafePointer(m + (xi * gemmTileRows + row) * columns + c)
                        return lanes == 16 ? load16(p) : loadPartial16(p, lanes)
                    }
                    let bias = lanes == 16 ? load16(plan.bias + c) : loadPartial16(plan.bias + c, lanes)
                    winogradOutputTransform(load(0), load(1), load(2), load(3), load(4), load(5)) { s, value in
                        guard frame(s) < frames && written.contains(frame(s)) else { return }
                        let p = geometry.output(destination, clipStart: clipStart, t: frame(s), pixel: p0 + row) + plan.outChannel + c
                        let y = epilogue.apply(value + bias)
                        if lanes == 16 { store16(y, p) } else { storePartial16(y, p, lanes) }
                    }
                    c += 16
                }
            }
        }
    }
    }
    }
    }
}

/// A branch through raw pointers, so that the loops retain nothing.
private struct BranchPlan {
    var taps, dilation, depth, columns, panelCount: Int
    var panels, bias, zeros: UnsafePointer<Float>
    var inChannel, outChannel: Int

    init(_ branch: TemporalBranch) {
        let matrix = branch.weights.matrix
        (taps, dilation, depth) = (branch.weights.kernel.t, branch.dilation, branch.weights.inChannels)
        (columns, panelCount) = (matrix.columns, matrix.panelCount)
        (panels, bias, zeros) = (UnsafePointer(matrix.panels), UnsafePointer(matrix.bias), UnsafePointer(branch.weights.zeros.pointer))
        (inChannel, outChannel) = (branch.inChannel, branch.outChannel)
    }
}
