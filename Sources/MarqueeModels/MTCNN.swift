// MTCNN face detection: P-Net over an image pyramid, R-Net and O-Net on the candidates, box
// regression, non-maximum suppression and five landmarks.
//
// Weights: facenet-pytorch==2.6.0 (data/pnet.pt, rnet.pt, onet.pt), converted to safetensors
// by Models/convert.py with the checkpoint's tensor names (PyTorch layouts: conv [O, I, kh, kw],
// linear [out, in]).
//
// The pipeline reproduces facenet_pytorch/models/utils/detect_face.py as MTCNN(keep_all=True)
// runs it, step for step, including its float32 arithmetic:
//   1. pyramid scales 12/20 * 0.709^k while the short side stays >= 12 px;
//   2. each level resized with torch's interpolate(mode="area") (adaptive average pooling:
//      window floor(i*n/m)..<ceil((i+1)*n/m), sum divided by the window's height then width),
//      normalized (x - 127.5) * 0.0078125;
//   3. P-Net; cells with face probability >= 0.6 become 12x12 boxes at stride 2; NMS 0.5 per
//      level, then NMS 0.7 over all levels (torchvision IoU, no +1); box regression; squared;
//   4. crops (clipped to the image, not padded) area-resized to 24x24 for R-Net; score > 0.7;
//      NMS 0.7; regression (+1 widths); squared;
//   5. 48x48 crops for O-Net; score > 0.7; landmarks from the box before regression;
//      regression; NMS 0.7 with the 'Min' overlap (intersection over the smaller area, +1);
//   6. faces ordered largest box first (facenet-pytorch's select_largest default).
//
// Layout: NHWC throughout. P-Net is fully convolutional; R-Net and O-Net flatten their last
// activation in facenet-pytorch's permute(0, 3, 2, 1) order, absorbed into the dense weights.

import Foundation
import MarqueeMedia
import MarqueeNN

/// A face found by MTCNN.
public struct DetectedFace: Sendable, Equatable {
    /// x1, y1, x2, y2 in source-image pixels (may reach past the image's edges).
    public var box: SIMD4<Float>
    /// O-Net's face probability.
    public var score: Float
    /// Left eye, right eye, nose, left mouth corner, right mouth corner (facenet-pytorch's order).
    public var landmarks: [SIMD2<Float>]

    public init(box: SIMD4<Float>, score: Float, landmarks: [SIMD2<Float>]) {
        self.box = box
        self.score = score
        self.landmarks = landmarks
    }

    public var width: Float { box.z - box.x }
    public var height: Float { box.w - box.y }
}

public final class MTCNN {
    /// facenet-pytorch's defaults.
    public static let minimumFaceSize = 20.0
    public static let pyramidFactor = 0.709
    public static let thresholds: [Float] = [0.6, 0.7, 0.7]

    /// P-Net: three 3x3 convolutions with PReLU (a 2x2 max pool after the first) and a 1x1
    /// head of 6 outputs: 2 face logits (conv4_1) then 4 box offsets (conv4_2).
    struct PNet {
        var conv1, conv2, conv3, head: Conv2DWeights
        var prelu1, prelu2, prelu3: [Float]
    }

    /// R-Net: 3x3, 3x3, 2x2 convolutions with PReLU and max pools, a 576 → 128 dense with PReLU,
    /// and a dense head of 6 outputs: 2 face logits (dense5_1) then 4 box offsets (dense5_2).
    struct RNet {
        var conv1, conv2, conv3: Conv2DWeights
        var prelu1, prelu2, prelu3, prelu4: [Float]
        var dense4, head: DenseWeights
    }

    /// O-Net: four convolutions with PReLU and max pools, a 1152 → 256 dense with PReLU and a
    /// dense head of 16 outputs: 2 face logits (dense6_1), 4 box offsets (dense6_2), 10
    /// landmark coordinates (dense6_3: five x then five y, relative to the box).
    struct ONet {
        var conv1, conv2, conv3, conv4: Conv2DWeights
        var prelu1, prelu2, prelu3, prelu4, prelu5: [Float]
        var dense5, head: DenseWeights
    }

    let pnet: PNet
    let rnet: RNet
    let onet: ONet
    let pool: ThreadPool
    /// One workspace per P-Net worker (pyramid levels run in parallel), and one for R/O-Net.
    private var pyramidWorkspaces: [Workspace] = []
    private let stageWorkspace = Workspace()

