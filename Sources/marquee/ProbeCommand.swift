import ArgumentParser
import MarqueeMedia

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Print a media file's container, duration, metadata and streams as JSON."
    )

    @Argument(help: "A video, audio or image file.")
    var file: String

    func run() throws {
        try Terminal.printJSON(MediaInfo(path: file))
    }
}
