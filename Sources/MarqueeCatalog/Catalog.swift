// The catalog: every analysed title's tags, embeddings and source identity in one SQLite
// file (OUT/catalog.sqlite by default), for "more like this" queries and cold-start export.

import Foundation
import GRDB
import MarqueeAnalysis

public final class Catalog {
    public let path: String
    private let database: DatabaseQueue

    public init(path: String) throws {
        self.path = path
        do {
            database = try DatabaseQueue(path: path)
            try Self.migrator.migrate(database)
        } catch {
            throw AnalysisError(path: path, message: "cannot open the catalog (\(Self.reason(error)))")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "titles") { t in
                t.primaryKey("id", .text)
                t.column("path", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("size_bytes", .integer).notNull()
                t.column("duration", .double)
                t.column("models_key", .text).notNull()
                t.column("analyzed_at", .datetime).notNull()
                t.column("analysis_json", .blob).notNull()
            }
            try db.create(table: "tags") { t in
                t.column("title_id", .text).notNull().references("titles", onDelete: .cascade)
                t.column("modality", .text).notNull()
                t.column("label", .text).notNull()
                t.column("score", .double).notNull()
                t.column("share", .double).notNull()
            }
            try db.create(index: "tags_by_label", on: "tags", columns: ["label"])
            try db.create(table: "embeddings") { t in
                t.column("title_id", .text).notNull().references("titles", onDelete: .cascade)
                t.column("modality", .text).notNull()
                t.column("dimensions", .integer).notNull()
                // Little-endian Float32, L2-normalised.
                t.column("vector", .blob).notNull()
                t.primaryKey(["title_id", "modality"])
            }
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("started_at", .datetime).notNull()
                t.column("finished_at", .datetime)
                t.column("succeeded", .integer).notNull().defaults(to: 0)
                t.column("failed", .integer).notNull().defaults(to: 0)
            }
        }
        // Per-title outcomes of each run (a failing title's reason stays on record) and the
        // artwork candidates of each title (filled once the artwork stage runs).
        migrator.registerMigration("v2") { db in
            try db.create(table: "run_titles") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("title_id", .text).notNull()
                t.column("path", .text).notNull()
                t.column("status", .text).notNull()
                t.column("reason", .text)
                t.column("seconds", .double)
                t.column("finished_at", .datetime).notNull()
            }
            try db.create(table: "artwork") { t in
                t.column("title_id", .text).notNull().references("titles", onDelete: .cascade)
                t.column("rank", .integer).notNull()
                t.column("file", .text).notNull()
                t.column("time", .double).notNull()
                t.column("score", .double).notNull()
                t.primaryKey(["title_id", "rank"])
            }
        }
        return migrator
    }

    /// Identifies the models an analysis came from: a rerun with other weights redoes the title.
    public static func modelsKey(_ analysis: TitleAnalysis) -> String { TitleAnalysis.modelsKey(analysis.models) }

    /// Stores (or replaces) a title with its tags and embeddings, in one transaction.
    public func store(_ analysis: TitleAnalysis) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let json = try encoder.encode(analysis)
        try write { db in
            try db.execute(sql: "DELETE FROM titles WHERE id = ?", arguments: [analysis.titleId])
            try db.execute(sql: """
                INSERT INTO titles (id, path, sha256, size_bytes, duration, models_key, analyzed_at, analysis_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [analysis.titleId, analysis.source.path, analysis.source.sha256, analysis.source.sizeBytes,
                                 analysis.media.duration, Self.modelsKey(analysis), Date(), json])
            for tag in analysis.tags.visual {
                try db.execute(sql: "INSERT INTO tags (title_id, modality, label, score, share) VALUES (?, ?, ?, ?, ?)",
                               arguments: [analysis.titleId, Modality.visual.rawValue, tag.label, Double(tag.score), Double(tag.share)])
            }
            for tag in analysis.tags.audio {
                try db.execute(sql: "INSERT INTO tags (title_id, modality, label, score, share) VALUES (?, ?, ?, ?, ?)",
                               arguments: [analysis.titleId, Modality.audio.rawValue, tag.label, Double(tag.score), tag.share])
            }
            for theme in analysis.tags.text?.themes ?? [] {
                try db.execute(sql: "INSERT INTO tags (title_id, modality, label, score, share) VALUES (?, ?, ?, ?, ?)",
                               arguments: [analysis.titleId, Modality.text.rawValue, theme.label, Double(theme.score), 1.0])
            }
            for artwork in analysis.artwork.candidates {
                try db.execute(sql: "INSERT INTO artwork (title_id, rank, file, time, score) VALUES (?, ?, ?, ?, ?)",
                               arguments: [analysis.titleId, artwork.rank, artwork.file, artwork.time, artwork.score])
            }
            for (modality, vector) in analysis.embeddings.byModality {
                try db.execute(sql: "INSERT INTO embeddings (title_id, modality, dimensions, vector) VALUES (?, ?, ?, ?)",
                               arguments: [analysis.titleId, modality.rawValue, vector.count, Self.blob(vector)])
            }
        }
    }

    /// True when the catalog holds this title from the same source bytes and the same models.
    public func isCurrent(titleId: String, sha256: String, modelsKey: String) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM titles WHERE id = ? AND sha256 = ? AND models_key = ?",
                              arguments: [titleId, sha256, modelsKey]) ?? false
        }
    }

    public var titleIds: [String] {
        get throws { try read { db in try String.fetchAll(db, sql: "SELECT id FROM titles ORDER BY id") } }
    }

    /// Every stored vector of one modality, by title id.
    public func embeddings(_ modality: Modality) throws -> [(titleId: String, vector: [Float])] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT title_id, vector FROM embeddings WHERE modality = ? ORDER BY title_id",
                             arguments: [modality.rawValue]).map { row in
                (row["title_id"], Self.floats(row["vector"]))
            }
        }
    }

    public func embedding(of titleId: String, _ modality: Modality) throws -> [Float]? {
        try read { db in
            try Data.fetchOne(db, sql: "SELECT vector FROM embeddings WHERE title_id = ? AND modality = ?",
                              arguments: [titleId, modality.rawValue]).map(Self.floats)
        }
    }

    /// Every stored analysis, by title id.
    public func analyses() throws -> [TitleAnalysis] {
        let rows = try read { db in try Data.fetchAll(db, sql: "SELECT analysis_json FROM titles ORDER BY id") }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try rows.map { data in
            do { return try decoder.decode(TitleAnalysis.self, from: data) } catch {
                throw AnalysisError(path: path, message: "a stored analysis cannot be read (\(error)); analyse its title again with --force")
            }
        }
    }

    // MARK: Runs

    public enum TitleOutcome: String, Sendable { case done, skipped, failed }

    /// Records what became of one title in a run (with the reason when it failed).
    public func record(run: Int64, titleId: String, path: String, outcome: TitleOutcome, reason: String? = nil,
                       seconds: Double? = nil) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO run_titles (run_id, title_id, path, status, reason, seconds, finished_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [run, titleId, path, outcome.rawValue, reason, seconds, Date()])
        }
    }

    /// The titles that failed in a run, with their reasons.
    public func failures(run: Int64) throws -> [(titleId: String, reason: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT title_id, reason FROM run_titles WHERE run_id = ? AND status = 'failed' ORDER BY rowid",
                             arguments: [run]).map { row in
                (titleId: row["title_id"] as String, reason: (row["reason"] as String?) ?? "")
            }
        }
    }

    public func beginRun() throws -> Int64 {
        try write { db in
            try db.execute(sql: "INSERT INTO runs (started_at) VALUES (?)", arguments: [Date()])
            return db.lastInsertedRowID
        }
    }

    public func finishRun(_ id: Int64, succeeded: Int, failed: Int) throws {
        try write { db in
            try db.execute(sql: "UPDATE runs SET finished_at = ?, succeeded = ?, failed = ? WHERE id = ?",
                           arguments: [Date(), succeeded, failed, id])
        }
    }

    // MARK: Storage helpers

    static func blob(_ vector: [Float]) -> Data {
        vector.withUnsafeBufferPointer { Data(buffer: $0) }
    }

    static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch { throw AnalysisError(path: path, message: Self.reason(error)) }
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.write(body) } catch { throw AnalysisError(path: path, message: Self.reason(error)) }
    }

    private static func reason(_ error: Error) -> String {
        (error as? DatabaseError)?.message ?? "\(error)"
    }
}

/// Which part of a title an embedding describes.
public enum Modality: String, CaseIterable, Sendable, Codable {
    case fused, visual, audio, text
}

extension TitleAnalysis.Embeddings {
    public func vector(_ modality: Modality) -> [Float]? {
        switch modality {
        case .fused: return fused
        case .visual: return visual
        case .audio: return audio
        case .text: return text
        }
    }

    var byModality: [(Modality, [Float])] {
        Modality.allCases.compactMap { modality in vector(modality).map { (modality, $0) } }
    }
}
