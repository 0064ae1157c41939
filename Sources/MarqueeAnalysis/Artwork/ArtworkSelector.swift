// Artwork candidates of a title: frames sampled inside shots, filtered, scored and picked for
// diversity, fed one at a time from the title's single decode pass.
//
// Streaming: `consider(_:)` takes each sampled frame (full resolution, with its EfficientNet
// features), `closeShot(_:)` is told about each shot as soon as the shot detector closes it,
// and `finish(shots:)` takes the title's shot list and returns the ranked candidates.
//
// Memory does not grow with the title: when shots are reported while decoding
// (`Options.streamingShots`), a shot keeps at most `keptPerShot` full-resolution frames (the
// best by a provisional score), the whole title at most `poolCapacity`, and frames not yet
// known to belong to a closed shot are pruned to `keptPerShot` once they are `shotLagFrames`
// behind the newest frame (the shot detector reports a boundary within about 100 frames,
// so all of them lie in the shot in progress). The title statistics the scores are relative
// to (median sharpness, mean feature) are a fixed-size histogram and a running sum.
//
// Hard filters, each of which a candidate must pass:
// - not black, not near-uniform, not a caption card (FrameQuality's flags);
// - sharp: sharpness at least `blurRatio` (0.2) of the title's median sharpness and at least
//   `blurFloor`;
// - away from transitions: not inside a transition the shot detector reports, nor within
//   `cutMargin` (0.25 s) of a cut or `gradualMargin` (0.5 s) of a gradual transition;
// - not faded: within `fadeWindow` (1.5 s) of a gradual transition, its contrast and mean luma
//   are each at least `fadeRatio` (0.75) of the highest in its shot.
//
// Score, every component in 0...1:
//   quality = 0.4 sharpness + 0.25 exposure + 0.2 contrast + 0.15 colourfulness, where
//     sharpness = 0.5 + log2(sharpness / title median) / 4 (clamped: 4x the median scores 1),
//     exposure = 1 − |mean luma − 0.45| / 0.45 − 2 max(0, highlights − 5%) − max(0, shadows − 35%),
//     contrast = RMS contrast / 0.2, colourfulness = M / 80;
//   face = FaceAssessment.score, expression = its expression intensity (1 − neutral);
//   distinctiveness = 1 − cosine(EfficientNet feature, the title's mean feature), divided by
//     the largest among the frames that passed the filters (while streaming, by 0.5).
//   With a face analyzer: 0.35 quality + 0.3 face + 0.15 expression + 0.2 distinctiveness;
//   without one: 0.6 quality + 0.4 distinctiveness.
// Diversity: maximal marginal relevance, λ·score − (1 − λ)·max cosine to the frames already
// picked (λ = 0.7), at most `perShot` (1) candidate per shot.

import Foundation
import MarqueeMedia

/// A sampled frame offered as artwork.
public struct ArtworkFrame {
    /// Frame index in decode order (the shot detector's frame numbering).
    public var index: Int
    /// Presentation time in seconds.
    public var time: Double
    /// The frame at full resolution.
    public var image: RGBImage
    /// EfficientNet-Lite0's 1280 pooled features of the frame.
    public var features: [Float]

    public init(index: Int, time: Double, image: RGBImage, features: [Float]) {
        self.index = index
        self.time = time
        self.image = image
        self.features = features
    }
}

/// Every component of a candidate's score, each in 0...1.
public struct ArtworkScore: Sendable, Equatable, Codable {
    public var sharpness: Float
    public var exposure: Float
    public var contrast: Float
    public var colourfulness: Float
    /// 0.4 sharpness + 0.25 exposure + 0.2 contrast + 0.15 colourfulness.
    public var quality: Float
    /// FaceAssessment.score; nil when no face analyzer ran.
    public var face: Float?
    /// 1 − p(neutral) of the largest face; nil when no face analyzer ran.
    public var expression: Float?
    public var distinctiveness: Float
    /// The weighted sum.
    public var total: Float
}

