// 3D convolution weights for (2+1)D networks (TransNetV2), whose 3x3x3 convolutions are
// factored into a 1x3x3 spatial one (run frame by frame, Winograd.swift) and a kt x 1 x 1
// temporal one (TemporalConvolution.swift), which takes these weights.

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
}
