import ArgumentParser
import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels

struct ArtworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "artwork",
        abstract: "Pick a video's best, most varied stills as artwork candidates.",
        discussion: """
            One decode pass: every frame goes to TransNetV2 for the shots, and a frame every \
            --interval seconds is measured (sharpness, exposure, contrast, colourfulness) and \
            run through EfficientNet-Lite0 for its features and through MTCNN and the expression \
            CNN for its faces. Black, flat, blurred and faded \
            frames, caption cards and frames near transitions are filtered out; the rest are \
            scored and the top --count are picked by maximal marginal relevance, at most \
            --per-shot per shot. Writes OUT/01.png, 02.png, … at full resolution and \
            OUT/artwork.json with every candidate's score, score components and the filters \
            it passed.
            """
    )

    @Option(help: "Candidates to pick.")
    var count: Int = 10

    @Option(name: .customLong("per-shot"), help: "Candidates one shot may contribute.")
    var perShot: Int = 1

    @Option(help: "Seconds between sampled frames.")
    var interval: Double = 0.5

    @Flag(help: "Print the JSON written to OUT/artwork.json instead of a summary.")
    var json = false

    @Option(help: "Folder for the PNG files and artwork.json (created if needed).")
    var out: String

    @Argument(help: "A video file.")
    var file: String

    func validate() throws {
        guard (1...100).contains(count) else { throw ValidationError("--count must be between 1 and 100.") }
        guard perShot >= 1 else { throw ValidationError("--per-shot must be at least 1.") }
        guard interval > 0 && interval.isFinite else { throw ValidationError("--interval must be a positive number of seconds.") }
    }

    struct Output: Encodable {
        var file: String
        var frames: Int
        var fps: Double
        var shots: Int
        var sampledFrames: Int
        var medianSharpness: Float
        var rejected: [String: Int]
        var candidates: [ArtworkCandidate]
    }

    func run() throws {
        let result: ArtworkResult
        let candidates: [ArtworkCandidate]
        do {
            let store = ModelStore.locate()
            let extractor = ArtworkExtractor(shotModel: try store.transNetV2(), visualModel: try store.efficientNetLite0(),
                                             faces: try FaceAnalyzer(models: store))
            var options = ArtworkExtractor.Options()
            options.sampleInterval = interval
            options.selector.count = count
            options.selector.perShot = perShot
            result = try extractor.extract(path: file, options: options)
            candidates = try ArtworkCandidate.write(result.selection.candidates, to: out)
        } catch let error as MediaError {
            throw error
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        if let damage = result.damage { Terminal.warning(damage.description) }

        let selection = result.selection
        let output = Output(file: file, frames: result.frames, fps: result.fps, shots: result.shots.count,
                            sampledFrames: selection.considered, medianSharpness: selection.medianSharpness,
                            rejected: Dictionary(uniqueKeysWithValues: selection.rejected.map { ($0.key.rawValue, $0.value) }),
                            candidates: candidates)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data: Data
        do {
            data = try encoder.encode(output)
            try data.write(to: URL(fileURLWithPath: (out as NSString).appendingPathComponent("artwork.json")), options: .atomic)
        } catch {
            throw CommandFailure(message: "\(out): cannot write artwork.json: \(error.localizedDescription)")
        }
        if json {
            Terminal.write(String(decoding: data, as: UTF8.self) + "\n")
            return
        }
        var lines = ["\(file): \(result.frames) frames, \(result.shots.count) shots, \(selection.considered) frames sampled, "
            + "\(candidates.count) candidates"]
        for c in candidates {
            let faces = c.face.map { $0.count == 0 ? "no face" : "\($0.count) face\($0.count == 1 ? "" : "s")"
                + ($0.expression.map { ", \($0)" } ?? "") } ?? ""
            lines.append(String(format: "%3d  %9.3f s  frame %6d  shot %4d  score %.3f  quality %.2f  distinct %.2f  %@  %@",
                                c.rank, c.time, c.frame, c.shot + 1, c.score, c.components.quality,
                                c.components.distinctiveness, c.file ?? "", faces))
        }
        if !selection.rejected.isEmpty {
            let counts = selection.rejected.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
            lines.append("rejected: " + counts.joined(separator: ", "))
        }
        Terminal.write(lines.joined(separator: "\n") + "\n")
    }
}
