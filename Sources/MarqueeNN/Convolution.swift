// 2D convolution over NHWC tensors: any kernel size, stride, dilation and groups, with
// explicit (symmetric or asymmetric) or TensorFlow "same" padding.
//
// Weights are repacked at load time; batch norm is folded into them. Depthwise convolutions
// (groups == in == out channels) get their own kernel (Depthwise.swift); everything else runs
// as an indirect GEMM (Gemm.swift) with M = output pixels, K = taps * in-channels per group,
// N = out-channels per group.
//
// Higher-dimensional convolutions map onto this one by reshaping: a (2+1)D block's 1x3x3
// spatial conv on [N, T, H, W, C] is conv2d on [N*T, H, W, C], and its 3x1x1 temporal conv
// with dilation d is conv2d on [N, T, H*W, C] with kernel 3x1 and dilation (d, 1).

/// Batch-norm statistics and affine parameters, as stored by PyTorch or Keras.
public struct BatchNorm: Sendable {
    public var gamma: [Float]
    public var beta: [Float]
    public var mean: [Float]
    public var variance: [Float]
    public var epsilon: Float

    public init(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float = 1e-5) {
        self.gamma = gamma
        self.beta = beta
        self.mean = mean
        self.variance = variance
        self.epsilon = epsilon
    }

    /// Per-channel (scale, shift) such that bn(x) = x * scale + shift.
    public func scaleAndShift() -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: gamma.count)
        var shift = scale
        for c in 0..<gamma.count {
            scale[c] = gamma[c] / (variance[c] + epsilon).squareRoot()
            shift[c] = beta[c] - mean[c] * scale[c]
        }
        return (scale, shift)
    }
}

/// How a convolution or pooling window is padded.
public enum Padding2D: Sendable, Equatable {
    /// No padding.
    case valid
    /// TensorFlow "same": output size ceil(in / stride), total padding split with the odd
    /// pixel at the bottom/right.
    case same
    /// Explicit padding per side (PyTorch's symmetric `padding=` is top == bottom, left == right).
    case explicit(top: Int, left: Int, bottom: Int, right: Int)

    /// PyTorch-style symmetric padding.
    public static func symmetric(_ p: Size2) -> Padding2D {
        .explicit(top: p.h, left: p.w, bottom: p.h, right: p.w)
    }

    /// The padding of each side for a window over an input of the given size.
    public func resolved(input: Size2, kernel: Size2, stride: Size2, dilation: Size2)
        -> (top: Int, left: Int, bottom: Int, right: Int)
    {
        switch self {
        case .valid:
            return (0, 0, 0, 0)
        case let .explicit(top, left, bottom, right):
            return (top, left, bottom, right)
        case .same:
            func split(_ size: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let out = (size + s - 1) / s
                let total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
                return (total / 2, total - total / 2)
            }
            let (t, b) = split(input.h, kernel.h, stride.h, dilation.h)
            let (l, r) = split(input.w, kernel.w, stride.w, dilation.w)
            return (t, l, b, r)
        }
    }

    /// Output height and width of a window over an input (0 when the window does not fit).
    public func outputSize(input: Size2, kernel: Size2, stride: Size2, dilation: Size2 = 1) -> Size2 {
        let p = resolved(input: input, kernel: kernel, stride: stride, dilation: dilation)
        func size(_ n: Int, _ lo: Int, _ hi: Int, _ k: Int, _ s: Int, _ d: Int) -> Int {
            let span = n + lo + hi - ((k - 1) * d + 1)
            return span < 0 ? 0 : span / s + 1
        }
        return Size2(size(input.h, p.top, p.bottom, kernel.h, stride.h, dilation.h),
                     size(input.w, p.left, p.right, kernel.w, stride.w, dilation.w))
    }
}

/// Convolution weights and bias, repacked for the kernel that will run them.
public struct Conv2DWeights: @unchecked Sendable {
    public let outChannels: Int
    /// Input channels over all groups.
    public let inChannels: Int
    public let kernel: Size2
    public let groups: Int

