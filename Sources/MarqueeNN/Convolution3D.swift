// 3D convolution over video tensors [N, T, H, W, C] (channels innermost), as an indirect
// GEMM like conv2d: M = output voxels, K = taps * in-channels, N = out-channels.
//
// (2+1)D networks (TransNetV2) factor a 3x3x3 convolution into a 1x3x3 spatial one and a
// 3x1x1 temporal one, and run several branches side by side whose outputs are concatenated
// along channels. So that the branches need no split or concat copies, a call reads a
// contiguous range of the input's channels and writes a contiguous range of the output's:
// the spatial convolutions of all branches run as one call with their out-channels stacked,
// and each branch's temporal convolution reads its slice of that and writes its slice of the
// concatenation. Only symmetric zero padding (PyTorch's Conv3d `padding=`) is supported.

/// A time/height/width triple (kernel size, stride, dilation, padding); an integer literal
/// means the same value on every axis.
public struct Size3: Equatable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var t: Int
    public var h: Int
    public var w: Int
    public init(_ t: Int, _ h: Int, _ w: Int) { self.t = t; self.h = h; self.w = w }
    public init(integerLiteral value: Int) { self.init(value, value, value) }
    public var description: String { "\(t)x\(h)x\(w)" }
}

/// 3D convolution weights and bias, packed for the GEMM (rows (kt, ky, kx, ci), columns co).
public struct Conv3DWeights: @unchecked Sendable {
    public let outChannels: Int
    public let inChannels: Int
    public let kernel: Size3
    let matrix: PackedMatrix
    /// A row of zeros that padding taps point at.
    let zeros: TensorStorage

    /// From PyTorch's Conv3d layout: weight [out, in, kt, kh, kw], bias [out] (or none), and an
    /// optional batch norm that follows the convolution and is folded into it.
    public init(oidhw weight: [Float], bias: [Float]?, outChannels: Int, inChannels: Int,
                kernel: Size3, batchNorm: BatchNorm? = nil) {
        let taps = kernel.t * kernel.h * kernel.w
        precondition(weight.count == outChannels * inChannels * taps,
                     "conv3d weight has \(weight.count) values, expected [\(outChannels), \(inChannels), \(kernel.t), \(kernel.h), \(kernel.w)]")
        precondition(bias == nil || bias!.count == outChannels, "conv3d bias has \(bias!.count) values for \(outChannels) channels")
        var scale = [Float](repeating: 1, count: outChannels)
        var shift = bias ?? [Float](repeating: 0, count: outChannels)
        if let batchNorm {
            precondition(batchNorm.gamma.count == outChannels && batchNorm.beta.count == outChannels
                && batchNorm.mean.count == outChannels && batchNorm.variance.count == outChannels,
                "batch norm has the wrong channel count for \(outChannels) channels")
            let (s, b) = batchNorm.scaleAndShift()
            for o in 0..<outChannels {
                scale[o] = s[o]
                shift[o] = shift[o] * s[o] + b[o]
            }
        }
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernel = kernel
        zeros = TensorStorage(capacity: max(inChannels, 1))
        matrix = PackedMatrix(rows: taps * inChannels, columns: outChannels, bias: shift) { k, o in
            let tap = k / inChannels, ci = k % inChannels
            return weight[(o * inChannels + ci) * taps + tap] * scale[o]
        }
    }

    /// Output [N, OT, OH, OW] for an input [N, T, H, W] (channels excluded).
    public func outputSize(input: [Int], stride: Size3 = 1, dilation: Size3 = 1, padding: Size3 = 0) -> [Int] {
        precondition(input.count >= 4, "conv3d input must be [N, T, H, W, C], got \(input)")
        func size(_ n: Int, _ k: Int, _ s: Int, _ d: Int, _ p: Int) -> Int {
            let span = n + 2 * p - ((k - 1) * d + 1)
            return span < 0 ? 0 : span / s + 1
        }
        return [input[0],
                size(input[1], kernel.t, stride.t, dilation.t, padding.t),
                size(input[2], kernel.h, stride.h, dilation.h, padding.h),
                size(input[3], kernel.w, stride.w, dilation.w, padding.w)]
    }

    /// The output shape [N, OT, OH, OW, outChannels] for an input shape [N, T, H, W, C].
    public func outputShape(input: [Int], stride: Size3 = 1, dilation: Size3 = 1, padding: Size3 = 0) -> [Int] {
        outputSize(input: input, stride: stride, dilation: dilation, padding: padding) + [outChannels]
    }
}

