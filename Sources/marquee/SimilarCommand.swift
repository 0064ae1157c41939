import ArgumentParser
import Foundation
import MarqueeAnalysis
import MarqueeCatalog
import MarqueeModels

struct SimilarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similar",
        abstract: "Rank catalog titles by cosine similarity to a title in the catalog or to a video file."
    )

    @Option(help: "The catalog to search.")
    var catalog: String = "out/catalog.sqlite"

    @Option(help: "How many titles to list.")
    var k: Int = 10

    @Option(help: "Which embedding to compare: \(Modality.allCases.map(\.rawValue).joined(separator: ", ")).")
    var modality: String = Modality.fused.rawValue

    @Flag(help: "Print JSON: [{\"title_id\", \"score\"}].")
    var json = false

    @Argument(help: "A title id from the catalog, or a video file (analysed on the fly, not stored).")
    var query: String

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k must be at least 1.") }
        guard Modality(rawValue: modality) != nil else { throw ValidationError("Unknown modality '\(modality)'.") }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: catalog) else {
            throw CommandFailure(message: "\(catalog): no catalog here; run `marquee analyze` first.")
        }
        let store = try Catalog(path: catalog)
        let modality = Modality(rawValue: self.modality)!
        let vector: [Float]
        var excluded: String?
        if let stored = try store.embedding(of: query, modality) {
            vector = stored
            excluded = query
        } else if FileManager.default.fileExists(atPath: query) {
            let analysis = try TitleAnalyzer(models: ModelStore.locate()).analyze(path: query)
            guard let computed = analysis.embeddings.vector(modality) else {
                throw CommandFailure(message: "\(query): no \(modality.rawValue) embedding could be computed.")
            }
            vector = computed
        } else {
            throw CommandFailure(message: "\(query): neither a title in \(catalog) nor a file.")
        }
        let results = Similarity.nearest(to: vector, in: try store.embeddings(modality), k: k, excluding: excluded)
        if json {
            try Terminal.printJSON(results)
        } else {
            for result in results { Terminal.write(String(format: "%.4f  %@\n", result.score, result.titleId)) }
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every title's embedding for cold-start recommendation (JSON lines, or .npy with an ids file)."
    )

    @Option(help: "The catalog to read.")
    var catalog: String = "out/catalog.sqlite"

    @Option(help: "jsonl or npy.")
    var format: String = "jsonl"

    @Option(help: "Which embedding: \(Modality.allCases.map(\.rawValue).joined(separator: ", ")).")
    var modality: String = Modality.fused.rawValue

    @Option(help: "Output file (npy also writes OUT.ids.txt).")
    var out: String

    func validate() throws {
        guard EmbeddingExport.Format(rawValue: format) != nil else { throw ValidationError("--format must be jsonl or npy.") }
        guard Modality(rawValue: modality) != nil else { throw ValidationError("Unknown modality '\(modality)'.") }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: catalog) else {
            throw CommandFailure(message: "\(catalog): no catalog here; run `marquee analyze` first.")
        }
        let modality = Modality(rawValue: self.modality)!
        let rows = try Catalog(path: catalog).embeddings(modality)
        let written = try EmbeddingExport.write(rows, modality: modality, format: EmbeddingExport.Format(rawValue: format)!, to: out)
        Terminal.write("\(rows.count) \(modality.rawValue) vectors written to \(written.joined(separator: " and "))\n", to: .standardError)
    }
}