    enum Packing {
        /// One packed matrix per group: rows (ky, kx, ci), columns co.
        case gemm([PackedMatrix])
        case depthwise(DepthwiseWeights)
    }
    let packing: Packing
    /// A row of zeros that padding taps point at (in-channels per group, at least 1).
    let zeros: TensorStorage

    /// From PyTorch's layout: weight [out, in / groups, kh, kw], bias [out] (or none), and an
    /// optional batch norm that follows the convolution and is folded into it.
    public init(oihw weight: [Float], bias: [Float]?, outChannels: Int, inChannels: Int,
                kernel: Size2, groups: Int = 1, batchNorm: BatchNorm? = nil) {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                     "conv: \(inChannels) -> \(outChannels) channels do not split into \(groups) groups")
        let cinG = inChannels / groups, coutG = outChannels / groups
        let taps = kernel.h * kernel.w
        precondition(weight.count == outChannels * cinG * taps,
                     "conv weight has \(weight.count) values, expected [\(outChannels), \(cinG), \(kernel.h), \(kernel.w)]")
        precondition(bias == nil || bias!.count == outChannels, "conv bias has \(bias!.count) values for \(outChannels) channels")
        var w = weight
        var b = bias ?? [Float](repeating: 0, count: outChannels)
        if let batchNorm {
            precondition(batchNorm.gamma.count == outChannels && batchNorm.beta.count == outChannels
                && batchNorm.mean.count == outChannels && batchNorm.variance.count == outChannels,
                "batch norm has the wrong channel count for \(outChannels) channels")
            let (scale, shift) = batchNorm.scaleAndShift()
            let perOut = cinG * taps
            for o in 0..<outChannels {
                for i in 0..<perOut { w[o * perOut + i] *= scale[o] }
                b[o] = b[o] * scale[o] + shift[o]
            }
        }
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernel = kernel
        self.groups = groups
        zeros = TensorStorage(capacity: max(cinG, 1))
        if groups == inChannels && outChannels == inChannels && groups > 1 {
            packing = .depthwise(DepthwiseWeights(oihw: w, bias: b, channels: outChannels, kernel: kernel))
        } else {
            var mats: [PackedMatrix] = []
            for g in 0..<groups {
                let groupBias = Array(b[(g * coutG)..<((g + 1) * coutG)])
                mats.append(PackedMatrix(rows: taps * cinG, columns: coutG, bias: groupBias) { k, n in
                    let t = k / cinG, ci = k % cinG
                    let o = g * coutG + n
                    return w[((o * cinG + ci) * kernel.h + t / kernel.w) * kernel.w + t % kernel.w]
                })
            }
            packing = .gemm(mats)
        }
    }

    /// From Keras's Conv2D layout: kernel [kh, kw, in / groups, out], bias [out] (or none).
    public init(hwio weight: [Float], bias: [Float]?, outChannels: Int, inChannels: Int,
                kernel: Size2, groups: Int = 1, batchNorm: BatchNorm? = nil) {
        let cinG = inChannels / max(groups, 1)
        precondition(weight.count == kernel.h * kernel.w * cinG * outChannels,
                     "conv weight has \(weight.count) values, expected [\(kernel.h), \(kernel.w), \(cinG), \(outChannels)]")
        var oihw = [Float](repeating: 0, count: weight.count)
        for ky in 0..<kernel.h {
            for kx in 0..<kernel.w {
                for i in 0..<cinG {
                    for o in 0..<outChannels {
                        oihw[((o * cinG + i) * kernel.h + ky) * kernel.w + kx] =
                            weight[((ky * kernel.w + kx) * cinG + i) * outChannels + o]
                    }
                }
            }
        }
        self.init(oihw: oihw, bias: bias, outChannels: outChannels, inChannels: inChannels,
                  kernel: kernel, groups: groups, batchNorm: batchNorm)
    }

    /// From Keras's DepthwiseConv2D layout: kernel [kh, kw, channels, multiplier].
    /// Output channel c * multiplier + m reads input channel c.
    public init(kerasDepthwise weight: [Float], bias: [Float]?, channels: Int, depthMultiplier: Int = 1,
                kernel: Size2, batchNorm: BatchNorm? = nil) {
        let outChannels = channels * depthMultiplier
        precondition(weight.count == kernel.h * kernel.w * outChannels,
                     "depthwise weight has \(weight.count) values, expected [\(kernel.h), \(kernel.w), \(channels), \(depthMultiplier)]")
        var oihw = [Float](repeating: 0, count: weight.count)
        for ky in 0..<kernel.h {
            for kx in 0..<kernel.w {
                for o in 0..<outChannels {
                    oihw[(o * kernel.h + ky) * kernel.w + kx] = weight[(ky * kernel.w + kx) * outChannels + o]
                }
            }
        }
        self.init(oihw: oihw, bias: bias, outChannels: outChannels, inChannels: channels,
                  kernel: kernel, groups: channels, batchNorm: batchNorm)
    }

    /// The NHWC output shape for an NHWC input shape.
    public func outputShape(input: [Int], stride: Size2 = 1, dilation: Size2 = 1,
                            padding: Padding2D = .valid) -> [Int] {
        precondition(input.count == 4, "conv input must be NHWC, got \(input)")
        let s = padding.outputSize(input: Size2(input[1], input[2]), kernel: kernel, stride: stride, dilation: dilation)
        return [input[0], s.h, s.w, outChannels]
    }
}

