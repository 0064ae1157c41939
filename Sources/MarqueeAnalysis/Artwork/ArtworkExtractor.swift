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
        let sampling = FrameSelection.every(seconds: options.sampleInterval)
        let decoder = try VideoDecoder(path: path, requests: [
            FrameRequest(size: ShotDetector.frameSize, selection: .everyFrame),
            FrameRequest(size: display, selection: sampling),
            FrameRequest(size: VisualTagger.modelCopySize(display: display), selection: sampling),
        ], streamIndex: video.index)
        let fps = decoder.stream.frameRate ?? 25
        let shotStream = ShotStream(model: shotModel, fps: fps, threshold: options.shotThreshold)
        let stage = ArtworkStage(visualModel: visualModel, faces: faces, options: options.selector, fps: fps)
        var shots: [Shot] = []
        do {
            while let frame = try decoder.next() {
                if let small = frame.images[0] {
                    for shot in shotStream.add(frame: small.pixels, time: frame.time) {
                        shots.append(shot)
                        stage.shotClosed(shot)
                    }
                    if shotStream.frames % 100 == 0 { progress?(shotStream.frames) }
                }
                if let full = frame.images[1], let resized = frame.images[2] {
                    stage.add(index: frame.index, time: frame.time, image: full, resized: resized)
                }
            }
            guard shotStream.frames > 0 else {
                if let damage = decoder.damage { throw damage }
                throw ShotDetectionError(path: path, reason: .noFrames)
            }
        } catch {
            stage.cancel()
            throw error
        }
        shots += shotStream.finish()
        progress?(shotStream.frames)
        let (selection, peak) = try stage.finish(shots: shots)
        return ArtworkResult(selection: selection, shots: shots, frames: shotStream.frames, fps: fps,
                             peakFramesHeld: peak, damage: decoder.damage)
    }
}