    /// Loads the three converted weight files; every tensor is checked by name and shape.
    public init(pnetPath: String, rnetPath: String, onetPath: String, pool: ThreadPool = .shared) throws {
        self.pool = pool
        pnet = try Self.loadPNet(try WeightFile.open(pnetPath))
        rnet = try Self.loadRNet(try WeightFile.open(rnetPath))
        onet = try Self.loadONet(try WeightFile.open(onetPath))
        pyramidWorkspaces = (0..<pool.threadCount).map { _ in Workspace() }
    }

    private static func preluSlopes(_ file: WeightFile, _ name: String, _ channels: Int) throws -> [Float] {
        try file.floats(name + ".weight", shape: [channels])
    }

    /// Concatenated linear layers (same input) as one dense layer: outputs in the given order.
    private static func concatenatedLinear(_ file: WeightFile, _ names: [(String, Int)], inFeatures: Int) throws -> DenseWeights {
        var weight: [Float] = [], bias: [Float] = []
        for (name, out) in names {
            weight += try file.floats(name + ".weight", shape: [out, inFeatures])
            bias += try file.floats(name + ".bias", shape: [out])
        }
        return DenseWeights(pytorch: weight, bias: bias, inFeatures: inFeatures, outFeatures: bias.count)
    }

    static func loadPNet(_ file: WeightFile) throws -> PNet {
        let conv1 = try file.conv2d("conv1", outChannels: 10, inChannels: 3, kernel: 3, bias: true)
        let conv2 = try file.conv2d("conv2", outChannels: 16, inChannels: 10, kernel: 3, bias: true)
        let conv3 = try file.conv2d("conv3", outChannels: 32, inChannels: 16, kernel: 3, bias: true)
        let headWeight = try file.floats("conv4_1.weight", shape: [2, 32, 1, 1]) + file.floats("conv4_2.weight", shape: [4, 32, 1, 1])
        let headBias = try file.floats("conv4_1.bias", shape: [2]) + file.floats("conv4_2.bias", shape: [4])
        let head = Conv2DWeights(oihw: headWeight, bias: headBias, outChannels: 6, inChannels: 32, kernel: 1)
        let net = PNet(conv1: conv1, conv2: conv2, conv3: conv3, head: head,
                       prelu1: try preluSlopes(file, "prelu1", 10), prelu2: try preluSlopes(file, "prelu2", 16),
                       prelu3: try preluSlopes(file, "prelu3", 32))
        try file.requireAllRead()
        return net
    }

    static func loadRNet(_ file: WeightFile) throws -> RNet {
        let net = RNet(
            conv1: try file.conv2d("conv1", outChannels: 28, inChannels: 3, kernel: 3, bias: true),
            conv2: try file.conv2d("conv2", outChannels: 48, inChannels: 28, kernel: 3, bias: true),
            conv3: try file.conv2d("conv3", outChannels: 64, inChannels: 48, kernel: 2, bias: true),
            prelu1: try preluSlopes(file, "prelu1", 28), prelu2: try preluSlopes(file, "prelu2", 48),
            prelu3: try preluSlopes(file, "prelu3", 64), prelu4: try preluSlopes(file, "prelu4", 128),
            dense4: DenseWeights(pytorch: try file.floats("dense4.weight", shape: [128, 576]),
                                 bias: try file.floats("dense4.bias", shape: [128]), inFeatures: 576, outFeatures: 128,
                                 checkpointColumn: DenseWeights.flattenedColumn(height: 3, width: 3, channels: 64, order: .whc)),
            head: try concatenatedLinear(file, [("dense5_1", 2), ("dense5_2", 4)], inFeatures: 128))
        try file.requireAllRead()
        return net
    }