/// One ranked artwork candidate.
public struct ArtworkCandidate: Sendable, Encodable {
    /// 1-based.
    public var rank: Int
    public var time: Double
    public var frame: Int
    /// 0-based index into the title's shot list.
    public var shot: Int
    public var score: Float
    public var components: ArtworkScore
    /// The raw measures behind the quality components.
    public var quality: FrameQuality
    /// The face assessment; nil when no face analyzer ran.
    public var face: FaceAssessment?
    public var faces: [FaceObservation]
    /// The hard filters the frame passed, in words.
    public var reasons: [String]
    /// The frame at full resolution.
    public var image: RGBImage
    /// Where the PNG was written, once it was (`write(_:to:)`).
    public var file: String?

    enum CodingKeys: String, CodingKey { case rank, time, frame, shot, score, components, quality, face, faces, reasons, file }

    /// Writes each candidate as FOLDER/NN.png (01.png for rank 1), atomically, and returns the
    /// candidates with their `file` set.
    public static func write(_ candidates: [ArtworkCandidate], to folder: String) throws -> [ArtworkCandidate] {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw AnalysisError(path: folder, message: "cannot create the artwork folder")
        }
        return try candidates.map { candidate in
            var written = candidate
            let path = (folder as NSString).appendingPathComponent(String(format: "%02d.png", candidate.rank))
            try PNGFile.write(candidate.image, to: path)
            written.file = path
            return written
        }
    }
}

/// Why a sampled frame cannot be artwork.
public enum ArtworkRejection: String, Sendable, CaseIterable, Codable {
    case black, nearUniform = "near_uniform", captionCard = "caption_card", blurred, faded, transition
}

public struct ArtworkSelection: Sendable {
    /// Best first.
    public var candidates: [ArtworkCandidate]
    /// Sampled frames considered.
    public var considered: Int
    /// Frames turned down by each hard filter (a frame counts once, for the first filter it failed;
    /// frames dropped because better ones of the same shot were kept are not counted).
    public var rejected: [ArtworkRejection: Int]
    /// The title's median sharpness over the frames that were neither black nor uniform.
    public var medianSharpness: Float
}

public final class ArtworkSelector {
    public struct Options: Sendable {
        /// Candidates returned.
        public var count = 10
        /// Candidates one shot may contribute.
        public var perShot = 1
        /// Full-resolution frames kept per shot until the end.
        public var keptPerShot = 3
        /// Full-resolution frames kept for the whole title; nil for max(3 count, 24).
        public var poolCapacity: Int?
        /// Set when `closeShot` is called as shots close during decoding: enables pruning of
        /// the frames of the shot in progress (bounded memory).
        public var streamingShots = false
        /// How far behind the newest frame the shot detector may still report a boundary.
        public var shotLagFrames = 200
        /// Seconds kept clear around cuts and gradual transitions.
        public var cutMargin = 0.25
        public var gradualMargin = 0.5
        /// Seconds around a gradual transition where faded frames are looked for, and the
        /// share of the shot's highest contrast and luma below which a frame there is faded.
        public var fadeWindow = 1.5
        public var fadeRatio: Float = 0.75
        /// A frame is blurred below blurRatio x the title's median sharpness, or below blurFloor.
        public var blurRatio: Float = 0.2
        public var blurFloor: Float = 4
        /// λ of maximal marginal relevance: 1 ranks by score alone.
        public var relevance: Float = 0.7

        public init() {}
    }

    public let options: Options
    private let faceAnalyzer: FaceAnalyzing?
    private let fps: Double

    private struct Entry {
        var index: Int
        var time: Double
        var image: RGBImage
        /// L2-normalised.
        var features: [Float]
        var quality: FrameQuality
        var faces: [FaceObservation]
        var face: FaceAssessment?
        var provisional: Float = 0
        var rejection: ArtworkRejection?
        /// The highest contrast and mean luma among the sampled frames of its shot.
        var shotMaxContrast: Float = 0
        var shotMaxLuma: Float = 0
    }

    /// Frames not yet assigned to a closed shot, in time order.
    private var open: [Entry] = []
    /// Highest contrast and luma of frames pruned from `open` (they belong to the shot in progress).
    private var openMaxContrast: Float = 0
    private var openMaxLuma: Float = 0
    /// Frames that can still become candidates.
    private var pool: [Entry] = []
    private var newestIndex = -1
    private var considered = 0
    private var rejected: [ArtworkRejection: Int] = [:]
    private var sharpnessHistogram = LogHistogram()
    private var featureSum: [Double] = []

