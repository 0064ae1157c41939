// analysis.json: everything Marquee learned about one title. Versioned: a reader checks
// `schema_version` and a change that removes or renames a field bumps it.

import MarqueeMedia

public struct TitleAnalysis: Codable, Sendable {
    public static let schemaVersion = 1

    public var schemaVersion = TitleAnalysis.schemaVersion
    public var titleId: String
    public var source: Source
    public var media: MediaInfo
    public var models: [ModelRecord]
    public var tags: Tags
    public var embeddings: Embeddings
    /// Seconds spent per stage, e.g. "decode+visual", "hash", "total".
    public var timings: [String: Double]
    /// What could not be analysed and why (a title without audio, a damaged tail, …).
    public var notes: [String]

    public init(titleId: String, source: Source, media: MediaInfo, models: [ModelRecord], tags: Tags,
                embeddings: Embeddings, timings: [String: Double], notes: [String]) {
        self.titleId = titleId
        self.source = source
        self.media = media
        self.models = models
        self.tags = tags
        self.embeddings = embeddings
        self.timings = timings
        self.notes = notes
    }

    public static func modelsKey(_ records: [ModelRecord]) -> String {
        records.map { "\($0.name)=\($0.sha256 ?? "?")" }.sorted().joined(separator: ";")
    }

    public struct Source: Codable, Sendable {
        public var path: String
        public var sizeBytes: Int
        public var sha256: String
        public init(path: String, sizeBytes: Int, sha256: String) {
            self.path = path
            self.sizeBytes = sizeBytes
            self.sha256 = sha256
        }
        enum CodingKeys: String, CodingKey { case path, sizeBytes = "size_bytes", sha256 }
    }

    public struct ModelRecord: Codable, Sendable, Equatable {
        public var name: String
        public var file: String
        /// sha256 of the converted weights, from Models/converted.sha256.
        public var sha256: String?
        public init(name: String, file: String, sha256: String?) {
            self.name = name
            self.file = file
            self.sha256 = sha256
        }
    }

    public struct Tags: Codable, Sendable {
        public var visual: [Tag]
        /// Frames the visual model saw.
        public var visualFrames: Int
        public init(visual: [Tag], visualFrames: Int) {
            self.visual = visual
            self.visualFrames = visualFrames
        }
        enum CodingKeys: String, CodingKey { case visual, visualFrames = "visual_frames" }
    }

    public struct Embeddings: Codable, Sendable {
        /// EfficientNet-Lite0 features, weighted by the time each frame stands for, L2-normalised.
        public var visual: [Float]?
        public init(visual: [Float]?) { self.visual = visual }
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", titleId = "title_id", source, media, models, tags, embeddings, timings, notes
    }
}
