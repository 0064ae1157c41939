import ArgumentParser
import Foundation
import MarqueeAnalysis
import MarqueeCatalog
import MarqueeModels

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse titles in one decode pass each and write OUT/<title-id>/analysis.json.",
        discussion: """
            Each title is also stored in OUT/catalog.sqlite. A title already in the catalog from the same source \
            bytes and model weights is skipped unless --force is given. A title that fails is reported with its \
            reason; the others still run. Exit status 1 when any failed.
            """
    )

    @Option(help: "Output folder.")
    var out: String = "out"

    @Option(help: "Seconds of a shot per frame given to the visual model (at most 3 frames per shot).")
    var sampleEvery: Double = 2

    @Flag(help: "Analyse titles again even when the catalog has them from the same source and models.")
    var force = false

    @Argument(help: "Video files.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("Give at least one video file.") }
        guard sampleEvery > 0 else { throw ValidationError("--sample-every must be positive.") }
    }

    func run() throws {
        var options = TitleAnalyzer.Options()
        options.visualSampleInterval = sampleEvery
        let analyzer = try TitleAnalyzer(models: ModelStore.locate(), options: options)
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure(message: "\(out): cannot create the output folder.")
        }
        let catalog = try Catalog(path: (out as NSString).appendingPathComponent("catalog.sqlite"))
        let run = try catalog.beginRun()
        var failed = 0, succeeded = 0
        for file in files {
            let titleId = TitleAnalyzer.titleId(forPath: file)
            do {
                if !force, try catalog.isCurrent(titleId: titleId, sha256: try SHA256.hex(ofFileAt: file),
                                                 modelsKey: analyzer.modelsKey) {
                    Terminal.write("\(titleId): up to date, skipped\n", to: .standardError)
                    try catalog.record(run: run, titleId: titleId, path: file, outcome: .skipped)
                    succeeded += 1
                    continue
                }
                let analysis = try analyzer.analyze(path: file)
                let written = try analyzer.write(analysis, to: out)
                try catalog.store(analysis)
                try catalog.record(run: run, titleId: titleId, path: file, outcome: .done, seconds: analysis.timings["total"])
                succeeded += 1
                let top = analysis.tags.visual.prefix(3).map { "\($0.label) \(String(format: "%.2f", $0.score))" }
                Terminal.write("\(analysis.titleId): \(top.joined(separator: ", ")) -> \(written)\n", to: .standardError)
                for note in analysis.notes { Terminal.warning(note) }
            } catch {
                Terminal.error("\(error)")
                try? catalog.record(run: run, titleId: titleId, path: file, outcome: .failed, reason: "\(error)")
                failed += 1
            }
        }
        try catalog.finishRun(run, succeeded: succeeded, failed: failed)
        if failed > 0 { throw ExitCode(1) }
    }
}