/// out[N, OH, OW, Cout] = conv(in[N, H, W, Cin], weights) + bias, then the activation.
///
/// With `outputChannelOffset`, `out` may have more channels and the result fills channels
/// offset..<offset+Cout of it, leaving the others alone: parallel branches (TransNetV2's
/// dilated convolutions, MusiCNN's front end) write straight into their concatenation.
public func conv2d(out: Tensor, in input: Tensor, weights: Conv2DWeights,
                   stride: Size2 = 1, dilation: Size2 = 1, padding: Padding2D = .valid,
                   activation: Activation = .none, outputChannelOffset: Int? = nil,
                   pool: ThreadPool = .shared) {
    precondition(input.rank == 4 && input.c == weights.inChannels,
                 "conv2d: input \(input.shape) for \(weights.inChannels) in-channels")
    precondition(stride.h >= 1 && stride.w >= 1 && dilation.h >= 1 && dilation.w >= 1, "conv2d: bad stride/dilation")
    let expected = weights.outputShape(input: input.shape, stride: stride, dilation: dilation, padding: padding)
    if let offset = outputChannelOffset {
        precondition(out.rank == 4 && Array(out.shape.prefix(3)) == Array(expected.prefix(3))
                     && offset >= 0 && offset + weights.outChannels <= out.c,
                     "conv2d: out \(out.shape) cannot hold \(expected) at channel \(offset)")
    } else {
        precondition(out.shape == expected, "conv2d: out \(out.shape), expected \(expected)")
    }
    let channelOffset = outputChannelOffset ?? 0
    let pad = padding.resolved(input: Size2(input.h, input.w), kernel: weights.kernel, stride: stride, dilation: dilation)
    let geometry = ConvGeometry(
        batch: input.n, inH: input.h, inW: input.w, inC: input.c,
        outH: out.h, outW: out.w, outC: out.c,
        kernel: weights.kernel, stride: stride, dilation: dilation, padTop: pad.top, padLeft: pad.left)
    guard out.count > 0 else { return }
    let outBase = out.data + channelOffset
    switch weights.packing {
    case let .depthwise(dw):
        depthwiseConv2d(out: outBase, in: input.data, weights: dw, geometry: geometry,
                        activation: activation, pool: pool)
    case let .gemm(mats):
        let cinG = weights.inChannels / weights.groups
        let coutG = weights.outChannels / weights.groups
        for g in 0..<weights.groups {
            convGemm(out: outBase + g * coutG, in: input.data + g * cinG, depth: cinG,
                     zeros: weights.zeros.pointer, b: mats[g], geometry: geometry,
                     activation: activation, pool: pool)
        }
    }
}

