import ArgumentParser
import Foundation
import MarqueeMedia
import MarqueeModels

struct FacesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faces",
        abstract: "Find faces (MTCNN) and their expressions (mini-Xception) in images and videos.",
        discussion: """
            An image gives one record; a video gives one record per sampled frame (--every), with its time. \
            A file that cannot be read is reported and the others still run.
            """
    )

    @Flag(help: "Print JSON: [{\"file\", \"time\"?, \"faces\": [{\"box\", \"score\", \"landmarks\", \"expression\"}]}].")
    var json = false

    @Option(help: "Seconds between the frames sampled from a video.")
    var every: Double = 1

    @Argument(help: "Image or video files.")
    var files: [String]

    func validate() throws {
        guard every > 0 && every.isFinite else { throw ValidationError("--every must be a positive number of seconds.") }
        guard !files.isEmpty else { throw ValidationError("Give at least one image or video.") }
    }

    struct Face: Encodable {
        var box: [Float]
        var score: Float
        var landmarks: [[Float]]
        var expression: [String: Float]
    }

    struct Record: Encodable {
        var file: String
        /// Seconds from the start, for a video frame.
        var time: Double?
        var faces: [Face]
    }

    func run() throws {
        let store = ModelStore.locate()
        let detector = try store.mtcnn()
        let expressions = try store.emotionCNN()
        var records: [Record] = []
        var failures = 0

        func analyse(_ image: RGBImage, file: String, time: Double?) {
            let found = detector.detect(image)
            let probabilities = expressions.classify(image, faces: found)
            let faces = zip(found, probabilities).map { face, p in
                Face(box: [face.box.x, face.box.y, face.box.z, face.box.w], score: face.score,
                     landmarks: face.landmarks.map { [$0.x, $0.y] },
                     expression: Dictionary(uniqueKeysWithValues: zip(expressions.labels, p)))
            }
            let record = Record(file: file, time: time, faces: faces)
            if json {
                records.append(record)
            } else {
                Terminal.write(Self.describe(record, labels: expressions.labels))
            }
        }

        for path in files {
            do {
                let info = try MediaInfo(path: path)
                guard let stream = info.videoStreams.first, let width = stream.width, let height = stream.height,
                      width > 0, height > 0 else {
                    throw MediaError(path: path, reason: .noStream(.video))
                }
                if Self.isStill(info) {
                    analyse(try StillImage.read(path: path), file: path, time: nil)
                    continue
                }
                let turned = abs(Int(stream.rotation ?? 0)) % 180 == 90
                let size = turned ? FrameSize(width: height, height: width) : FrameSize(width: width, height: height)
                let decoder = try VideoDecoder(path: path, requests: [FrameRequest(size: size, selection: .every(seconds: every))],
                                               streamIndex: stream.index)
                while let frame = try decoder.next() {
                    guard let image = frame.images[0] else { continue }
                    analyse(image, file: path, time: frame.time)
                }
                if let damage = decoder.damage { throw damage }
            } catch {
                Terminal.error("\(error)")
                failures += 1
            }
        }
        if json { try Terminal.printJSON(records) }
        if failures > 0 { throw ExitCode(1) }
    }

    /// A still image: one frame, or a container FFmpeg reads as a picture format.
    static func isStill(_ info: MediaInfo) -> Bool {
        let pictureFormats = ["image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "tiff_pipe", "webp_pipe", "gif", "pgm_pipe", "ppm_pipe"]
        return pictureFormats.contains { info.format.contains($0) }
    }

    static func describe(_ record: Record, labels: [String]) -> String {
        var text = record.file
        if let time = record.time { text += String(format: " @ %.3f s", time) }
        text += ": \(record.faces.count) face\(record.faces.count == 1 ? "" : "s")\n"
        for face in record.faces {
            let top = labels.max { (face.expression[$0] ?? 0) < (face.expression[$1] ?? 0) } ?? ""
            text += String(format: "  [%.1f, %.1f, %.1f, %.1f] score %.3f  %@ %.0f%%\n",
                           face.box[0], face.box[1], face.box[2], face.box[3], face.score,
                           top, (face.expression[top] ?? 0) * 100)
        }
        return text
    }
}
