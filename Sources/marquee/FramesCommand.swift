import ArgumentParser
import Foundation
import MarqueeMedia

struct FramesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Write one frame every N seconds as PNG files named by their time.",
        discussion: "Files are named SSSSSS.mmm.png, the frame's presentation time in seconds."
    )

    @Argument(help: "A video file.")
    var file: String

    @Option(help: "Seconds between frames.")
    var every: Double = 1

    @Option(help: "Width of the written frames in pixels; the height keeps the display aspect.")
    var width: Int?

    @Option(help: "Folder to write the PNG files to (created if needed).")
    var out: String

    func validate() throws {
        guard every > 0 else { throw ValidationError("--every must be a positive number of seconds.") }
        if let width, width < 2 || width > 16384 { throw ValidationError("--width must be between 2 and 16384.") }
    }

    func run() throws {
        let info = try MediaInfo(path: file)
        guard let stream = info.videoStreams.first, let codedWidth = stream.width, let codedHeight = stream.height,
              codedWidth > 0, codedHeight > 0 else {
            throw MediaError(path: file, reason: .noStream(.video))
        }
        let turned = abs(Int(stream.rotation ?? 0)) % 180 == 90
        let (displayWidth, displayHeight) = turned ? (codedHeight, codedWidth) : (codedWidth, codedHeight)
        let outWidth = width ?? displayWidth
        let outHeight = max(2, Int((Double(outWidth) * Double(displayHeight) / Double(displayWidth) / 2).rounded()) * 2)
        let size = FrameSize(width: outWidth, height: outHeight)

        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure(message: "\(out): cannot create the output folder.")
        }
        let decoder = try VideoDecoder(path: file, requests: [FrameRequest(size: size, selection: .every(seconds: every))],
                                       streamIndex: stream.index)
        var written = 0
        while let frame = try decoder.next() {
            guard let image = frame.images[0] else { continue }
            let name = String(format: "%010.3f.png", frame.time)
            let target = (out as NSString).appendingPathComponent(name)
            try PNGFile.write(image, to: target)
            written += 1
        }
        Terminal.write("\(written) frames written to \(out)\n", to: .standardError)
        if let damage = decoder.damage { throw damage }
    }
}