/// Sizes of one convolution call.
struct ConvGeometry {
    var batch, inH, inW, inC, outH, outW: Int
    /// Floats between consecutive output pixels (the output tensor's channel count).
    var outC: Int
    var kernel, stride, dilation: Size2
    var padTop, padLeft: Int
}

/// One group of a convolution as an indirect GEMM; `input` points at the group's first
/// channel, `out` at its first output channel.
func convGemm(out: UnsafeMutablePointer<Float>, in input: UnsafePointer<Float>, depth: Int,
              zeros: UnsafePointer<Float>, b: PackedMatrix, geometry g: ConvGeometry,
              activation: Activation, pool: ThreadPool) {
    let taps = g.kernel.h * g.kernel.w
    let pixels = g.batch * g.outH * g.outW
    if taps == 1 && g.stride == Size2(1, 1) && g.padTop == 0 && g.padLeft == 0 && g.outH == g.inH && g.outW == g.inW {
        // A pointwise convolution: output pixel p reads input pixel p, with no division
        // into image, row and column per row pointer.
        indirectGemm(m: pixels, taps: 1, depth: depth, b: b, activation: activation,
                     out: out, ldc: g.outC, pool: pool) { m0, rows, ind in
            for r in 0..<gemmTileRows { ind[r] = input + (m0 + min(r, rows - 1)) * g.inC }
        }
        return
    }
    let rowDepth = depth * g.kernel.w
    let gathers = depth < gatherBelowDepth && b.panelCount >= gatherMinimumPanels
    if g.kernel.w > 1 && g.dilation.w == 1 && g.inC == depth && rowDepth <= 32 && !gathers {
        convGemmRowTaps(out: out, in: input, depth: depth, b: b, geometry: g, activation: activation, pool: pool)
        return
    }
    indirectGemm(m: pixels, taps: taps, depth: depth, b: b, activation: activation,
                 out: out, ldc: g.outC, pool: pool) { m0, rows, ind in
        var pixel = OutputPixel(m0, geometry: g)
        for r in 0..<gemmTileRows {
            guard r < rows else {
                for t in 0..<taps { ind[t * gemmTileRows + r] = ind[t * gemmTileRows + rows - 1] }
                continue
            }
            let n = pixel.n, oy = pixel.y, ox = pixel.x
            pixel.advance(geometry: g)
            let y0 = oy * g.stride.h - g.padTop, x0 = ox * g.stride.w - g.padLeft
            let image = input + n * g.inH * g.inW * g.inC
            var t = 0
            for ky in 0..<g.kernel.h {
                let iy = y0 + ky * g.dilation.h
                for kx in 0..<g.kernel.w {
                    let ix = x0 + kx * g.dilation.w
                    if iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW {
                        ind[t * gemmTileRows + r] = image + (iy * g.inW + ix) * g.inC
                    } else {
                        ind[t * gemmTileRows + r] = zeros
                    }
                    t += 1
                }
            }
        }
    }
}

/// Image, row and column of consecutive output pixels: one division for the first pixel of
/// a row block, then counting (a division per pixel had cost a quarter of a 3x3 RGB stem).
struct OutputPixel {
    var n: Int, y: Int, x: Int

    @inline(__always)
    init(_ index: Int, geometry g: ConvGeometry) {
        let plane = g.outH * g.outW
        n = index / plane
        let rest = index - n * plane
        y = rest / g.outW
        x = rest - y * g.outW
    }

    @inline(__always)
    mutating func advance(geometry g: ConvGeometry) {
        x += 1
        if x == g.outW {
            x = 0
            y += 1
            if y == g.outH { y = 0; n += 1 }
        }
    }
}

