import ArgumentParser
import Foundation
import MarqueeAnalysis
import MarqueeModels

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse titles in one decode pass each and write OUT/<title-id>/analysis.json.",
        discussion: "A title that fails is reported with its reason; the others still run. Exit status 1 when any failed."
    )

    @Option(help: "Output folder.")
    var out: String = "out"

    @Option(help: "Seconds between frames given to the visual model.")
    var sampleEvery: Double = 2

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
        var failed = 0
        for file in files {
            do {
                let analysis = try analyzer.analyze(path: file)
                let written = try TitleAnalyzer.write(analysis, to: out)
                let top = analysis.tags.visual.prefix(3).map { "\($0.label) \(String(format: "%.2f", $0.score))" }
                Terminal.write("\(analysis.titleId): \(top.joined(separator: ", ")) -> \(written)\n", to: .standardError)
                for note in analysis.notes { Terminal.warning(note) }
            } catch {
                Terminal.error("\(error)")
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
