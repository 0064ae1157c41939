// MusiCNN (MTT_musicnn): 50 MagnaTagATune music tags and the features behind the acoustic
// embedding, from 3-second log-mel patches.
//
// Weights: musicnn==0.1.0, folder MTT_musicnn (a TensorFlow 1 checkpoint), converted to
// safetensors by Models/convert.py with the checkpoint's variable names (conv2d/kernel,
// batch_normalization_3/moving_mean, dense_1/bias, …) and TensorFlow layouts: conv kernels
// [kh, kw, in, out] with kh along time, dense kernels [in, out]. Batch norms (epsilon 1e-3,
// tf.compat.v1.layers' default) are folded here at load where a linear layer precedes them
// directly; where a ReLU sits between, they stay as a per-channel affine map.
//
// Architecture (musicnn/models.py, build_musicnn with num_filt_midend 64, num_units_backend
// 200), for one patch x [187 frames, 96 mel bands], laid out NHWC as [N, 187, 96, 1]:
//
//   input bn      batch_normalization (one channel)                        [N, 187, 96, 1]
//   front end, musically motivated (concatenated: 204 + 204 + 51 + 51 + 51 = 561)
//     timbral f74  pad time 3|3, conv2d   7x38 valid → ReLU → bn_1 → max over frequency [N, 187, 204]
//     timbral f77  pad time 3|3, conv2d_1 7x67 valid → ReLU → bn_2 → max over frequency [N, 187, 204]
//     temporal s1  conv2d_2 128x1 same → ReLU → bn_3 → max over frequency              [N, 187, 51]
//     temporal s2  conv2d_3  64x1 same → ReLU → bn_4 → max over frequency              [N, 187, 51]
//     temporal s3  conv2d_4  32x1 same → ReLU → bn_5 → max over frequency              [N, 187, 51]
//   mid end, dense connections (1-d convolutions over time, 'same' by zero padding 3|3)
//     cnn1  conv2d_5 7x561 → ReLU → bn_6                    [N, 187, 64]
//     cnn2  conv2d_6 7x64  → ReLU → bn_7, + cnn1            [N, 187, 64]
//     cnn3  conv2d_7 7x64  → ReLU → bn_8, + cnn2            [N, 187, 64]
//     features = concat(front end, cnn1, cnn2, cnn3)        [N, 187, 753]
//   back end
//     max_pool, mean_pool over time                         [N, 753] each
//     flatten(concat([max, mean], axis 2)) interleaves them: [max0, mean0, max1, mean1, …]
//     bn_9 → dense 1506→200 → ReLU → bn_10 = penultimate    [N, 200]
//     dense_1 200→50 → sigmoid = probabilities              [N, 50]
//
// The padding is applied after the input batch norm, so it pads with zeros in normalized
// units; the input norm therefore runs on its own rather than folded into the convolutions.
// A batch norm followed by a max over frequency is applied after the max: max(a·x + b) is
// a·max(x) + b for a ≥ 0 and a·min(x) + b for a < 0.

import Foundation
import MarqueeNN

public final class MusiCNN {
    /// Frames per patch: librosa.time_to_frames(3 s) + 1 at 16 kHz, hop 256, n_fft 512.
    public static let patchFrames = 187
    public static let melBands = LogMel.melBands
    public static let tagCount = 50
    public static let penultimateSize = 200
    /// Channels of the mid-end feature map that is max- and mean-pooled over time.
    public static let pooledSize = 753
    static let frontEndSize = 561

    /// A convolution whose ReLU output goes through a batch norm (as a per-channel affine map).
    struct ConvBlock {
        var conv: Conv2DWeights
        var scale: [Float]
        var shift: [Float]
    }

    let inputScale: Float
    let inputShift: Float
    let timbral74: ConvBlock
    let timbral77: ConvBlock
    let temporal: [ConvBlock]  // kernels 128, 64, 32 along time
    let midend: [ConvBlock]    // cnn1, cnn2, cnn3
    /// bn_9 folded in.
    let penultimateDense: DenseWeights
    let penultimateScale: [Float]
    let penultimateShift: [Float]
    let classifier: DenseWeights
    public let labels: [String]
    let pool: ThreadPool
    private let workspace = Workspace()