/// A convolution with few input channels (an RGB stem: 3 x 3 taps of 3 channels) as an
/// indirect GEMM with one tap per kernel row: without groups or horizontal dilation, the
/// kernel.w pixels a row of the window covers are kernel.w * depth consecutive floats of
/// the input, which is also the order of the packed weights' rows (ky, kx, ci). Three-float
/// taps would make the micro-kernel reload its six row pointers every three steps. Windows
/// that leave the image sideways are copied, zero-padded, into a buffer first.
func convGemmRowTaps(out: UnsafeMutablePointer<Float>, in input: UnsafePointer<Float>, depth: Int,
                     b: PackedMatrix, geometry g: ConvGeometry, activation: Activation, pool: ThreadPool) {
    let kh = g.kernel.h, kw = g.kernel.w, rowDepth = kw * depth
    let pixels = g.batch * g.outH * g.outW
    // Output columns whose window leaves the input row, and each one's slot among them.
    var edgeSlot = [Int](repeating: -1, count: g.outW)
    var edgeCount = 0
    for ox in 0..<g.outW {
        let x0 = ox * g.stride.w - g.padLeft
        if x0 < 0 || x0 + kw > g.inW { edgeSlot[ox] = edgeCount; edgeCount += 1 }
    }
    // Their windows, row by row: [n][oy][slot][ky][rowDepth], zero where the window is outside.
    let edgeRows = TensorStorage(capacity: max(1, g.batch * g.outH * edgeCount * kh * rowDepth))
    let zeroRow = TensorStorage(capacity: rowDepth)
    let edges = edgeRows.pointer
    for n in 0..<g.batch {
        let image = input + n * g.inH * g.inW * g.inC
        for oy in 0..<g.outH {
            for ox in 0..<g.outW where edgeSlot[ox] >= 0 {
                let x0 = ox * g.stride.w - g.padLeft
                for ky in 0..<kh {
                    let iy = oy * g.stride.h - g.padTop + ky * g.dilation.h
                    let dst = edges + (((n * g.outH + oy) * edgeCount + edgeSlot[ox]) * kh + ky) * rowDepth
                    guard iy >= 0 && iy < g.inH else { continue }
                    for kx in 0..<kw where x0 + kx >= 0 && x0 + kx < g.inW {
                        (dst + kx * depth).update(from: image + (iy * g.inW + x0 + kx) * g.inC, count: depth)
                    }
                }
            }
        }
    }
    let zeros = UnsafePointer(zeroRow.pointer)
    withExtendedLifetime((edgeRows, zeroRow)) {
        indirectGemm(m: pixels, taps: kh, depth: rowDepth, b: b, activation: activation,
                     out: out, ldc: g.outC, pool: pool) { m0, rows, ind in
            var pixel = OutputPixel(m0, geometry: g)
            for r in 0..<gemmTileRows {
                guard r < rows else {
                    for ky in 0..<kh { ind[ky * gemmTileRows + r] = ind[ky * gemmTileRows + rows - 1] }
                    continue
                }
                let n = pixel.n, oy = pixel.y, ox = pixel.x
                let y0 = oy * g.stride.h - g.padTop, x0 = ox * g.stride.w - g.padLeft
                let slot = edgeSlot.withUnsafeBufferPointer { $0[ox] }
                if slot >= 0 {
                    let window = edges + ((n * g.outH + oy) * edgeCount + slot) * kh * rowDepth
                    for ky in 0..<kh { ind[ky * gemmTileRows + r] = UnsafePointer(window + ky * rowDepth) }
                } else {
                    let image = input + n * g.inH * g.inW * g.inC
                    for ky in 0..<kh {
                        let iy = y0 + ky * g.dilation.h
                        ind[ky * gemmTileRows + r] = iy >= 0 && iy < g.inH ? image + (iy * g.inW + x0) * g.inC : zeros
                    }
                }
                pixel.advance(geometry: g)
            }
        }
    }
}
