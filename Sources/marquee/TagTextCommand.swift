import ArgumentParser
import Foundation
import MarqueeAnalysis
import MarqueeMedia

struct TagTextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag-text",
        abstract: "Keyphrases and themes of a title's text: metadata, subtitles and sidecar JSON.",
        discussion: """
        FILE is a video (its metadata tags, text subtitle streams, sidecar NAME.srt/.vtt and \
        NAME.json), a subtitle file (.srt, .vtt, .ass, .ssa) or a sidecar JSON \
        ({"title", "synopsis", "genres", "keywords"}). A source without text gives an empty \
        result and a note.
        """
    )

    @Flag(help: "Print JSON: {\"file\", \"documents\", \"keyphrases\", \"themes\", \"notes\"}.")
    var json = false

    @Flag(help: "With --json, add the title's 384-d text vector.")
    var vector = false

    @Option(help: "Keyphrases to report.")
    var keyphrases: Int = 10

    @Option(help: "Keyphrase diversity, 0 (most relevant) to 1 (most varied): maximal marginal relevance.")
    var diversity: Float = 0.4

    @Argument(help: "A video, subtitle file or sidecar JSON.")
    var file: String

    func validate() throws {
        guard (1...100).contains(keyphrases) else { throw ValidationError("--keyphrases must be between 1 and 100.") }
        guard (0...1).contains(diversity) else { throw ValidationError("--diversity must be between 0 and 1.") }
    }

    func run() throws {
        let text: TitleText
        do {
            text = try TitleText.read(path: file)
        } catch let error as MediaError {
            throw error
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        let encoder: TextEncoder
        do { encoder = try TextEncoder() } catch { throw CommandFailure(message: "\(error)") }
        let tagger = TextTagger(encoder: encoder)
        tagger.keyphraseCount = keyphrases
        tagger.diversity = diversity
        var tags = tagger.tag(text, file: file)
        if !vector { tags.vector = nil }
        if json {
            try Terminal.printJSON(tags)
            return
        }
        var out = "\(file): \(tags.documents) document(s)\n"
        out += "keyphrases:\n" + tags.keyphrases.map { String(format: "  %.3f  %@ (×%d)", $0.score, $0.phrase, $0.count) }
            .joined(separator: "\n") + (tags.keyphrases.isEmpty ? "  (none)\n" : "\n")
        out += "themes:\n" + tags.themes.map { String(format: "  %.3f  %@ (%@, %.1fσ)", $0.score, $0.label, $0.kind.rawValue, $0.calibrated) }
            .joined(separator: "\n") + (tags.themes.isEmpty ? "  (none)\n" : "\n")
        for note in tags.notes { out += "note: \(note)\n" }
        Terminal.write(out)
    }
}
