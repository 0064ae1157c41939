import ArgumentParser
import Foundation
import MarqueeAnalysis
import MarqueeCatalog
import MarqueeModels

struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Analyse every title of a folder or a manifest into OUT/<title-id>/ and OUT/catalog.sqlite.",
        discussion: """
            SOURCE is a folder (its video files) or a JSON-lines manifest, one title per line: \
            {"id", "path", "title", "synopsis", "genres", "subtitles"} (paths relative to the manifest's \
            folder; the text fields replace the file's own metadata and subtitles). A title that fails \
            is recorded in the catalog with its reason and the batch goes on. A rerun skips titles \
            already catalogued from the same source bytes and models, so a batch that was stopped \
            midway finishes where it left off. Exit status: 0 all titles done, 1 some failed, 2 usage error.
            """
    )

    @Option(help: "Output folder.")
    var out: String = "out"

    @Option(help: "Titles analysed at the same time (each with its own copy of the models).")
    var jobs: Int = 1

    @Flag(help: "Analyse titles again even when the catalog has them from the same source and models.")
    var force = false

    @Argument(help: "A folder of videos or a manifest (.jsonl).")
    var source: String

    func validate() throws {
        guard (1...16).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 16.") }
    }

    func run() throws {
        let entries: [BatchEntry]
        do {
            entries = try BatchInput.entries(from: source)
        } catch let error as BatchInputError {
            throw ValidationError(error.description)
        }
        guard !entries.isEmpty else { throw ValidationError("\(source): no titles to analyse.") }
        let runner: BatchRunner
        do {
            runner = try BatchRunner(out: out, models: ModelStore.locate(), jobs: jobs, force: force)
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        let display = BatchProgress(total: entries.count, interactive: isatty(STDERR_FILENO) == 1)
        let summary = try runner.run(entries) { display.handle($0) }
        display.finish()
        var line = "\(summary.done) analysed, \(summary.skipped) up to date, \(summary.failed) failed; catalog: \(runner.catalog.path)\n"
        for failure in summary.failures { line += "failed: \(failure.id): \(failure.reason)\n" }
        Terminal.write(line, to: .standardError)
        if summary.failed > 0 { throw ExitCode(1) }
    }
}

/// Progress on stderr: a redrawn bar on a terminal (titles done and total, the titles in
/// progress and their stage, elapsed and remaining time), one line per finished title otherwise.
final class BatchProgress: @unchecked Sendable {
    private let total: Int
    private let interactive: Bool
    private let lock = NSLock()
    private let started = Date()
    // Guarded by `lock`.
    private var finished = 0
    private var analysedSeconds = 0.0
    private var analysed = 0
    private var current: [Int: (id: String, stage: String)] = [:]
    private var timer: DispatchSourceTimer?

    init(total: Int, interactive: Bool) {
        self.total = total
        self.interactive = interactive
        if interactive {
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + 0.5, repeating: 0.5)
            timer.setEventHandler { [weak self] in self?.redraw() }
            timer.resume()
            self.timer = timer
        }
    }

    func handle(_ event: BatchEvent) {
        lock.lock()
        var line: String?
        switch event {
        case let .started(index, entry):
            current[index] = (entry.id, "starting")
        case let .stage(index, entry, stage):
            current[index] = (entry.id, stage.rawValue)
        case let .finished(index, entry, outcome, reason, seconds):
            current[index] = nil
            finished += 1
            if outcome == .done {
                analysed += 1
                analysedSeconds += seconds
            }
            let status: String
            switch outcome {
            case .done: status = String(format: "done in %.1f s", seconds)
            case .skipped: status = "up to date, skipped"
            case .failed: status = "failed: \(reason ?? "unknown reason")"
            }
            line = "[\(finished)/\(total)] \(entry.id): \(status)"
        }
        lock.unlock()
        if let line {
            if interactive { Terminal.write("\r\u{1B}[2K" + line + "\n", to: .standardError) }
            else { Terminal.write(line + "\n", to: .standardError) }
        }
        if interactive { redraw() }
    }

    private func redraw() {
        lock.lock()
        let elapsed = Date().timeIntervalSince(started)
        let width = 24
        let filled = total > 0 ? width * finished / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let now = current.sorted { $0.key < $1.key }.map { "\($0.value.id): \($0.value.stage)" }.joined(separator: ", ")
        // Remaining: the mean time of the titles analysed so far for each title still to come.
        var remaining = "--:--"
        if analysed > 0 {
            remaining = Self.clock(analysedSeconds / Double(analysed) * Double(total - finished) / Double(max(1, current.count)))
        }
        let text = "\r\u{1B}[2K[\(bar)] \(finished)/\(total)  \(now)  \(Self.clock(elapsed)) elapsed, ~\(remaining) left"
        lock.unlock()
        Terminal.write(text, to: .standardError)
    }

    func finish() {
        timer?.cancel()
        if interactive { Terminal.write("\r\u{1B}[2K", to: .standardError) }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
