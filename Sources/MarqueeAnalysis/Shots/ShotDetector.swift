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
    /// - dropFlashes: join the shots around a boundary that is only a flash (FlashFilter.swift).
    /// - progress: called with the number of frames decoded, every 50 frames.
    public func detect(path: String, threshold: Float = 0.5, keepProbabilities: Bool = false,
                       dropFlashes: Bool = true, progress: ((Int) -> Void)? = nil) throws -> ShotList {
        guard threshold > 0 && threshold < 1 else {
            throw ShotDetectionError(path: path, reason: .badThreshold(threshold))
        }
        let decoder = try VideoDecoder(path: path, requests: [FrameRequest(size: Self.frameSize, selection: .everyFrame)])
        let stream = ShotStream(model: model, fps: decoder.stream.frameRate ?? 25, threshold: threshold,
                                keepProbabilities: keepProbabilities, dropFlashes: dropFlashes)
        var shots: [Shot] = []
        while let frame = try decoder.next() {
            guard let image = frame.images[0] else { continue }
            let windowsBefore = stream.windows
            shots += stream.add(frame: image.pixels, time: frame.time)
            if stream.windows != windowsBefore { progress?(stream.frames) }
        }
        guard stream.frames > 0 else {
            if let damage = decoder.damage { throw damage }
            throw ShotDetectionError(path: path, reason: .noFrames)
        }
        shots += stream.finish()
        progress?(stream.frames)
        return stream.list(shots: shots, damage: decoder.damage)
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// Shots of a stream of 48x27 frames, as they become final: the part of `ShotDetector` that
/// does not decode, so that a pipeline can feed it from a decode pass it shares with other
/// consumers and get exactly `marquee shots`' shots.
public final class ShotStream {
    private let predictor: TransitionPredictor
    private var segmenter: SceneSegmenter
    private var flashes: FlashFilter?
    private let frameDuration: Double
    private let keepProbabilities: Bool
    public let fps: Double
    /// Presentation times by frame index modulo 256: shots are settled at most 100 frames
    /// (the predictor's lag) plus the segmenter's lookahead behind the newest frame.
    private var times = [Double](repeating: 0, count: 256)
    private var startTime = 0.0
    private var single: [Float] = [], manyHot: [Float] = []
    public private(set) var inferenceSeconds = 0.0

    /// - dropFlashes: join the shots around a boundary that is only a flash (FlashFilter.swift);
    ///   off, the shots are exactly the reference's predictions_to_scenes.
    public init(model: TransNetV2, fps: Double, threshold: Float = 0.5, keepProbabilities: Bool = false,
                dropFlashes: Bool = true) {
        predictor = TransitionPredictor(model: model)
        segmenter = SceneSegmenter(threshold: threshold)
        flashes = dropFlashes ? FlashFilter(frameBytes: TransNetV2.frameBytes) : nil
        self.fps = fps
        frameDuration = fps > 0 ? 1 / fps : 0.04
        self.keepProbabilities = keepProbabilities
    }

    public var frames: Int { predictor.frameCount }
    public var windows: Int { predictor.windowsRun }
    /// The first frame of the shot in progress (every earlier frame belongs to a returned shot
    /// or to the transition that opens the shot in progress).
    public var openShotStartFrame: Int { flashes?.heldStartFrame ?? segmenter.currentStart }

    /// Adds the next frame (48x27 RGB24) shown at `time` seconds; returns the shots that became final.
    public func add(frame pixels: [UInt8], time: Double) -> [Shot] {
        times[predictor.frameCount % times.count] = time
        if flashes != nil { pixels.withUnsafeBufferPointer { flashes!.record($0) } }
        let clock = ContinuousClock.now
        let windowsBefore = predictor.windowsRun
        let predictions = predictor.add(frame: pixels)
        if predictor.windowsRun != windowsBefore { inferenceSeconds += ShotDetector.seconds(since: clock) }
        return consume(predictions)
    }

    /// Ends the stream: the remaining shots, the last one included.
    public func finish() -> [Shot] {
        let clock = ContinuousClock.now
        var shots = consume(predictor.finish())
        inferenceSeconds += ShotDetector.seconds(since: clock)
        let last = predictor.frameCount > 0 ? segmenter.finish().map(shot) : nil
        if flashes != nil { return shots + flashes!.finish(last) }
        if let last { shots.append(last) }
        return shots
    }

    public func list(shots: [Shot], damage: MediaError?) -> ShotList {
        ShotList(frames: predictor.frameCount, fps: fps, shots: shots,
                 single: keepProbabilities ? single : nil, manyHot: keepProbabilities ? manyHot : nil,
                 damage: damage, windows: predictor.windowsRun, inferenceSeconds: inferenceSeconds)
    }

    private func shot(_ scene: Scene) -> Shot {
        Shot(startFrame: scene.startFrame, endFrame: scene.endFrame, start: startTime,
             end: times[scene.endFrame % times.count] + frameDuration, transition: scene.transition)
    }

    private func consume(_ predictions: [FramePrediction]) -> [Shot] {
        var shots: [Shot] = []
        for p in predictions {
            let startBefore = segmenter.currentStart
            if let scene = segmenter.add(single: p.single, manyHot: p.manyHot) {
                let closed = shot(scene)
                if flashes == nil { shots.append(closed) } else if let final = flashes!.add(closed) { shots.append(final) }
            }
            if segmenter.currentStart != startBefore || p.frame == 0 {
                startTime = times[segmenter.currentStart % times.count]
                if segmenter.currentStart != startBefore, let final = flashes?.nextSceneStarts(at: segmenter.currentStart) {
                    shots.append(final)
                }
            }
            if keepProbabilities {
                single.append(p.single)
                manyHot.append(p.manyHot)
            }
        }
        return shots
    }
}
