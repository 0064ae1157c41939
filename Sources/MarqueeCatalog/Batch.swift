// A batch: the titles of a folder or a manifest analysed into one output folder and catalog.
//
// Crash safety: a title's analysis.json (and its stills) are written atomically before its
// catalog row, and the row is written in one transaction; a rerun skips titles the catalog
// holds from the same source bytes, models and schema, and stores without re-analysing a
// title whose analysis.json on disk already matches. So a batch killed at any point and run
// again ends with every title exactly once.

import Foundation
import MarqueeAnalysis
import MarqueeModels

/// One title of a batch.
public struct BatchEntry: Sendable, Equatable {
    public var id: String
    public var path: String
    public var text: TitleAnalyzer.TextInput?

    public static func == (a: BatchEntry, b: BatchEntry) -> Bool { a.id == b.id && a.path == b.path }
}

/// Why a batch cannot start (a usage error: exit status 2).
public struct BatchInputError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)." }
}

public enum BatchInput {
    /// Video files a folder batch picks up (by extension, not recursive).
    public static let videoExtensions: Set<String> = ["mp4", "m4v", "mov", "mkv", "webm", "avi", "ts", "mts", "mpg", "mpeg", "wmv", "flv"]

    /// The titles of a folder (its video files, sorted by name) or of a JSON-lines manifest
    /// (`{"id", "path", "title", "synopsis", "genres", "subtitles"}`; paths relative to the
    /// manifest's folder).
    public static func entries(from source: String) throws -> [BatchEntry] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw BatchInputError(path: source, message: "no such folder or manifest")
        }
        let entries = isDirectory.boolValue ? try folder(source) : try manifest(source)
        var seen = Set<String>()
        for entry in entries where !seen.insert(entry.id).inserted {
            throw BatchInputError(path: source, message: "two titles have the id '\(entry.id)'")
        }
        return entries
    }

    static func folder(_ path: String) throws -> [BatchEntry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            throw BatchInputError(path: path, message: "the folder cannot be listed")
        }
        return names.filter { videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted().map { name in
            let file = (path as NSString).appendingPathComponent(name)
            return BatchEntry(id: TitleAnalyzer.titleId(forPath: file), path: file, text: nil)
        }
    }

    static func manifest(_ path: String) throws -> [BatchEntry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BatchInputError(path: path, message: "the manifest cannot be read")
        }
        let base = (path as NSString).deletingLastPathComponent
        func resolve(_ file: String) -> String {
            file.hasPrefix("/") ? file : ((base.isEmpty ? "." : base) as NSString).appendingPathComponent(file)
        }
        var entries: [BatchEntry] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw BatchInputError(path: path, message: "line \(number + 1) is not a JSON object")
            }
            guard let file = object["path"] as? String, !file.isEmpty else {
                throw BatchInputError(path: path, message: "line \(number + 1) has no \"path\"")
            }
            func text(_ key: String) -> String? {
                (object[key] as? String).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
            }
            let genres: [String]
            if let list = object["genres"] as? [Any] { genres = list.compactMap { $0 as? String } }
            else if let one = object["genres"] as? String { genres = one.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            else { genres = [] }
            let input = TitleAnalyzer.TextInput(title: text("title"), synopsis: text("synopsis"), genres: genres.filter { !$0.isEmpty },
                                                subtitlesPath: text("subtitles").map(resolve))
            let hasText = input.title != nil || input.synopsis != nil || !input.genres.isEmpty || input.subtitlesPath != nil
            let resolved = resolve(file)
            entries.append(BatchEntry(id: text("id").map(TitleAnalyzer.safeId) ?? TitleAnalyzer.titleId(forPath: resolved),
                                      path: resolved, text: hasText ? input : nil))
        }
        return entries
    }
}

/// What a batch reports while it runs; called from its worker threads.
public enum BatchEvent: Sendable {
    case started(index: Int, entry: BatchEntry)
    case stage(index: Int, entry: BatchEntry, stage: TitleAnalyzer.Stage)
    case finished(index: Int, entry: BatchEntry, outcome: Catalog.TitleOutcome, reason: String?, seconds: Double)
}

public struct BatchSummary: Sendable {
    public var done = 0, skipped = 0, failed = 0
    public var failures: [(id: String, reason: String)] = []
}

