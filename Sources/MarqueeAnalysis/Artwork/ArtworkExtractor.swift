// Artwork candidates of one video file in one decode pass: every frame at 48x27 for the shot
// detector, and every `sampleInterval` seconds the same frame at full resolution (for quality,
// faces and the PNG) and at EfficientNet's resize size (for the features behind
// distinctiveness and diversity). Shots are reported to the selector as they close, so the
// frames it holds stay bounded whatever the length of the title.

import Foundation
import MarqueeMedia
import MarqueeModels
import MarqueeNN

public struct ArtworkResult: Sendable {
    public var selection: ArtworkSelection
    public var shots: [Shot]
    /// Frames decoded.
    public var frames: Int
    public var fps: Double
    /// The most full-resolution frames the selector held at once.
    public var peakFramesHeld: Int
    /// The file ended early or had damaged packets: every decodable frame was used.
    public var damage: MediaError?
}

public final class ArtworkExtractor {
    public struct Options: Sendable {
        /// Seconds between sampled frames.
        public var sampleInterval = 0.5
        /// TransNetV2 single-frame threshold.
        public var shotThreshold: Float = 0.5
        public var selector = ArtworkSelector.Options()
        public init() {}
    }

    private let shotModel: TransNetV2
    private let visualModel: EfficientNetLite0
    private let faces: FaceAnalyzing?
    private static let batchSize = 8

    public init(shotModel: TransNetV2, visualModel: EfficientNetLite0, faces: FaceAnalyzing? = nil) {
        self.shotModel = shotModel
        self.visualModel = visualModel
        self.faces = faces
    }

    /// - progress: called with the number of frames decoded, about every 100 frames.
    public func extract(path: String, options: Options = Options(), progress: ((Int) -> Void)? = nil) throws -> ArtworkResult {
        guard options.sampleInterval > 0 else {
            throw AnalysisError(path: path, message: "the sampling interval must be positive")
        }
        let info = try MediaInfo(path: path)
        guard let video = info.videoStreams.first, let width = video.width, let height = video.height, width > 0, height > 0 else {
            throw MediaError(path: path, reason: .noStream(.video))
        }
        let turned = abs(Int(video.rotation ?? 0)) % 180 == 90
        let display = turned ? FrameSize(width: height, height: width) : FrameSize(width: width, height: height)
        let resize = ImageResize.sizeForShortSide(width: display.width, height: display.height,
                                                  shortSide: EfficientNetLite0.resizeShortSide)
        let sampling = FrameSelection.every(seconds: options.sampleInterval)
        let decoder = try VideoDecoder(path: path, requests: [
            FrameRequest(size: ShotDetector.frameSize, selection: .everyFrame),
            FrameRequest(size: display, selection: sampling),
            FrameRequest(size: FrameSize(width: resize.width, height: resize.height), selection: sampling),
        ], streamIndex: video.index)
        let fps = decoder.stream.frameRate ?? 25
        var selectorOptions = options.selector
        selectorOptions.streamingShots = true
        let selector = ArtworkSelector(options: selectorOptions, faces: faces, fps: fps)
        let tracker = ShotTracker(model: shotModel, threshold: options.shotThreshold, fps: fps)
        var batch: [(index: Int, time: Double, image: RGBImage, crop: RGBImage)] = []
        var peak = 0

        func flush() {
            guard !batch.isEmpty else { return }
            let side = EfficientNetLite0.inputSize
            let input = Tensor(shape: [batch.count, side, side, 3])
            for (i, item) in batch.enumerated() { EfficientNetLite0.normalize(item.crop, into: input, index: i) }
            let features = visualModel.forward(input).features.toArray()
            let width = EfficientNetLite0.featureCount
            for (i, item) in batch.enumerated() {
                selector.consider(ArtworkFrame(index: item.index, time: item.time, image: item.image,
                                               features: Array(features[(i * width)..<((i + 1) * width)])))
                peak = max(peak, selector.framesHeld)
            }
            batch.removeAll(keepingCapacity: true)
        }

        while let frame = try decoder.next() {
            if let small = frame.images[0] {
                for shot in tracker.add(small, time: frame.time) {
                    flush()  // the shot's frames must reach the selector before it closes
                    selector.closeShot(shot)
                }
                if tracker.frames % 100 == 0 { progress?(tracker.frames) }
            }
            if let full = frame.images[1], let resized = frame.images[2] {
                batch.append((frame.index, frame.time, full, EfficientNetLite0.resizedCrop(resized)))
                if batch.count == Self.batchSize { flush() }
            }
        }
        flush()
        guard tracker.frames > 0 else {
            if let damage = decoder.damage { throw damage }
            throw ShotDetectionError(path: path, reason: .noFrames)
        }
        let shots = tracker.finish()
        progress?(tracker.frames)
        let selection = selector.finish(shots: shots)
        return ArtworkResult(selection: selection, shots: shots, frames: tracker.frames, fps: fps,
                             peakFramesHeld: peak, damage: decoder.damage)
    }
}

/// Shots of a stream of 48x27 frames as they close, with ShotDetector's semantics (TransNetV2
/// windows, the reference's scene rule, transitions from the many-hot head).
final class ShotTracker {
    private let predictor: TransitionPredictor
    private var segmenter: SceneSegmenter
    private let frameDuration: Double
    /// Frame times by index modulo 256: predictions trail decoding by at most 100 frames.
    private var times = [Double](repeating: 0, count: 256)
    private var startTime = 0.0
    private(set) var shots: [Shot] = []

    init(model: TransNetV2, threshold: Float, fps: Double) {
        predictor = TransitionPredictor(model: model)
        segmenter = SceneSegmenter(threshold: threshold)
        frameDuration = fps > 0 ? 1 / fps : 0.04
    }

    var frames: Int { predictor.frameCount }

    /// Adds the next frame; returns the shots it closed.
    func add(_ image: RGBImage, time: Double) -> [Shot] {
        times[predictor.frameCount % times.count] = time
        return consume(predictor.add(frame: image.pixels))
    }

    /// Ends the stream; returns every shot of the title.
    func finish() -> [Shot] {
        _ = consume(predictor.finish())
        if let last = segmenter.finish() { shots.append(shot(last)) }
        return shots
    }

    private func consume(_ predictions: [FramePrediction]) -> [Shot] {
        var closed: [Shot] = []
        for p in predictions {
            let startBefore = segmenter.currentStart
            if let scene = segmenter.add(single: p.single, manyHot: p.manyHot) {
                let s = shot(scene)
                shots.append(s)
                closed.append(s)
            }
            if segmenter.currentStart != startBefore || p.frame == 0 {
                startTime = times[segmenter.currentStart % times.count]
            }
        }
        return closed
    }

    private func shot(_ scene: Scene) -> Shot {
        Shot(startFrame: scene.startFrame, endFrame: scene.endFrame, start: startTime,
             end: times[scene.endFrame % times.count] + frameDuration, transition: scene.transition)
    }
}