    /// - fps: the title's frame rate, to turn the margins in seconds into frames.
    public init(options: Options = Options(), faces: FaceAnalyzing? = nil, fps: Double) {
        self.options = options
        faceAnalyzer = faces
        self.fps = fps > 0 ? fps : 25
    }

    private var poolCapacity: Int { options.poolCapacity ?? max(3 * options.count, 24) }

    /// Frames currently held at full resolution (for checking that memory stays bounded).
    public var framesHeld: Int { open.count + pool.count }

    // MARK: Streaming

    /// Measures one sampled frame and keeps it if it can still become a candidate.
    public func consider(_ frame: ArtworkFrame) {
        considered += 1
        newestIndex = max(newestIndex, frame.index)
        let quality = FrameQuality.measure(frame.image)
        var entry = Entry(index: frame.index, time: frame.time, image: frame.image,
                          features: Self.normalized(frame.features), quality: quality, faces: [], face: nil)
        if quality.isBlack {
            entry.rejection = .black
        } else if quality.isNearUniform {
            entry.rejection = .nearUniform
        } else if quality.isCaptionCard {
            entry.rejection = .captionCard
        }
        if entry.rejection == nil && quality.sharpness < options.blurFloor { entry.rejection = .blurred }
        if entry.rejection == nil {
            sharpnessHistogram.add(quality.sharpness)
            if featureSum.isEmpty { featureSum = [Double](repeating: 0, count: entry.features.count) }
            if featureSum.count == entry.features.count {
                for (i, v) in entry.features.enumerated() { featureSum[i] += Double(v) }
            }
            if let faceAnalyzer {
                entry.faces = faceAnalyzer.faces(in: frame.image)
                entry.face = FaceAssessment.assess(entry.faces, width: frame.image.width, height: frame.image.height)
            }
        }
        if let rejection = entry.rejection {
            // Rejected frames still tell the shot's contrast and luma, but are not kept.
            rejected[rejection, default: 0] += 1
            entry.image = RGBImage(width: 0, height: 0)
            entry.features = []
        } else {
            entry.provisional = score(entry, median: sharpnessHistogram.median, meanFeature: meanFeature()).total
        }
        open.append(entry)
        if options.streamingShots { pruneOpen() }
    }

    /// Tells the selector that `shot` is complete: its frames are narrowed to the best few.
    public func closeShot(_ shot: Shot) {
        let closing = open.prefix { $0.index <= shot.endFrame }
        open.removeFirst(closing.count)
        admit(Array(closing.filter { $0.index >= shot.startFrame }), extraMaxContrast: openMaxContrast,
              extraMaxLuma: openMaxLuma)
        openMaxContrast = 0
        openMaxLuma = 0
    }