    static func loadONet(_ file: WeightFile) throws -> ONet {
        let net = ONet(
            conv1: try file.conv2d("conv1", outChannels: 32, inChannels: 3, kernel: 3, bias: true),
            conv2: try file.conv2d("conv2", outChannels: 64, inChannels: 32, kernel: 3, bias: true),
            conv3: try file.conv2d("conv3", outChannels: 64, inChannels: 64, kernel: 3, bias: true),
            conv4: try file.conv2d("conv4", outChannels: 128, inChannels: 64, kernel: 2, bias: true),
            prelu1: try preluSlopes(file, "prelu1", 32), prelu2: try preluSlopes(file, "prelu2", 64),
            prelu3: try preluSlopes(file, "prelu3", 64), prelu4: try preluSlopes(file, "prelu4", 128),
            prelu5: try preluSlopes(file, "prelu5", 256),
            dense5: DenseWeights(pytorch: try file.floats("dense5.weight", shape: [256, 1152]),
                                 bias: try file.floats("dense5.bias", shape: [256]), inFeatures: 1152, outFeatures: 256,
                                 checkpointColumn: DenseWeights.flattenedColumn(height: 3, width: 3, channels: 128, order: .whc)),
            head: try concatenatedLinear(file, [("dense6_1", 2), ("dense6_2", 4), ("dense6_3", 10)], inFeatures: 256))
        try file.requireAllRead()
        return net
    }

    // MARK: Networks

    /// conv → PReLU in place.
    private func convPReLU(_ x: Tensor, _ weights: Conv2DWeights, _ slopes: [Float], _ workspace: Workspace,
                           _ pool: ThreadPool) -> Tensor {
        let out = workspace.tensor(weights.outputShape(input: x.shape))
        conv2d(out: out, in: x, weights: weights, pool: pool)
        prelu(out: out, in: out, slopes: slopes, pool: pool)
        return out
    }

    private func maxPool(_ x: Tensor, kernel: Int, stride: Int, _ workspace: Workspace, _ pool: ThreadPool) -> Tensor {
        let out = workspace.tensor(pool2dOutputShape(input: x.shape, kernel: Size2(kernel, kernel),
                                                     stride: Size2(stride, stride), ceilMode: true))
        maxPool2d(out: out, in: x, kernel: Size2(kernel, kernel), stride: Size2(stride, stride), ceilMode: true, pool: pool)
        return out
    }

    /// P-Net on input [N, H, W, 3] (normalized) → [N, H', W', 6]: two face logits, four box offsets.
    func pnetForward(_ input: Tensor, workspace: Workspace, pool: ThreadPool) -> Tensor {
        var x = convPReLU(input, pnet.conv1, pnet.prelu1, workspace, pool)
        x = maxPool(x, kernel: 2, stride: 2, workspace, pool)
        x = convPReLU(x, pnet.conv2, pnet.prelu2, workspace, pool)
        x = convPReLU(x, pnet.conv3, pnet.prelu3, workspace, pool)
        let out = workspace.tensor(pnet.head.outputShape(input: x.shape))
        conv2d(out: out, in: x, weights: pnet.head, pool: pool)
        return out
    }

    /// R-Net on input [N, 24, 24, 3] → [N, 6]: two face logits, four box offsets.
    func rnetForward(_ input: Tensor) -> Tensor {
        let ws = stageWorkspace
        var x = convPReLU(input, rnet.conv1, rnet.prelu1, ws, pool)
        x = maxPool(x, kernel: 3, stride: 2, ws, pool)
        x = convPReLU(x, rnet.conv2, rnet.prelu2, ws, pool)
        x = maxPool(x, kernel: 3, stride: 2, ws, pool)
        x = convPReLU(x, rnet.conv3, rnet.prelu3, ws, pool)
        let n = input.n
        let hidden = ws.tensor([n, 128])
        dense(out: hidden, in: x.reshaped([n, 576]), weights: rnet.dense4, pool: pool)
        prelu(out: hidden, in: hidden, slopes: rnet.prelu4, pool: pool)
        let out = ws.tensor([n, 6])
        dense(out: out, in: hidden, weights: rnet.head, pool: pool)
        return out
    }

    /// O-Net on input [N, 48, 48, 3] → [N, 16]: two face logits, four box offsets, ten landmark values.
    func onetForward(_ input: Tensor) -> Tensor {
        let ws = stageWorkspace
        var x = convPReLU(input, onet.conv1, onet.prelu1, ws, pool)
        x = maxPool(x, kernel: 3, stride: 2, ws, pool)
        x = convPReLU(x, onet.conv2, onet.prelu2, ws, pool)
        x = maxPool(x, kernel: 3, stride: 2, ws, pool)
        x = convPReLU(x, onet.conv3, onet.prelu3, ws, pool)
        x = maxPool(x, kernel: 2, stride: 2, ws, pool)
        x = convPReLU(x, onet.conv4, onet.prelu4, ws, pool)
        let n = input.n
        let hidden = ws.tensor([n, 256])
        dense(out: hidden, in: x.reshaped([n, 1152]), weights: onet.dense5, pool: pool)
        prelu(out: hidden, in: hidden, slopes: onet.prelu5, pool: pool)
        let out = ws.tensor([n, 16])
        dense(out: out, in: hidden, weights: onet.head, pool: pool)
        return out
    }