    /// Loads converted weights; every tensor is checked by name and shape, and a file with
    /// tensors the model does not use is refused.
    public init(weightsPath: String, labelsPath: String, pool: ThreadPool = .shared) throws {
        let file = try WeightFile.open(weightsPath)
        func batchNorm(_ index: Int, _ channels: Int) throws -> (scale: [Float], shift: [Float]) {
            let prefix = index == 0 ? "batch_normalization" : "batch_normalization_\(index)"
            let shape = [channels]
            return BatchNorm(gamma: try file.floats(prefix + "/gamma", shape: shape),
                             beta: try file.floats(prefix + "/beta", shape: shape),
                             mean: try file.floats(prefix + "/moving_mean", shape: shape),
                             variance: try file.floats(prefix + "/moving_variance", shape: shape),
                             epsilon: 1e-3).scaleAndShift()
        }
        func block(_ index: Int, kernel: Size2, in inChannels: Int, out: Int, bn: Int) throws -> ConvBlock {
            let prefix = index == 0 ? "conv2d" : "conv2d_\(index)"
            // TensorFlow convolves the mid end's [time, channels, 1] maps with full-width
            // kernels [7, C, 1, out]; as [7, 1, C, out] the values are in the same order.
            let tfShape = inChannels == 1 ? [kernel.h, kernel.w, 1, out] : [kernel.h, inChannels, 1, out]
            let weight = try file.floats(prefix + "/kernel", shape: tfShape)
            let conv = Conv2DWeights(hwio: weight, bias: try file.floats(prefix + "/bias", shape: [out]),
                                     outChannels: out, inChannels: inChannels, kernel: kernel)
            let (scale, shift) = try batchNorm(bn, out)
            return ConvBlock(conv: conv, scale: scale, shift: shift)
        }
        let input = try batchNorm(0, 1)
        inputScale = input.scale[0]
        inputShift = input.shift[0]
        timbral74 = try block(0, kernel: Size2(7, 38), in: 1, out: 204, bn: 1)
        timbral77 = try block(1, kernel: Size2(7, 67), in: 1, out: 204, bn: 2)
        temporal = try [(2, 128), (3, 64), (4, 32)].map { index, length in
            try block(index, kernel: Size2(length, 1), in: 1, out: 51, bn: index + 1)
        }
        midend = try [
            block(5, kernel: Size2(7, 1), in: Self.frontEndSize, out: 64, bn: 6),
            block(6, kernel: Size2(7, 1), in: 64, out: 64, bn: 7),
            block(7, kernel: Size2(7, 1), in: 64, out: 64, bn: 8),
        ]
        // bn_9 (over the interleaved max/mean vector) folds into the dense layer after it.
        let flat = 2 * Self.pooledSize
        let (s9, t9) = try batchNorm(9, flat)
        var kernel = try file.floats("dense/kernel", shape: [flat, Self.penultimateSize])
        var bias = try file.floats("dense/bias", shape: [Self.penultimateSize])
        for i in 0..<flat {
            for o in 0..<Self.penultimateSize {
                bias[o] += kernel[i * Self.penultimateSize + o] * t9[i]
                kernel[i * Self.penultimateSize + o] *= s9[i]
            }
        }
        penultimateDense = DenseWeights(keras: kernel, bias: bias, inFeatures: flat, outFeatures: Self.penultimateSize)
        (penultimateScale, penultimateShift) = try batchNorm(10, Self.penultimateSize)
        classifier = DenseWeights(keras: try file.floats("dense_1/kernel", shape: [Self.penultimateSize, Self.tagCount]),
                                  bias: try file.floats("dense_1/bias", shape: [Self.tagCount]),
                                  inFeatures: Self.penultimateSize, outFeatures: Self.tagCount)
        try file.requireAllRead()
        labels = try ModelLabels.read(path: labelsPath, expectedCount: Self.tagCount)
        self.pool = pool
    }

