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
// A ReLU and batch norm followed by a max over frequency are applied after the max: the ReLU
// is monotonic, and max(a·x + b) is a·max(x) + b for a ≥ 0 and a·min(x) + b for a < 0.
//
// The front end's five convolutions have one input channel and wide kernels, and are 80% of
// the network's multiply-adds if computed directly; they run through FFTs instead
// (MarqueeNN/SpectralConvolution.swift), with the max (and min) over frequency fused in:
//   timbral  FFTs of 128 along frequency of every (padded) time row, shared by both kernels;
//            per output row, 7 taps of complex products per bin, one inverse FFT per channel.
//   temporal FFTs of 256 along time of every mel band. The three kernels become one of 153
//            channels: TensorFlow's "same" pads a kernel of L taps with (L - 1) / 2 zeros
//            before, so kernels 64 and 32 sit at taps 32 and 48 of a 128-tap kernel padded
//            by 63, which reads exactly the same inputs.

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

    /// A front-end convolution computed through FFTs, then ReLU, batch norm and a max.
    struct SpectralBlock {
        var conv: SpectralConvWeights
        var scale: [Float]
        var shift: [Float]
    }

    let inputScale: Float
    let inputShift: Float
    let timbral74: SpectralBlock
    let timbral77: SpectralBlock
    /// conv2d_2, conv2d_3, conv2d_4 (128, 64, 32 taps along time) as one 153-channel kernel.
    let temporal: SpectralBlock
    let midend: [ConvBlock]    // cnn1, cnn2, cnn3
    /// bn_9 folded in.
    let penultimateDense: DenseWeights
    let penultimateScale: [Float]
    let penultimateShift: [Float]
    let classifier: DenseWeights
    public let labels: [String]
    let pool: ThreadPool
    private let workspace = Workspace()
    private let timbralSpectra = RowSpectra()
    private let temporalSpectra = RowSpectra()
    /// When set, receives the wall-clock seconds of each stage of every forward pass
    /// ("timbral 7x38", "mid end", …), for profiling.
    public var stageTimer: ((String, Double) -> Void)?

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
        let bands = Self.melBands, frames = Self.patchFrames
        func timbral(_ index: Int, width: Int, bn: Int) throws -> SpectralBlock {
            let prefix = index == 0 ? "conv2d" : "conv2d_\(index)"
            let conv = SpectralConvWeights(
                hwo: try file.floats(prefix + "/kernel", shape: [7, width, 1, 204]),
                bias: try file.floats(prefix + "/bias", shape: [204]), outChannels: 204,
                kernel: Size2(7, width), inputWidth: bands, padLeft: 0, outputWidth: bands - width + 1)
            let (scale, shift) = try batchNorm(bn, 204)
            return SpectralBlock(conv: conv, scale: scale, shift: shift)
        }
        timbral74 = try timbral(0, width: 38, bn: 1)
        timbral77 = try timbral(1, width: 67, bn: 2)
        // [1, 128, 1, 153]: branch b's kernel of L taps at taps 63 - (L - 1) / 2 ..< +L.
        let taps = 128, perBranch = 51, merged = 3 * perBranch
        var temporalKernel = [Float](repeating: 0, count: taps * merged)
        var temporalBias: [Float] = [], temporalScale: [Float] = [], temporalShift: [Float] = []
        for (branch, length) in [128, 64, 32].enumerated() {
            let index = branch + 2
            let weight = try file.floats("conv2d_\(index)/kernel", shape: [length, 1, 1, perBranch])
            let first = (taps - 1) / 2 - (length - 1) / 2
            for j in 0..<length {
                for c in 0..<perBranch {
                    temporalKernel[(first + j) * merged + branch * perBranch + c] = weight[j * perBranch + c]
                }
            }
            temporalBias += try file.floats("conv2d_\(index)/bias", shape: [perBranch])
            let (scale, shift) = try batchNorm(index + 1, perBranch)
            temporalScale += scale
            temporalShift += shift
        }
        temporal = SpectralBlock(
            conv: SpectralConvWeights(hwo: temporalKernel, bias: temporalBias, outChannels: merged, kernel: Size2(1, taps),
                                      inputWidth: frames, padLeft: (taps - 1) / 2, outputWidth: frames),
            scale: temporalScale, shift: temporalShift)
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
        let clock = StageClock(stageTimer)
        let x = workspace.tensor([n, t, bands])
        let src = logMel.data, dst = x.data
        for i in 0..<x.count { dst[i] = src[i] * inputScale + inputShift }

        // Front end: every branch writes its pooled [N, 187, C] slice of one 561-wide map.
        let front = workspace.tensor([n, t, 1, Self.frontEndSize])
        timbralSpectra.compute(x, shape: (n, t, bands), axis: .inner, fft: timbral74.conv.fft,
                               padTop: 3, padBottom: 3, pool: pool)
        clock.lap("timbral input FFTs")
        for (name, branch, offset) in [("timbral 7x38", timbral74, 0), ("timbral 7x67", timbral77, 204)] {
            let hi = workspace.tensor([n, t, 204]), lo = workspace.tensor([n, t, 204])
            spectralConvolution(max: hi, min: lo, spectra: timbralSpectra, weights: branch.conv,
                                reduction: .overWidth, pool: pool)
            Self.reluAffine(out: front, channelOffset: offset, max: hi, min: lo, scale: branch.scale, shift: branch.shift)
            clock.lap(name)
        }
        temporalSpectra.compute(x, shape: (n, t, bands), axis: .outer, fft: temporal.conv.fft,
                                padTop: 0, padBottom: 0, pool: pool)
        let hi = workspace.tensor([n, t, 153]), lo = workspace.tensor([n, t, 153])
        spectralConvolution(max: hi, min: lo, spectra: temporalSpectra, weights: temporal.conv,
                            reduction: .overRows, pool: pool)
        Self.reluAffine(out: front, channelOffset: 408, max: hi, min: lo, scale: temporal.scale, shift: temporal.shift)
        clock.lap("temporal (3)")
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
        clock.lap("mid end")
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
        clock.lap("back end")
        return Output(probabilities: probabilities, penultimate: penultimate, meanPool: meanPool, maxPool: maxPool)
    }

    // MARK: Small ops of this network

    /// Reports the time since the previous lap to the stage timer, if there is one.
    final class StageClock {
        let timer: ((String, Double) -> Void)?
        var last: Double

        init(_ timer: ((String, Double) -> Void)?) {
            self.timer = timer
            last = timer == nil ? 0 : Self.now()
        }

        func lap(_ stage: String) {
            guard let timer else { return }
            let now = Self.now()
            timer(stage, now - last)
            last = now
        }

        static func now() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
    }

    /// out[row, offset + c] = ReLU(max[row, c]) · scale[c] + shift[c], with min in place of max
    /// where scale[c] < 0: the batch-normed ReLU of a convolution, maxed over frequency.
    static func reluAffine(out: Tensor, channelOffset: Int, max maxIn: Tensor, min minIn: Tensor,
                           scale: [Float], shift: [Float]) {
        let channels = scale.count, rows = maxIn.count / channels
        let outStride = out.c
        for row in 0..<rows {
            let hi = maxIn.data + row * channels, lo = minIn.data + row * channels
            let dst = out.data + row * outStride + channelOffset
            for c in 0..<channels {
                let s = scale[c]
                dst[c] = Swift.max(s >= 0 ? hi[c] : lo[c], 0) * s + shift[c]
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
    /// Rows are read in order (contiguous over channels); the sums run in time order.
    static func poolOverTime(max maxOut: Tensor, mean meanOut: Tensor, channelOffset: Int, in input: Tensor) {
        let frames = input.h, channels = input.c, stride = maxOut.shape[1]
        for b in 0..<input.n {
            let src = input.data + b * frames * channels
            let hi = maxOut.data + b * stride + channelOffset
            let sum = meanOut.data + b * stride + channelOffset
            hi.update(from: src, count: channels)
            sum.update(from: src, count: channels)
            for t in 1..<frames {
                let row = src + t * channels
                for c in 0..<channels {
                    hi[c] = max(hi[c], row[c])
                    sum[c] += row[c]
                }
            }
            for c in 0..<channels { sum[c] /= Float(frames) }
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