    /// Softmax over two logits, second class, as torch.softmax computes it in float32.
    @inline(__always)
    static func faceProbability(_ background: Float, _ face: Float) -> Float {
        let m = max(background, face)
        let e0 = expf(background - m), e1 = expf(face - m)
        return e1 / (e0 + e1)
    }

    /// Stage outputs for tests: P-Net on one normalized [1, H, W, 3] input → probability [H', W']
    /// and regression [H', W', 4].
    public func pnetOutputs(_ input: Tensor) -> (probability: [Float], regression: [Float]) {
        let out = pnetForward(input, workspace: Workspace(), pool: pool).toArray()
        let cells = out.count / 6
        var probability = [Float](repeating: 0, count: cells), regression = [Float](repeating: 0, count: cells * 4)
        for i in 0..<cells {
            probability[i] = Self.faceProbability(out[i * 6], out[i * 6 + 1])
            for k in 0..<4 { regression[i * 4 + k] = out[i * 6 + 2 + k] }
        }
        return (probability, regression)
    }

    /// R-Net on [N, 24, 24, 3] → face probability [N] and regression [N, 4].
    public func rnetOutputs(_ input: Tensor) -> (probability: [Float], regression: [Float]) {
        let out = rnetForward(input).toArray()
        return ((0..<input.n).map { Self.faceProbability(out[$0 * 6], out[$0 * 6 + 1]) },
                (0..<input.n).flatMap { i in (2..<6).map { out[i * 6 + $0] } })
    }

    /// O-Net on [N, 48, 48, 3] → face probability [N], regression [N, 4], landmarks [N, 10].
    public func onetOutputs(_ input: Tensor) -> (probability: [Float], regression: [Float], landmarks: [Float]) {
        let out = onetForward(input).toArray()
        return ((0..<input.n).map { Self.faceProbability(out[$0 * 16], out[$0 * 16 + 1]) },
                (0..<input.n).flatMap { i in (2..<6).map { out[i * 16 + $0] } },
                (0..<input.n).flatMap { i in (6..<16).map { out[i * 16 + $0] } })
    }

    // MARK: Detection

    /// A candidate box during detection: corners, score and the regression that goes with it.
    struct Candidate {
        var x1, y1, x2, y2, score: Float
        var reg: SIMD4<Float>
    }

    /// The pyramid's scales for an image whose short side is `shortSide` pixels.
    public static func pyramidScales(shortSide: Int) -> [Double] {
        let m = 12.0 / minimumFaceSize
        var minl = Double(shortSide) * m
        var scale = m
        var scales: [Double] = []
        while minl >= 12 {
            scales.append(scale)
            scale *= pyramidFactor
            minl *= pyramidFactor
        }
        return scales
    }

    /// One pyramid level as P-Net sees it: the image area-resized to int(h * scale + 1) x
    /// int(w * scale + 1), normalized; [1, H, W, 3].
    public static func pyramidLevel(_ image: RGBImage, scale: Double) -> Tensor {
        let level = Tensor(shape: [1, Int(Double(image.height) * scale + 1), Int(Double(image.width) * scale + 1), 3])
        IntegralImage(image).areaResize(x: 0, y: 0, width: image.width, height: image.height, into: level, index: 0)
        return level
    }