    /// Multiply-accumulates of one patch (convolutions and dense layers).
    public static var multiplyAccumulates: Int {
        let t = patchFrames
        return t * 59 * 204 * 7 * 38 + t * 30 * 204 * 7 * 67 + t * 96 * 51 * (128 + 64 + 32)
            + t * 64 * 7 * (561 + 64 + 64) + 1506 * 200 + 200 * 50
    }

    // MARK: Forward pass

    public struct Output {
        /// [N, 50] sigmoid probabilities.
        public var probabilities: Tensor
        /// [N, 200]: bn_10 of the penultimate dense layer (musicnn's "penultimate").
        public var penultimate: Tensor
        /// [N, 753] each: the mid-end feature map pooled over time.
        public var meanPool: Tensor
        public var maxPool: Tensor
    }

    /// Intermediate activations by musicnn's feature names: "timbral" [N, 187, 408],
    /// "temporal" [N, 187, 153], "cnn1", "cnn2", "cnn3" [N, 187, 64] (as rank-4 tensors with
    /// a width of 1).
    public typealias Probe = (String, Tensor) -> Void

    /// logMel [N, 187, 96] (any rank-3 or NHWC [N, 187, 96, 1] tensor) → probabilities and
    /// features. Not reentrant: one forward pass at a time.
    public func forward(_ logMel: Tensor, probe: Probe? = nil) -> Output {
        let n = logMel.shape[0], t = Self.patchFrames, bands = Self.melBands
        precondition(logMel.count == n * t * bands, "MusiCNN input \(logMel.shape), expected [N, \(t), \(bands)]")
        workspace.reset()
        let x = workspace.tensor([n, t, bands, 1])
        let src = logMel.data, dst = x.data
        for i in 0..<x.count { dst[i] = src[i] * inputScale + inputShift }

        // Front end: every branch writes its pooled [N, 187, C] slice of one 561-wide map.
        let front = workspace.tensor([n, t, 1, Self.frontEndSize])
        var offset = 0
        for (branch, padTime) in [(timbral74, true), (timbral77, true)] + temporal.map({ ($0, false) }) {
            let padding: Padding2D = padTime ? .explicit(top: 3, left: 0, bottom: 3, right: 0) : .same
            let map = workspace.tensor(branch.conv.outputShape(input: x.shape, padding: padding))
            conv2d(out: map, in: x, weights: branch.conv, padding: padding, activation: .relu, pool: pool)
            Self.affineMaxOverWidth(out: front, channelOffset: offset, in: map, scale: branch.scale, shift: branch.shift)
            offset += branch.conv.outChannels
        }
        if let probe {
            probe("timbral", Self.channels(front, 0..<408))
            probe("temporal", Self.channels(front, 408..<561))
        }

        // Mid end.
        let timePadding = Padding2D.explicit(top: 3, left: 0, bottom: 3, right: 0)
        var cnn: [Tensor] = []
        var previous = front
        for (index, block) in midend.enumerated() {
            let y = workspace.tensor([n, t, 1, 64])
            conv2d(out: y, in: previous, weights: block.conv, padding: timePadding, activation: .relu, pool: pool)
            Self.affine(y, scale: block.scale, shift: block.shift, residual: index == 0 ? nil : previous)
            cnn.append(y)
            probe?("cnn\(index + 1)", y)
            previous = y
        }

        // Back end: max and mean over time of concat(front, cnn1, cnn2, cnn3), interleaved.
        let maxPool = Tensor(shape: [n, Self.pooledSize])
        let meanPool = Tensor(shape: [n, Self.pooledSize])
        let pooled = workspace.tensor([n, 2 * Self.pooledSize])
        var base = 0
        for part in [front] + cnn {
            Self.poolOverTime(max: maxPool, mean: meanPool, channelOffset: base, in: part)
            base += part.c
        }
        for b in 0..<n {
            for c in 0..<Self.pooledSize {
                pooled.data[b * 2 * Self.pooledSize + 2 * c] = maxPool.data[b * Self.pooledSize + c]
                pooled.data[b * 2 * Self.pooledSize + 2 * c + 1] = meanPool.data[b * Self.pooledSize + c]
            }
        }
        let penultimate = Tensor(shape: [n, Self.penultimateSize])
        dense(out: penultimate, in: pooled, weights: penultimateDense, activation: .relu, pool: pool)
        channelAffine(out: penultimate, in: penultimate, scale: penultimateScale, shift: penultimateShift, pool: pool)
        let probabilities = Tensor(shape: [n, Self.tagCount])
        dense(out: probabilities, in: penultimate, weights: classifier, pool: pool)
        sigmoid(out: probabilities, in: probabilities, pool: pool)
        return Output(probabilities: probabilities, penultimate: penultimate, meanPool: meanPool, maxPool: maxPool)
    }

