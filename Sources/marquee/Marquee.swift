import ArgumentParser
import Foundation
import MarqueeMedia

/// The `marquee` command. Exit status: 0 success, 1 a file or title failed, 2 usage error.
@main
struct Marquee: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marquee",
        abstract: "Content understanding for streaming catalogs: tags, shots, embeddings and artwork.",
        subcommands: [AnalyzeCommand.self, BatchCommand.self, ReportCommand.self, SimilarCommand.self, ExportCommand.self,
                      ProbeCommand.self, FramesCommand.self, ShotsCommand.self, TagImageCommand.self, FacesCommand.self,
                      TagAudioCommand.self, EmbedTextCommand.self, TagTextCommand.self, ArtworkCommand.self]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CommandFailure {
            Terminal.error(failure.message)
            Foundation.exit(1)
        } catch let error as MediaError {
            Terminal.error(error.description)
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .failure, !(error is ExitCode) {
                Terminal.error("\(error.localizedDescription)")
                Foundation.exit(1)
            }
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            Terminal.write(fullMessage(for: error) + "\n", to: .standardError)
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// A command that finished its work but some of it failed; the message was already
/// printed per item, or is printed here.
struct CommandFailure: Error {
    var message: String
}
