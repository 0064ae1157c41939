// Shots of a title: every frame decoded at 48x27 RGB24 (as `ffmpeg -s 48x27 -pix_fmt rgb24`
// gives them), TransNetV2 over streaming windows, scenes with the reference's semantics.
//
// Memory does not grow with the title: the predictor holds 100 frames, the frame times a
// ring of 256 (predictions trail decoding by at most 100 frames), and per-frame
// probabilities are kept only when asked for.

import Foundation
import MarqueeMedia
import MarqueeModels

/// Why shots could not be found for a title.
public struct ShotDetectionError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        /// The video stream decoded to no frames at all.
        case noFrames
        /// The threshold is not a probability strictly between 0 and 1.
        case badThreshold(Float)
    }

    public let path: String
    public let reason: Reason

    public var description: String {
        switch reason {
        case .noFrames: return "\(path): the video stream has no decodable frames."
        case let .badThreshold(value): return "\(path): the threshold \(value) is not between 0 and 1."
        }
    }
}

/// The shots of one title.
public struct ShotList: Sendable {
    /// Frames decoded.
    public var frames: Int
    /// The stream's average frame rate.
    public var fps: Double
    public var shots: [Shot]
    /// Per-frame probabilities of the single-frame and many-hot heads, when requested.
    public var single: [Float]?
    public var manyHot: [Float]?
    /// The file ended early or had damaged packets: every decodable frame was used.
    public var damage: MediaError?
    /// TransNetV2 windows run.
    public var windows: Int
    /// Seconds spent in the network (the rest of the wall time is decoding and scaling).
    public var inferenceSeconds: Double
}

public final class ShotDetector {
    public static let frameSize = FrameSize(width: TransNetV2.frameWidth, height: TransNetV2.frameHeight)
    let model: TransNetV2

    public init(model: TransNetV2) {
        self.model = model
    }

    /// Decodes `path`'s video stream and finds its shots.
    /// - threshold: single-frame probability above which a frame is a transition (0.5 in the reference).
    /// - keepProbabilities: also return every frame's probabilities.
    /// - progress: called with the number of frames decoded, every 50 frames.
    public func detect(path: String, threshold: Float = 0.5, keepProbabilities: Bool = false,
                       progress: ((Int) -> Void)? = nil) throws -> ShotList {
        guard threshold > 0 && threshold < 1 else {
            throw ShotDetectionError(path: path, reason: .badThreshold(threshold))
        }
        let decoder = try VideoDecoder(path: path, requests: [FrameRequest(size: Self.frameSize, selection: .everyFrame)])
        let fps = decoder.stream.frameRate ?? 25
        let frameDuration = fps > 0 ? 1 / fps : 0.04
        let predictor = TransitionPredictor(model: model)
        var segmenter = SceneSegmenter(threshold: threshold)
        var times = [Double](repeating: 0, count: 256)
        var shots: [Shot] = []
        var single: [Float] = [], manyHot: [Float] = []
        var inferenceSeconds = 0.0
        var startTime = 0.0

        func shot(_ scene: Scene) -> Shot {
            Shot(startFrame: scene.startFrame, endFrame: scene.endFrame, start: startTime,
                 end: times[scene.endFrame % times.count] + frameDuration, transition: scene.transition)
        }
        func consume(_ predictions: [FramePrediction]) {
            for p in predictions {
                let startBefore = segmenter.currentStart
                if let scene = segmenter.add(single: p.single, manyHot: p.manyHot) { shots.append(shot(scene)) }
                if segmenter.currentStart != startBefore || p.frame == 0 {
                    startTime = times[segmenter.currentStart % times.count]
                }
                if keepProbabilities {
                    single.append(p.single)
                    manyHot.append(p.manyHot)
                }
            }
        }

        while let frame = try decoder.next() {
            guard let image = frame.images[0] else { continue }
            times[predictor.frameCount % times.count] = frame.time
            let clock = ContinuousClock.now
            let windowsBefore = predictor.windowsRun
            let predictions = predictor.add(frame: image.pixels)
            if predictor.windowsRun != windowsBefore {
                inferenceSeconds += Self.seconds(since: clock)
                progress?(predictor.frameCount)
            }
            consume(predictions)
        }
        guard predictor.frameCount > 0 else {
            if let damage = decoder.damage { throw damage }
            throw ShotDetectionError(path: path, reason: .noFrames)
        }
        let clock = ContinuousClock.now
        consume(predictor.finish())
        inferenceSeconds += Self.seconds(since: clock)
        if let last = segmenter.finish() { shots.append(shot(last)) }
        progress?(predictor.frameCount)
        return ShotList(frames: predictor.frameCount, fps: fps, shots: shots,
                        single: keepProbabilities ? single : nil, manyHot: keepProbabilities ? manyHot : nil,
                        damage: decoder.damage, windows: predictor.windowsRun, inferenceSeconds: inferenceSeconds)
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
