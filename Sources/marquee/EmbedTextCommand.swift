import ArgumentParser
import Foundation
import MarqueeAnalysis
import MarqueeModels

struct EmbedTextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed-text",
        abstract: "Embed texts as 384-d unit vectors (all-MiniLM-L6-v2, as sentence-transformers encodes them).",
        discussion: "Each text is truncated at 256 tokens, as the reference does. With --file, every line of the file is one text."
    )

    @Flag(help: "Print JSON: [{\"text\", \"embedding\"}] (and \"tokens\" with --tokens).")
    var json = false

    @Flag(help: "Also print the token ids ([CLS] … [SEP]).")
    var tokens = false

    @Option(help: "A UTF-8 file with one text per line.")
    var file: String?

    @Argument(help: "Texts to embed.")
    var texts: [String] = []

    func validate() throws {
        if file != nil && !texts.isEmpty { throw ValidationError("Give texts or --file, not both.") }
        if file == nil && texts.isEmpty { throw ValidationError("Give at least one text, or --file.") }
    }

    struct Embedded: Encodable {
        var text: String
        var tokens: [Int32]?
        var embedding: [Float]
    }

    func run() throws {
        var inputs = texts
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure(message: "\(file): cannot read the file.")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure(message: "\(file): not UTF-8 text.")
            }
            inputs = text.split(separator: "\n", omittingEmptySubsequences: false).map {
                $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
            }
            if inputs.last == "" { inputs.removeLast() }
        }
        let encoder: TextEncoder
        do { encoder = try TextEncoder() } catch { throw CommandFailure(message: "\(error)") }
        let ids = inputs.map { encoder.tokenizer.encode($0) }
        let vectors = encoder.embed(ids: ids)
        let results = zip(inputs, zip(ids, vectors)).map { Embedded(text: $0, tokens: tokens ? $1.0 : nil, embedding: $1.1) }
        if json {
            try Terminal.printJSON(results)
            return
        }
        var out = ""
        for result in results {
            out += result.text + "\n"
            if let ids = result.tokens { out += "  tokens: " + ids.map(String.init).joined(separator: " ") + "\n" }
            out += "  embedding: " + result.embedding.map { String(format: "%.6f", $0) }.joined(separator: " ") + "\n"
        }
        Terminal.write(out)
    }
}