public final class BatchRunner: @unchecked Sendable {
    public let out: String
    public let catalog: Catalog
    public let jobs: Int
    public let force: Bool
    private let models: ModelStore
    private let options: TitleAnalyzer.Options

    public init(out: String, models: ModelStore, options: TitleAnalyzer.Options = .init(), jobs: Int = 1, force: Bool = false) throws {
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw AnalysisError(path: out, message: "cannot create the output folder")
        }
        self.out = out
        catalog = try Catalog(path: (out as NSString).appendingPathComponent("catalog.sqlite"))
        self.models = models
        self.options = options
        self.jobs = max(1, jobs)
        self.force = force
    }

    /// Runs every entry, `jobs` at a time (each job has its own models); a failing title is
    /// recorded with its reason and the others go on.
    public func run(_ entries: [BatchEntry], events: @escaping @Sendable (BatchEvent) -> Void) throws -> BatchSummary {
        let run = try catalog.beginRun()
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var next = 0
            var summary = BatchSummary()
            var setupError: Error?
        }
        let shared = Shared()
        let lock = shared.lock
        let workers = min(jobs, max(1, entries.count))
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                let analyzer: TitleAnalyzer
                do { analyzer = try TitleAnalyzer(models: models, options: options) } catch {
                    lock.lock(); shared.setupError = error; lock.unlock()
                    return
                }
                while true {
                    lock.lock()
                    let index = shared.next
                    shared.next += 1
                    lock.unlock()
                    guard index < entries.count else { return }
                    let entry = entries[index]
                    events(.started(index: index, entry: entry))
                    let clock = Date()
                    var outcome: Catalog.TitleOutcome
                    var reason: String?
                    do {
                        outcome = try process(entry, analyzer: analyzer) { stage in events(.stage(index: index, entry: entry, stage: stage)) }
                    } catch {
                        outcome = .failed
                        reason = "\(error)"
                    }
                    let seconds = Date().timeIntervalSince(clock)
                    try? catalog.record(run: run, titleId: entry.id, path: entry.path, outcome: outcome, reason: reason, seconds: seconds)
                    lock.lock()
                    switch outcome {
                    case .done: shared.summary.done += 1
                    case .skipped: shared.summary.skipped += 1
                    case .failed:
                        shared.summary.failed += 1
                        shared.summary.failures.append((entry.id, reason ?? ""))
                    }
                    lock.unlock()
                    events(.finished(index: index, entry: entry, outcome: outcome, reason: reason, seconds: seconds))
                }
            }
            thread.name = "marquee.batch"
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        if let setupError = shared.setupError { throw setupError }
        let summary = shared.summary
        try catalog.finishRun(run, succeeded: summary.done + summary.skipped, failed: summary.failed)
        return summary
    }

    private func process(_ entry: BatchEntry, analyzer: TitleAnalyzer,
                         progress: @escaping @Sendable (TitleAnalyzer.Stage) -> Void) throws -> Catalog.TitleOutcome {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: entry.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw AnalysisError(path: entry.path, message: "no such file")
        }
        if let subtitles = entry.text?.subtitlesPath, !FileManager.default.fileExists(atPath: subtitles) {
            throw AnalysisError(path: subtitles, message: "no such subtitle file")
        }
        progress(.hashing)
        let digest = try SHA256.hex(ofFileAt: entry.path)
        if !force {
            if try catalog.isCurrent(titleId: entry.id, sha256: digest, modelsKey: analyzer.modelsKey) { return .skipped }
            // Written before a kill that came before its catalog row: store it as it is.
            let written = ((out as NSString).appendingPathComponent(entry.id) as NSString).appendingPathComponent("analysis.json")
            if let analysis = TitleAnalyzer.read(from: written), analysis.source.sha256 == digest,
               analysis.source.path == entry.path, Catalog.modelsKey(analysis) == analyzer.modelsKey {
                progress(.writing)
                try catalog.store(analysis)
                return .done
            }
        }
        let analysis = try analyzer.analyze(path: entry.path, titleId: entry.id, text: entry.text, progress: progress)
        progress(.writing)
        try analyzer.write(analysis, to: out)
        try catalog.store(analysis)
        return .done
    }
}