    /// Faces in the image, largest box first. Not reentrant: one call at a time.
    public func detect(_ image: RGBImage) -> [DetectedFace] {
        let scales = Self.pyramidScales(shortSide: min(image.width, image.height))
        guard !scales.isEmpty else { return [] }
        let integral = IntegralImage(image)

        // Stage 1: P-Net over the pyramid; levels split across threads by pixel count.
        let levels = scales.map { scale in
            (scale: scale, height: Int(Double(image.height) * scale + 1), width: Int(Double(image.width) * scale + 1))
        }
        let workers = min(pool.threadCount, levels.count)
        var assignment = [[Int]](repeating: [], count: workers)
        var load = [Int](repeating: 0, count: workers)
        for (index, level) in levels.enumerated() {
            let w = load.indices.min { load[$0] < load[$1] }!
            assignment[w].append(index)
            load[w] += level.height * level.width
        }
        var perLevel = [[Candidate]](repeating: [], count: levels.count)
        let workspaces = pyramidWorkspaces
        perLevel.withUnsafeMutableBufferPointer { results in
            // One item per worker, so each runs on its own thread with its own workspace.
            pool.parallelFor(count: workers) { range in
                for w in range {
                    let workspace = workspaces[w]
                    for index in assignment[w] {
                        workspace.reset()
                        let level = levels[index]
                        let input = workspace.tensor([1, level.height, level.width, 3])
                        integral.areaResize(x: 0, y: 0, width: image.width, height: image.height, into: input, index: 0)
                        let out = pnetForward(input, workspace: workspace, pool: .serial)
                        let boxes = Self.generateBoxes(out, scale: level.scale, threshold: Self.thresholds[0])
                        results[index] = Self.nms(boxes, threshold: 0.5)
                    }
                }
            }
        }
        var boxes = Self.nms(perLevel.flatMap { $0 }, threshold: 0.7)
        boxes = boxes.map { b in
            let w = b.x2 - b.x1, h = b.y2 - b.y1
            return Candidate(x1: b.x1 + b.reg[0] * w, y1: b.y1 + b.reg[1] * h,
                             x2: b.x2 + b.reg[2] * w, y2: b.y2 + b.reg[3] * h, score: b.score, reg: .zero)
        }.map(Self.square)

        // Stage 2: R-Net on 24x24 crops.
        boxes = boxes.filter { integral.crop(of: $0) != nil }
        guard !boxes.isEmpty else { return [] }
        stageWorkspace.reset()
        var input = stageWorkspace.tensor([boxes.count, 24, 24, 3])
        for (i, box) in boxes.enumerated() {
            let c = integral.crop(of: box)!
            integral.areaResize(x: c.x, y: c.y, width: c.width, height: c.height, into: input, index: i)
        }
        var out = rnetForward(input).toArray()
        var passed: [Candidate] = []
        for (i, box) in boxes.enumerated() {
            let score = Self.faceProbability(out[i * 6], out[i * 6 + 1])
            guard score > Self.thresholds[1] else { continue }
            passed.append(Candidate(x1: box.x1, y1: box.y1, x2: box.x2, y2: box.y2, score: score,
                                    reg: SIMD4(out[i * 6 + 2], out[i * 6 + 3], out[i * 6 + 4], out[i * 6 + 5])))
        }
        boxes = Self.nms(passed, threshold: 0.7).map(Self.regress).map(Self.square)

        // Stage 3: O-Net on 48x48 crops, landmarks, 'Min' NMS.
        boxes = boxes.filter { integral.crop(of: $0) != nil }
        guard !boxes.isEmpty else { return [] }
        stageWorkspace.reset()
        input = stageWorkspace.tensor([boxes.count, 48, 48, 3])
        for (i, box) in boxes.enumerated() {
            let c = integral.crop(of: box)!
            integral.areaResize(x: c.x, y: c.y, width: c.width, height: c.height, into: input, index: i)
        }
        out = onetForward(input).toArray()
        var faces: [(Candidate, [SIMD2<Float>])] = []
        for (i, box) in boxes.enumerated() {
            let o = out[(i * 16)..<(i * 16 + 16)].map { $0 }
            let score = Self.faceProbability(o[0], o[1])
            guard score > Self.thresholds[2] else { continue }
            let w = box.x2 - box.x1 + 1, h = box.y2 - box.y1 + 1
            let landmarks = (0..<5).map { k in SIMD2<Float>(w * o[6 + k] + box.x1 - 1, h * o[11 + k] + box.y1 - 1) }
            let scored = Candidate(x1: box.x1, y1: box.y1, x2: box.x2, y2: box.y2, score: score,
                                   reg: SIMD4(o[2], o[3], o[4], o[5]))
            faces.append((Self.regress(scored), landmarks))
        }
        let kept = Self.nmsMin(faces.map { $0.0 }, threshold: 0.7).map { faces[$0] }
        // Largest first: numpy's argsort of the areas, reversed (ties: the later one first).
        let area = kept.map { ($0.0.x2 - $0.0.x1) * ($0.0.y2 - $0.0.y1) }
        let order = kept.indices.sorted { area[$0] < area[$1] || (area[$0] == area[$1] && $0 < $1) }.reversed()
        return order.map { i in
            let (b, landmarks) = kept[i]
            return DetectedFace(box: SIMD4(b.x1, b.y1, b.x2, b.y2), score: b.score, landmarks: landmarks)
        }
    }

