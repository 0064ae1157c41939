// Direct convolution for layers with exactly 8 output channels (the stems of small CNNs such
// as fer's mini-Xception: 1 → 8 and 8 → 8, 3x3). Through the GEMM such a layer fills half of
// every 16-column panel, stores its tiles partially and, with one input channel, spends its
// time on row pointers; here each output pixel is one SIMD8 accumulator fed by broadcasts of
// the input, four pixels at a time so that every weight vector loaded serves four FMAs.
// Stride 1, no padding ("valid"), NHWC.

/// Weights of an 8-output convolution packed [kh][kw][in] x SIMD8, bias SIMD8.
public struct NarrowConv2DWeights: @unchecked Sendable {
    public static let outChannels = 8
    public let inChannels: Int
    public let kernel: Size2
    let weights: [SIMD8<Float>]
    let bias: SIMD8<Float>

    /// From Keras's Conv2D layout: kernel [kh, kw, in, 8], bias [8] (or none), with an
    /// optional batch norm folded in.
    public init(hwio weight: [Float], bias: [Float]?, inChannels: Int, kernel: Size2, batchNorm: BatchNorm? = nil) {
        let taps = kernel.h * kernel.w * inChannels
        precondition(weight.count == taps * 8, "narrow conv weight has \(weight.count) values, expected [\(kernel.h), \(kernel.w), \(inChannels), 8]")
        precondition(bias == nil || bias!.count == 8, "narrow conv bias needs 8 values")
        var scale = [Float](repeating: 1, count: 8), shift = bias ?? [Float](repeating: 0, count: 8)
        if let batchNorm {
            let (s, t) = batchNorm.scaleAndShift()
            for o in 0..<8 { shift[o] = shift[o] * s[o] + t[o] }
            scale = s
        }
        self.inChannels = inChannels
        self.kernel = kernel
        weights = (0..<taps).map { t in SIMD8<Float>((0..<8).map { weight[t * 8 + $0] * scale[$0] }) }
        self.bias = SIMD8<Float>(shift)
    }

    public func outputShape(input: [Int]) -> [Int] {
        precondition(input.count == 4 && input[3] == inChannels, "narrow conv input \(input) for \(inChannels) channels")
        return [input[0], input[1] - kernel.h + 1, input[2] - kernel.w + 1, 8]
    }
}

/// out[N, H - kh + 1, W - kw + 1, 8] = conv(in[N, H, W, Cin]) + bias, then the activation.
public func narrowConv2d(out: Tensor, in input: Tensor, weights: NarrowConv2DWeights,
                         activation: Activation = .none, pool: ThreadPool = .shared) {
    precondition(out.shape == weights.outputShape(input: input.shape), "narrowConv2d: out \(out.shape) for in \(input.shape)")
    let (h, w, c) = (input.h, input.w, input.c)
    let (oh, ow) = (out.h, out.w)
    let kh = weights.kernel.h, kw = weights.kernel.w
    let src = input.data, dst = out.data
    let bias = weights.bias
    @inline(__always) func activate(_ v: SIMD8<Float>) -> SIMD8<Float> {
        switch activation {
        case .none: return v
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .relu6: return v.replacing(with: 0, where: v .< 0).replacing(with: 6, where: v .> 6)
        case .gelu: return gelu16(SIMD16(lowHalf: v, highHalf: .zero)).lowHalf
        }
    }
    weights.weights.withUnsafeBufferPointer { wp in
        let wb = wp.baseAddress!
        pool.parallelFor(count: out.n * oh, work: 2 * out.count * kh * kw * c) { range in
            for row in range {
                let n = row / oh, oy = row % oh
                let image = src + n * h * w * c
                let o = dst + row * ow * 8
                var ox = 0
                while ox + 4 <= ow {
                    var a0 = bias, a1 = bias, a2 = bias, a3 = bias
                    var t = 0
                    for ky in 0..<kh {
                        let line = image + ((oy + ky) * w + ox) * c
                        for kx in 0..<kw {
                            let p = line + kx * c
                            for ci in 0..<c {
                                let wv = wb[t]
                                a0 = a0.addingProduct(SIMD8(repeating: p[ci]), wv)
                                a1 = a1.addingProduct(SIMD8(repeating: p[c + ci]), wv)
                                a2 = a2.addingProduct(SIMD8(repeating: p[2 * c + ci]), wv)
                                a3 = a3.addingProduct(SIMD8(repeating: p[3 * c + ci]), wv)
                                t += 1
                            }
                        }
                    }
                    let q = UnsafeMutableRawPointer(o + ox * 8)
                    q.storeBytes(of: activate(a0), as: SIMD8<Float>.self)
                    q.storeBytes(of: activate(a1), toByteOffset: 32, as: SIMD8<Float>.self)
                    q.storeBytes(of: activate(a2), toByteOffset: 64, as: SIMD8<Float>.self)
                    q.storeBytes(of: activate(a3), toByteOffset: 96, as: SIMD8<Float>.self)
                    ox += 4
                }
                while ox < ow {
                    var a = bias
                    var t = 0
                    for ky in 0..<kh {
                        let line = image + ((oy + ky) * w + ox) * c
                        for kx in 0..<kw {
                            for ci in 0..<c {
                                a = a.addingProduct(SIMD8(repeating: line[kx * c + ci]), wb[t])
                                t += 1
                            }
                        }
                    }
                    UnsafeMutableRawPointer(o + ox * 8).storeBytes(of: activate(a), as: SIMD8<Float>.self)
                    ox += 1
                }
            }
        }
    }
}