    // MARK: Small ops of this network

    /// out[b, t, 0, offset + c] = max over w of (in[b, t, w, c] · scale[c] + shift[c]).
    static func affineMaxOverWidth(out: Tensor, channelOffset: Int, in input: Tensor, scale: [Float], shift: [Float]) {
        let rows = input.n * input.h, width = input.w, channels = input.c
        let outStride = out.c
        for row in 0..<rows {
            let src = input.data + row * width * channels
            let dst = out.data + row * outStride + channelOffset
            var c = 0
            while c + 8 <= channels {
                var hi = SIMD8<Float>(UnsafeBufferPointer(start: src + c, count: 8))
                var lo = hi
                for w in 1..<width {
                    let v = SIMD8<Float>(UnsafeBufferPointer(start: src + w * channels + c, count: 8))
                    hi = pointwiseMax(hi, v)
                    lo = pointwiseMin(lo, v)
                }
                for j in 0..<8 {
                    let s = scale[c + j]
                    dst[c + j] = (s >= 0 ? hi[j] : lo[j]) * s + shift[c + j]
                }
                c += 8
            }
            while c < channels {
                var hi = src[c], lo = src[c]
                for w in 1..<width {
                    hi = max(hi, src[w * channels + c])
                    lo = min(lo, src[w * channels + c])
                }
                dst[c] = (scale[c] >= 0 ? hi : lo) * scale[c] + shift[c]
                c += 1
            }
        }
    }

    /// x = x · scale + shift (+ residual), per channel over the last axis, in place.
    static func affine(_ x: Tensor, scale: [Float], shift: [Float], residual: Tensor?) {
        let channels = x.shape.last!, rows = x.count / channels
        for r in 0..<rows {
            for c in 0..<channels {
                var v = x.data[r * channels + c] * scale[c] + shift[c]
                if let residual { v += residual.data[r * channels + c] }
                x.data[r * channels + c] = v
            }
        }
    }

    /// max[b, offset + c] and mean[b, offset + c] over the time axis of in [N, T, 1, C].
    static func poolOverTime(max maxOut: Tensor, mean meanOut: Tensor, channelOffset: Int, in input: Tensor) {
        let frames = input.h, channels = input.c, stride = maxOut.shape[1]
        for b in 0..<input.n {
            let src = input.data + b * frames * channels
            for c in 0..<channels {
                var hi = src[c], sum = src[c]
                for t in 1..<frames {
                    let v = src[t * channels + c]
                    hi = max(hi, v)
                    sum += v
                }
                maxOut.data[b * stride + channelOffset + c] = hi
                meanOut.data[b * stride + channelOffset + c] = sum / Float(frames)
            }
        }
    }

    /// A copy of channels `range` of an [N, T, 1, C] map, as [N, T, 1, range.count].
    static func channels(_ input: Tensor, _ range: Range<Int>) -> Tensor {
        let rows = input.count / input.c
        let out = Tensor(shape: [input.n, input.h, input.w, range.count])
        for r in 0..<rows {
            for (j, c) in range.enumerated() { out.data[r * range.count + j] = input.data[r * input.c + c] }
        }
        return out
    }
}