    /// Faces in each image (one after another; each detection uses every thread).
    public func detect(_ images: [RGBImage]) -> [[DetectedFace]] {
        images.map { detect($0) }
    }

    /// generateBoundingBox: cells with probability >= threshold as boxes in image pixels, in
    /// row-major cell order.
    static func generateBoxes(_ out: Tensor, scale: Double, threshold: Float) -> [Candidate] {
        let h = out.h, w = out.w
        let p = out.data
        let s = Float(scale)
        var boxes: [Candidate] = []
        for y in 0..<h {
            for x in 0..<w {
                let o = p + (y * w + x) * 6
                let score = faceProbability(o[0], o[1])
                guard score >= threshold else { continue }
                let bx = Float(x), by = Float(y)
                boxes.append(Candidate(
                    x1: ((2 * bx + 1) / s).rounded(.down), y1: ((2 * by + 1) / s).rounded(.down),
                    x2: ((2 * bx + 12) / s).rounded(.down), y2: ((2 * by + 12) / s).rounded(.down),
                    score: score, reg: SIMD4(o[2], o[3], o[4], o[5])))
            }
        }
        return boxes
    }

    /// torchvision's nms: best score first (ties in input order), drop boxes whose IoU with a
    /// kept one exceeds the threshold. Areas without +1.
    static func nms(_ boxes: [Candidate], threshold: Float) -> [Candidate] {
        let order = boxes.indices.sorted { boxes[$0].score > boxes[$1].score || (boxes[$0].score == boxes[$1].score && $0 < $1) }
        var suppressed = [Bool](repeating: false, count: boxes.count)
        var kept: [Candidate] = []
        for (rank, i) in order.enumerated() where !suppressed[i] {
            let a = boxes[i]
            kept.append(a)
            let areaA = (a.x2 - a.x1) * (a.y2 - a.y1)
            for j in order[(rank + 1)...] where !suppressed[j] {
                let b = boxes[j]
                let w = max(0, min(a.x2, b.x2) - max(a.x1, b.x1))
                let h = max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
                let inter = w * h
                let iou = inter / (areaA + (b.x2 - b.x1) * (b.y2 - b.y1) - inter)
                if Double(iou) > Double(threshold) { suppressed[j] = true }
            }
        }
        return kept
    }

    /// detect_face's nms_numpy with 'Min': numpy's ascending argsort, best (last) first;
    /// overlap = intersection / smaller area, with +1 sizes; keeps boxes with overlap <= threshold.
    /// Returns indices into `boxes`.
    static func nmsMin(_ boxes: [Candidate], threshold: Float) -> [Int] {
        var remaining = boxes.indices.sorted { boxes[$0].score < boxes[$1].score || (boxes[$0].score == boxes[$1].score && $0 < $1) }
        let area = boxes.map { ($0.x2 - $0.x1 + 1) * ($0.y2 - $0.y1 + 1) }
        var picks: [Int] = []
        while let i = remaining.last {
            picks.append(i)
            let a = boxes[i]
            remaining = remaining.dropLast().filter { j in
                let b = boxes[j]
                let w = max(0, min(a.x2, b.x2) - max(a.x1, b.x1) + 1)
                let h = max(0, min(a.y2, b.y2) - max(a.y1, b.y1) + 1)
                return w * h / min(area[i], area[j]) <= threshold
            }
        }
        return picks
    }

    /// bbreg: corners moved by the regression times the +1 width and height.
    static func regress(_ b: Candidate) -> Candidate {
        let w = b.x2 - b.x1 + 1, h = b.y2 - b.y1 + 1
        return Candidate(x1: b.x1 + b.reg[0] * w, y1: b.y1 + b.reg[1] * h,
                         x2: b.x2 + b.reg[2] * w, y2: b.y2 + b.reg[3] * h, score: b.score, reg: .zero)
    }

