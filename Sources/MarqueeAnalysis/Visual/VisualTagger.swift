// Visual tags and the visual embedding of a title from EfficientNet-Lite0 on sampled frames.
//
// Each sampled frame stands for the stretch of the title until the next sample (its
// weight): a tag's score is the weighted mean of its probability, its share is the weighted
// fraction of frames where it is among the frame's top five with probability ≥ 0.1, and its
// time ranges join those frames' stretches. The embedding is the weighted mean of the
// 1280-d features, L2-normalised.

import MarqueeMedia
import MarqueeModels
import MarqueeNN

public struct TimeRange: Codable, Equatable, Sendable {
    public var start: Double
    public var end: Double
    public init(start: Double, end: Double) {
        self.start = start
        self.end = end
    }
}

public struct Tag: Codable, Equatable, Sendable {
    public var label: String
    /// Class index in the model's label list.
    public var classIndex: Int
    public var score: Float
    /// Weighted fraction of the title where the tag is present.
    public var share: Float
    public var ranges: [TimeRange]

    public init(label: String, classIndex: Int, score: Float, share: Float, ranges: [TimeRange]) {
        self.label = label
        self.classIndex = classIndex
        self.score = score
        self.share = share
        self.ranges = ranges
    }

    enum CodingKeys: String, CodingKey { case label, classIndex = "class", score, share, ranges }
}

public final class VisualTagger {
    /// The size a decode pass scales frames to for EfficientNet: short side at most 256 (the
    /// model's resize) by swscale, smaller frames as they are; the model does the rest.
    public static func modelCopySize(display: FrameSize) -> FrameSize {
        let short = min(display.width, display.height)
        let scale = short > EfficientNetLite0.resizeShortSide ? Double(EfficientNetLite0.resizeShortSide) / Double(short) : 1
        return FrameSize(width: max(1, Int((Double(display.width) * scale).rounded())),
                         height: max(1, Int((Double(display.height) * scale).rounded())))
    }

    public static let presenceThreshold: Float = 0.1
    public static let presenceTopK = 5

    private let model: EfficientNetLite0
    private let batchSize: Int
    private var pending: [(crop: RGBImage, time: Double, weight: Double)] = []
    private var probabilitySums: [Double]
    private var featureSums: [Double]
    private var presence: [Int: [(TimeRange, Double)]] = [:]
    private var totalWeight = 0.0
    public private(set) var framesTagged = 0

    public init(model: EfficientNetLite0, batchSize: Int = 8) {
        self.model = model
        self.batchSize = batchSize
        probabilitySums = [Double](repeating: 0, count: EfficientNetLite0.classCount)
        featureSums = [Double](repeating: 0, count: EfficientNetLite0.featureCount)
    }

    /// A frame shown from `time` for `weight` seconds.
    public func add(_ image: RGBImage, time: Double, weight: Double) {
        pending.append((EfficientNetLite0.resizedCrop(image), time, max(weight, 1e-3)))
        if pending.count == batchSize { flush() }
    }

    public struct Summary: Sendable {
        public var tags: [Tag]
        /// L2-normalised, 1280 values; nil when no frame was tagged.
        public var embedding: [Float]?
        public var frames: Int
    }

    public func finish(top: Int = 20) -> Summary {
        flush()
        guard totalWeight > 0 else { return Summary(tags: [], embedding: nil, frames: 0) }
        let scores = probabilitySums.map { Float($0 / totalWeight) }
        var tags: [Tag] = []
        for index in scores.indices.sorted(by: { scores[$0] > scores[$1] }).prefix(top) {
            let present = presence[index] ?? []
            let share = Float(present.reduce(0) { $0 + $1.1 } / totalWeight)
            tags.append(Tag(label: model.labels[index], classIndex: index, score: scores[index], share: share,
                            ranges: Self.merge(present.map(\.0))))
        }
        return Summary(tags: tags, embedding: l2Normalized(featureSums.map { Float($0 / totalWeight) }), frames: framesTagged)
    }

    private func flush() {
        guard !pending.isEmpty else { return }
        let side = EfficientNetLite0.inputSize
        let input = Tensor(shape: [pending.count, side, side, 3])
        for (i, item) in pending.enumerated() { EfficientNetLite0.normalize(item.crop, into: input, index: i) }
        let output = model.forward(input)
        let logits = output.logits.toArray(), features = output.features.toArray()
        let classes = EfficientNetLite0.classCount, width = EfficientNetLite0.featureCount
        for (i, item) in pending.enumerated() {
            let probabilities = EfficientNetLite0.probabilities(Array(logits[(i * classes)..<((i + 1) * classes)]))
            for c in 0..<classes { probabilitySums[c] += Double(probabilities[c]) * item.weight }
            for f in 0..<width { featureSums[f] += Double(features[i * width + f]) * item.weight }
            let range = TimeRange(start: item.time, end: item.time + item.weight)
            for c in probabilities.indices.sorted(by: { probabilities[$0] > probabilities[$1] }).prefix(Self.presenceTopK)
            where probabilities[c] >= Self.presenceThreshold {
                presence[c, default: []].append((range, item.weight))
            }
            totalWeight += item.weight
        }
        framesTagged += pending.count
        pending.removeAll(keepingCapacity: true)
    }

    /// Joins ranges that touch or overlap (within a tenth of a second).
    static func merge(_ ranges: [TimeRange]) -> [TimeRange] {
        var merged: [TimeRange] = []
        for range in ranges.sorted(by: { $0.start < $1.start }) {
            if let last = merged.last, range.start <= last.end + 0.1 {
                merged[merged.count - 1].end = max(last.end, range.end)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}

/// x / ‖x‖₂, or nil for a zero vector.
func l2Normalized(_ values: [Float]) -> [Float]? {
    let norm = values.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
    guard norm > 0, norm.isFinite else { return nil }
    return values.map { Float(Double($0) / norm) }
}