    /// Ranks the candidates once the title has ended. `shots` is the title's whole shot list.
    public func finish(shots: [Shot]) -> ArtworkSelection {
        // Frames of shots that were not closed while streaming.
        var groups: [Int: [Entry]] = [:]
        for entry in open {
            if let s = Self.shotIndex(of: entry.index, in: shots) { groups[s, default: []].append(entry) }
        }
        var first = true
        for key in groups.keys.sorted() {
            admit(groups[key]!, extraMaxContrast: first ? openMaxContrast : 0, extraMaxLuma: first ? openMaxLuma : 0)
            first = false
        }
        open.removeAll()

        let median = sharpnessHistogram.median
        let mean = meanFeature()
        var passed: [(entry: Entry, shot: Int, reasons: [String])] = []
        for entry in pool {
            guard let shotIndex = Self.shotIndex(of: entry.index, in: shots) else { continue }
            var reasons = ["not black", "not a flat frame", "not a caption card"]
            let blurLimit = max(options.blurFloor, options.blurRatio * median)
            if entry.quality.sharpness < blurLimit {
                rejected[.blurred, default: 0] += 1
                continue
            }
            reasons.append(median > 0 ? String(format: "sharp (%.2fx the title's median sharpness)", entry.quality.sharpness / median)
                                      : "sharp")
            let neighbours = Self.adjacentTransitions(of: shotIndex, in: shots)
            var nearest = Int.max
            var clash = entry.index < shots[shotIndex].startFrame
            var nearGradual = false
            for transition in neighbours {
                let distance = Self.distance(entry.index, to: transition)
                nearest = min(nearest, distance)
                let margin = transition.kind == .cut ? options.cutMargin : options.gradualMargin
                if Double(distance) <= margin * fps { clash = true }
                if transition.kind == .gradual && Double(distance) <= options.fadeWindow * fps { nearGradual = true }
            }
            if clash {
                rejected[.transition, default: 0] += 1
                continue
            }
            reasons.append(nearest == Int.max ? "no transition in its shot"
                                              : String(format: "%.2f s from the nearest transition", Double(nearest) / fps))
            if nearGradual {
                let q = entry.quality
                if q.contrast < options.fadeRatio * entry.shotMaxContrast || q.meanLuma < options.fadeRatio * entry.shotMaxLuma {
                    rejected[.faded, default: 0] += 1
                    continue
                }
                reasons.append("not faded (contrast and luma near the shot's best beside a gradual transition)")
            } else {
                reasons.append("not faded (no gradual transition nearby)")
            }
            passed.append((entry, shotIndex, reasons))
        }
        // Distinctiveness is relative to the most distinctive frame that passed the filters.
        let farthest = mean.map { m in passed.map { 1 - Self.dot($0.entry.features, m) }.max() ?? 0 } ?? 0
        let eligible = passed.map { item in
            (entry: item.entry, shot: item.shot, reasons: item.reasons,
             score: score(item.entry, median: median, meanFeature: mean, distinctScale: farthest > 0 ? farthest : 0.5))
        }

        // Maximal marginal relevance, at most `perShot` per shot.
        var picked: [Int] = []
        var perShot: [Int: Int] = [:]
        let lambda = options.relevance
        while picked.count < options.count {
            var best: (index: Int, value: Float)?
            for (i, item) in eligible.enumerated() where !picked.contains(i) && perShot[item.shot, default: 0] < options.perShot {
                let redundancy = picked.map { Self.dot(item.entry.features, eligible[$0].entry.features) }.max() ?? 0
                let value = lambda * item.score.total - (1 - lambda) * redundancy
                if best == nil || value > best!.value { best = (i, value) }
            }
            guard let choice = best else { break }
            picked.append(choice.index)
            perShot[eligible[choice.index].shot, default: 0] += 1
        }
        let candidates = picked.enumerated().map { rank, i -> ArtworkCandidate in
            let item = eligible[i]
            return ArtworkCandidate(rank: rank + 1, time: item.entry.time, frame: item.entry.index, shot: item.shot,
                                    score: item.score.total, components: item.score, quality: item.entry.quality,
                                    face: item.entry.face, faces: item.entry.faces, reasons: item.reasons,
                                    image: item.entry.image, file: nil)
        }
        return ArtworkSelection(candidates: candidates, considered: considered, rejected: rejected, medianSharpness: median)
    }

    // MARK: Scoring

    /// distinctScale: the cosine distance to the mean feature that scores 1.
    private func score(_ entry: Entry, median: Float, meanFeature: [Float]?, distinctScale: Float = 0.5) -> ArtworkScore {
        let q = entry.quality
        let sharpness = median > 0 && q.sharpness > 0 ? Self.unit(0.5 + log2(q.sharpness / median) / 4) : 0.5
        let exposure = Self.unit(1 - abs(q.meanLuma - 0.45) / 0.45 - 2 * max(0, q.highlightShare - 0.05)
                                 - max(0, q.shadowShare - 0.35))
        let contrast = Self.unit(q.contrast / 0.2)
        let colour = Self.unit(q.colourfulness / 80)
        let quality = 0.4 * sharpness + 0.25 * exposure + 0.2 * contrast + 0.15 * colour
        let distinct = meanFeature.map { Self.unit((1 - Self.dot(entry.features, $0)) / distinctScale) } ?? 0
        var total: Float
        var face: Float?, expression: Float?
        if faceAnalyzer != nil {
            let assessment = entry.face ?? .none
            face = assessment.score
            expression = assessment.expressionIntensity
            total = 0.35 * quality + 0.3 * assessment.score + 0.15 * assessment.expressionIntensity + 0.2 * distinct
        } else {
            total = 0.6 * quality + 0.4 * distinct
        }
        return ArtworkScore(sharpness: sharpness, exposure: exposure, contrast: contrast, colourfulness: colour,
                            quality: quality, face: face, expression: expression, distinctiveness: distinct, total: total)
    }