    /// rerec: the square of the longer side, centred on the box.
    static func square(_ b: Candidate) -> Candidate {
        let h = b.y2 - b.y1, w = b.x2 - b.x1
        let l = max(w, h)
        let x1 = b.x1 + w * 0.5 - l * 0.5, y1 = b.y1 + h * 0.5 - l * 0.5
        return Candidate(x1: x1, y1: y1, x2: x1 + l, y2: y1 + l, score: b.score, reg: b.reg)
    }
}

/// Summed-area table of an RGB image, for torch's interpolate(mode="area") of any sub-rectangle.
struct IntegralImage {
    let width: Int, height: Int
    /// (height + 1) x (width + 1) x 3 sums; row 0 and column 0 are zero.
    private let sums: [Int64]

    init(_ image: RGBImage) {
        let width = image.width, height = image.height
        self.width = width
        self.height = height
        let stride = (width + 1) * 3
        var s = [Int64](repeating: 0, count: (height + 1) * stride)
        image.pixels.withUnsafeBufferPointer { px in
            s.withUnsafeMutableBufferPointer { s in
                for y in 0..<height {
                    var row: (Int64, Int64, Int64) = (0, 0, 0)
                    for x in 0..<width {
                        let p = (y * width + x) * 3
                        row.0 += Int64(px[p]); row.1 += Int64(px[p + 1]); row.2 += Int64(px[p + 2])
                        let o = (y + 1) * stride + (x + 1) * 3
                        s[o] = s[o - stride] + row.0
                        s[o + 1] = s[o + 1 - stride] + row.1
                        s[o + 2] = s[o + 2 - stride] + row.2
                    }
                }
            }
        }
        sums = s
    }

    /// detect_face's pad() and crop: the box truncated to integers, clipped to the image;
    /// nil when nothing of it is inside.
    func crop(of box: MTCNN.Candidate) -> (x: Int, y: Int, width: Int, height: Int)? {
        func truncated(_ v: Float) -> Int { v.isFinite ? Int(max(min(v, 1e9), -1e9)) : 0 }
        let x = max(truncated(box.x1), 1), y = max(truncated(box.y1), 1)
        let ex = min(truncated(box.x2), width), ey = min(truncated(box.y2), height)
        guard ex > x - 1 && ey > y - 1 else { return nil }
        return (x - 1, y - 1, ex - (x - 1), ey - (y - 1))
    }

    /// Area-resizes the rectangle into `out[index]` ([N, H, W, 3]), normalized (x - 127.5) / 128.
    func areaResize(x: Int, y: Int, width w: Int, height h: Int, into out: Tensor, index: Int) {
        let oh = out.h, ow = out.w
        let stride = (width + 1) * 3
        var columns: [(Int, Int)] = []
        columns.reserveCapacity(ow)
        for j in 0..<ow { columns.append((j * w / ow, ((j + 1) * w + ow - 1) / ow)) }
        let dst = out.data + index * oh * ow * 3
        sums.withUnsafeBufferPointer { s in
            for i in 0..<oh {
                let y0 = i * h / oh, y1 = ((i + 1) * h + oh - 1) / oh
                let kh = Float(y1 - y0)
                let top = (y + y0) * stride, bottom = (y + y1) * stride
                for j in 0..<ow {
                    let (x0, x1) = columns[j]
                    let kw = Float(x1 - x0)
                    let left = (x + x0) * 3, right = (x + x1) * 3
                    let o = dst + (i * ow + j) * 3
                    for c in 0..<3 {
                        let sum = s[bottom + right + c] - s[top + right + c] - s[bottom + left + c] + s[top + left + c]
                        o[c] = (Float(sum) / kh / kw - 127.5) * 0.0078125
                    }
                }
            }
        }
    }
}

extension ModelStore {
    public func mtcnn(pool: ThreadPool = .shared) throws -> MTCNN {
        try MTCNN(pnetPath: path("mtcnn_pnet.safetensors"), rnetPath: path("mtcnn_rnet.safetensors"),
                  onetPath: path("mtcnn_onet.safetensors"), pool: pool)
    }
}