/// out[N, OT, OH, OW, outChannel ..< outChannel + Cout] =
///     conv3d(in[N, T, H, W, inChannel ..< inChannel + Cin], weights) + bias, then the activation.
///
/// `out` and `input` may have more channels than the weights use; the other channels are
/// neither read nor written. Zero padding of `padding` voxels on both sides of each axis.
/// With `rows`, only those output rows are computed and `out` holds just them:
/// [N, OT, rows.count, OW, C].
public func conv3d(out: Tensor, outChannel: Int = 0, in input: Tensor, inChannel: Int = 0,
                   weights: Conv3DWeights, stride: Size3 = 1, dilation: Size3 = 1, padding: Size3 = 0,
                   rows: Range<Int>? = nil, activation: Activation = .none, pool: ThreadPool = .shared) {
    precondition(input.rank == 5 && out.rank == 5, "conv3d: tensors must be [N, T, H, W, C], got \(input.shape) -> \(out.shape)")
    precondition(inChannel >= 0 && inChannel + weights.inChannels <= input.shape[4],
                 "conv3d: in-channels \(inChannel)..<\(inChannel + weights.inChannels) of \(input.shape)")
    precondition(outChannel >= 0 && outChannel + weights.outChannels <= out.shape[4],
                 "conv3d: out-channels \(outChannel)..<\(outChannel + weights.outChannels) of \(out.shape)")
    precondition(min(stride.t, stride.h, stride.w, dilation.t, dilation.h, dilation.w) >= 1
                 && min(padding.t, padding.h, padding.w) >= 0, "conv3d: bad stride/dilation/padding")
    var expected = weights.outputSize(input: input.shape, stride: stride, dilation: dilation, padding: padding)
    let band = rows ?? 0..<expected[2]
    precondition(band.lowerBound >= 0 && band.upperBound <= expected[2], "conv3d: rows \(band) of \(expected[2])")
    expected[2] = band.count
    precondition(Array(out.shape.prefix(4)) == expected, "conv3d: out \(out.shape), expected \(expected) x C")

    let (inT, inH, inW, inC) = (input.shape[1], input.shape[2], input.shape[3], input.shape[4])
    let (outT, outH, outW, outC) = (out.shape[1], out.shape[2], out.shape[3], out.shape[4])
    let kernel = weights.kernel
    let taps = kernel.t * kernel.h * kernel.w
    let voxels = out.shape[0] * outT * outH * outW
    let source = UnsafePointer(input.data + inChannel)
    let zeros = UnsafePointer(weights.zeros.pointer)
    let plane = outH * outW
    indirectGemm(m: voxels, taps: taps, depth: weights.inChannels, b: weights.matrix, activation: activation,
                 out: out.data + outChannel, ldc: outC, pool: pool) { m0, rows, ind in
        // Where row m0 is, by division once per tile; the next rows step through x, y, frame.
        // (The micro-kernel's work per row is small when K is small, as in the temporal
        // convolutions: integer divisions per row would cost more than the multiplications.)
        let frame = m0 / plane                    // n * outT + ot
        let rem = m0 - frame * plane
        var oy = rem / outW, ox = rem - (rem / outW) * outW
        var n = frame / outT, ot = frame - n * outT
        for r in 0..<gemmTileRows {
            if r < rows && r > 0 {
                ox += 1
                if ox == outW {
                    ox = 0
                    oy += 1
                    if oy == outH {
                        oy = 0
                        ot += 1
                        if ot == outT { ot = 0; n += 1 }
                    }
                }
            } else if r >= rows {
                // Rows past M repeat the last row's pointers.
                for tap in 0..<taps { ind[tap * gemmTileRows + r] = ind[tap * gemmTileRows + r - 1] }
                continue
            }
            let t0 = ot * stride.t - padding.t
            let y0 = (band.lowerBound + oy) * stride.h - padding.h, x0 = ox * stride.w - padding.w
            let video = source + n * inT * inH * inW * inC
            var tap = 0
            for kt in 0..<kernel.t {
                let it = t0 + kt * dilation.t
                for ky in 0..<kernel.h {
                    let iy = y0 + ky * dilation.h
                    for kx in 0..<kernel.w {
                        let ix = x0 + kx * dilation.w
                        if it >= 0 && it < inT && iy >= 0 && iy < inH && ix >= 0 && ix < inW {
                            ind[tap * gemmTileRows + r] = video + ((it * inH + iy) * inW + ix) * inC
                        } else {
                            ind[tap * gemmTileRows + r] = zeros
                        }
                        tap += 1
                    }
                }
            }
        }
    }
}