    private func meanFeature() -> [Float]? {
        guard !featureSum.isEmpty else { return nil }
        return Self.normalized(featureSum.map { Float($0) })
    }

    // MARK: Bounding memory

    /// Adds a shot's frames to the pool: the best `keptPerShot` that pass the frame filters.
    private func admit(_ members: [Entry], extraMaxContrast: Float, extraMaxLuma: Float) {
        let maxContrast = max(extraMaxContrast, members.map(\.quality.contrast).max() ?? 0)
        let maxLuma = max(extraMaxLuma, members.map(\.quality.meanLuma).max() ?? 0)
        let kept = members.filter { $0.rejection == nil }.sorted { $0.provisional > $1.provisional }.prefix(options.keptPerShot)
        for var entry in kept {
            entry.shotMaxContrast = maxContrast
            entry.shotMaxLuma = maxLuma
            pool.append(entry)
        }
        if pool.count > poolCapacity {
            pool.sort { $0.provisional > $1.provisional }
            pool.removeLast(pool.count - poolCapacity)
            pool.sort { $0.index < $1.index }
        }
    }

    /// Narrows the frames that are far enough behind to lie in the shot in progress.
    private func pruneOpen() {
        let settled = open.prefix { $0.index < newestIndex - options.shotLagFrames }
        guard settled.count > options.keptPerShot + 8 else { return }
        for entry in settled {
            openMaxContrast = max(openMaxContrast, entry.quality.contrast)
            openMaxLuma = max(openMaxLuma, entry.quality.meanLuma)
        }
        let kept = settled.filter { $0.rejection == nil }.sorted { $0.provisional > $1.provisional }
            .prefix(options.keptPerShot).sorted { $0.index < $1.index }
        open.replaceSubrange(0..<settled.count, with: kept)
    }

    // MARK: Helpers

    static func shotIndex(of frame: Int, in shots: [Shot]) -> Int? {
        // The shot whose range holds the frame, or the one it precedes (a frame inside a
        // transition between two shots belongs to neither; the next shot judges it).
        var low = 0, high = shots.count
        while low < high {
            let mid = (low + high) / 2
            if shots[mid].endFrame < frame { low = mid + 1 } else { high = mid }
        }
        return low < shots.count ? low : nil
    }

    /// The transition a shot begins with and the one the next shot begins with.
    static func adjacentTransitions(of shot: Int, in shots: [Shot]) -> [Transition] {
        var result: [Transition] = []
        if let own = shots[shot].transition { result.append(own) }
        if shot + 1 < shots.count, let next = shots[shot + 1].transition { result.append(next) }
        return result
    }

    static func distance(_ frame: Int, to transition: Transition) -> Int {
        if frame < transition.startFrame { return transition.startFrame - frame }
        if frame > transition.endFrame { return frame - transition.endFrame }
        return 0
    }

    static func unit(_ x: Float) -> Float { x.isFinite ? min(1, max(0, x)) : 0 }

    static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        guard norm > 0, norm.isFinite else { return v }
        return v.map { Float(Double($0) / norm) }
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return 0 }
        var sum: Float = 0
        for i in a.indices { sum += a[i] * b[i] }
        return sum
    }
}

/// Median of positive values with bounded memory: counts in bins of 1/16 octave from 2⁻⁸ to 2²⁴
/// (values outside are clamped to the end bins), so the median is known to within 4.5%.
struct LogHistogram {
    static let binsPerOctave = 16.0
    static let lowestOctave = -8.0
    static let octaves = 32.0
    private var counts = [Int](repeating: 0, count: Int(octaves * binsPerOctave))
    private(set) var total = 0

    mutating func add(_ value: Float) {
        let octave = value > 0 ? log2(Double(value)) : Self.lowestOctave
        let bin = Int(((octave - Self.lowestOctave) * Self.binsPerOctave).rounded(.down))
        counts[min(max(bin, 0), counts.count - 1)] += 1
        total += 1
    }

    /// The centre of the bin holding the median; 0 when empty.
    var median: Float {
        guard total > 0 else { return 0 }
        var seen = 0
        for (bin, count) in counts.enumerated() {
            seen += count
            if 2 * seen >= total {
                return Float(pow(2, (Double(bin) + 0.5) / Self.binsPerOctave + Self.lowestOctave))
            }
        }
        return 0
    }
}
