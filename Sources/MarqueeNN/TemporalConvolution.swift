// Temporal convolutions (kernel kt x 1 x 1) of several branches that read one tensor, in one
// pass over it.
//
// A (2+1)D cell (TransNetV2) runs its branches' spatial convolutions as one, with their
// out-channels stacked, and then one temporal convolution per branch, each reading its slice
// of those channels at frames t - d, t, t + d (its own dilation d) and writing its slice of
// the cell's output. Run branch by branch through `conv3d`, each pass read a quarter of
// every pixel's channels, with a stride of the whole pixel between rows, from a tensor far
// larger than the caches (27x48 pixels x 128 channels x 100 frames is 66 MB): the passes
// waited on memory. Here one pass takes 6 pixels of one frame and runs every branch on them,
// so each pixel's channels are read once per tap, whole, in address order, and the frames a
// tap reaches back to are still in the cache from an earlier tap. The first tap to reach a
// frame is the farthest one ahead; it reads only its own branch's channels, so the whole
// pixels it will next need are prefetched, one 6-pixel block ahead, and every other
// branch's later reads of that frame find them in the cache.

import CCPUHints

/// One branch: its weights (kernel kt x 1 x 1, zero padding (kt - 1) / 2 * dilation in time,
/// which keeps the frame count), its dilation in time, and where its channels are.
public struct TemporalBranch: @unchecked Sendable {
    public let weights: Conv3DWeights
    public let dilation: Int
    /// First channel of `in` that the branch reads (weights.inChannels of them).
    public let inChannel: Int
    /// First channel of `out` that the branch writes (weights.outChannels of them).
    public let outChannel: Int

    public init(weights: Conv3DWeights, dilation: Int, inChannel: Int, outChannel: Int) {
        precondition(weights.kernel.h == 1 && weights.kernel.w == 1 && weights.kernel.t % 2 == 1,
                     "temporal branch: kernel \(weights.kernel) is not kt x 1 x 1 with odd kt")
        precondition(dilation >= 1 && inChannel >= 0 && outChannel >= 0, "temporal branch: bad dilation or channel")
        self.weights = weights
        self.dilation = dilation
        self.inChannel = inChannel
        self.outChannel = outChannel
    }

    /// How many frames on either side of its output frame the branch reads.
    public var reach: Int { (weights.kernel.t - 1) / 2 * dilation }
}

/// out[n, t, outRow + y, x, branch's channels] = activation(Σ_k W[k] · in[n, t + (k - c) d, y, x,
/// branch's channels] + bias) for every branch, with c = (kt - 1) / 2 and zeros outside 0..<T:
/// per branch, `conv3d(..., dilation: Size3(d, 1, 1), padding: Size3(c * d, 0, 0))`. The input
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
    let (clips, frames) = (input.shape[0], input.shape[1])
    let pixels = input.shape[2] * input.shape[3]
    let outPixels = out.shape[2] * out.shape[3], outOffset = outRow * out.shape[3]
    let blocksPerFrame = (pixels + gemmTileRows - 1) / gemmTileRows
    let taps = branches.map(\.weights.kernel.t).max() ?? 0
    let reach = branches.map(\.reach).max() ?? 0
    let work = branches.reduce(0) { $0 + 2 * clips * written.count * pixels * $1.weights.matrix.rows * $1.weights.outChannels }
    // Raw pointers, so that the loop below retains nothing.
    let plans = branches.map { branch in
        let matrix = branch.weights.matrix
        return BranchPlan(taps: branch.weights.kernel.t, dilation: branch.dilation, depth: branch.weights.inChannels,
                          columns: matrix.columns, panelCount: matrix.panelCount, panels: UnsafePointer(matrix.panels),
                          bias: UnsafePointer(matrix.bias), zeros: UnsafePointer(branch.weights.zeros.pointer),
                          inChannel: branch.inChannel, outChannel: branch.outChannel)
    }
    let source = UnsafePointer(input.data), destination = out.data
    let epilogue = Epilogue(activation)
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
                let frame = clipStart + t
                if t + reach < frames && p0 + gemmTileRows < pixels {
                    let next = UnsafeRawPointer(source + ((clipStart + t + reach) * pixels + p0 + gemmTileRows) * inC)
                    let bytes = min(gemmTileRows, pixels - p0 - gemmTileRows) * inC * 4
                    for offset in stride(from: 0, to: bytes, by: 64) { marquee_prefetch(next + offset) }
                }
                for plan in plans {
                    let center = (plan.taps - 1) / 2
                    for k in 0..<plan.taps {
                        let tk = t + (k - center) * plan.dilation
                        for r in 0..<gemmTileRows {
                            ind[k * gemmTileRows + r] = tk >= 0 && tk < frames
                                ? source + ((clipStart + tk) * pixels + p0 + min(r, rows - 1)) * inC + plan.inChannel
                                : plan.zeros
                        }
                    }
                    let panelStride = plan.taps * plan.depth * gemmTileColumns
                    let target = destination + (frame * outPixels + outOffset + p0) * outC + plan.outChannel
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
    withExtendedLifetime(branches) {}
}

private struct BranchPlan {
    var taps, dilation, depth, columns, panelCount: Int
    var panels, bias, zeros: UnsafePointer<Float>
    var inChannel, outChannel: Int
}
