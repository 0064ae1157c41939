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
    /// EBU R128 figures of the first audio stream; nil for a title without audio.
    public var loudness: LoudnessRecord?
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
        loudness = nil
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
        /// MusiCNN's 50 MagnaTagATune tags over 3-second patches, best first; empty without audio.
        public var audio: [AudioTag] = []
        public init(visual: [Tag], visualFrames: Int) {
            self.visual = visual
            self.visualFrames = visualFrames
        }
        enum CodingKeys: String, CodingKey { case visual, visualFrames = "visual_frames", audio }
    }

    public struct AudioTag: Codable, Sendable, Equatable {
        public var label: String
        /// Mean probability over the patches.
        public var score: Float
        /// Share of the patches where the tag's probability is at least 0.5.
        public var share: Double
        /// Patches where the tag is active, joined.
        public var ranges: [TimeRange]
    }

    public struct LoudnessRecord: Codable, Sendable, Equatable {
        public var integratedLUFS: Double?
        public var rangeLU: Double?
        public var truePeakDBTP: Double?
        public var silentShare: Double
        enum CodingKeys: String, CodingKey {
            case integratedLUFS = "integrated_lufs", rangeLU = "range_lu", truePeakDBTP = "true_peak_dbtp", silentShare = "silent_share"
        }
    }

    public struct Embeddings: Codable, Sendable {
        /// EfficientNet-Lite0 features, weighted by the time each frame stands for, L2-normalised.
        public var visual: [Float]?
        /// MusiCNN's mid-end map pooled over time (mean and max, 753 + 753), averaged over the
        /// patches, L2-normalised; nil without audio.
        public var audio: [Float]?
        public init(visual: [Float]?, audio: [Float]? = nil) {
            self.visual = visual
            self.audio = audio
        }
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", titleId = "title_id", source, media, models, tags, loudness, embeddings, timings, notes
    }
}
