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

    public struct Source: Codable, Sendable {
        public var path: String
        public var sizeBytes: Int
        public var sha256: String
        enum CodingKeys: String, CodingKey { case path, sizeBytes = "size_bytes", sha256 }
    }

    public struct ModelRecord: Codable, Sendable, Equatable {
        public var name: String
        public var file: String
        /// sha256 of the converted weights, from Models/converted.sha256.
        public var sha256: String?
    }

    public struct Tags: Codable, Sendable {
        public var visual: [Tag]
        /// Frames the visual model saw.
        public var visualFrames: Int
        enum CodingKeys: String, CodingKey { case visual, visualFrames = "visual_frames" }
    }

    public struct Embeddings: Codable, Sendable {
        /// EfficientNet-Lite0 features, weighted by the time each frame stands for, L2-normalised.
        public var visual: [Float]?
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", titleId = "title_id", source, media, models, tags, embeddings, timings, notes
    }
}
