// analysis.json: everything Marquee learned about one title. Versioned: a reader checks
// `schema_version` and a change that removes or renames a field bumps it. docs/analysis-schema.md
// documents every field.

import MarqueeMedia

public struct TitleAnalysis: Codable, Sendable {
    /// 2: shots, sampled frames, keyframes, text tags, text and fused embeddings, fusion record,
    /// artwork; visual frames are sampled per shot.
    public static let schemaVersion = 2

    public var schemaVersion = TitleAnalysis.schemaVersion
    public var titleId: String
    public var source: Source
    public var media: MediaInfo
    public var models: [ModelRecord]
    /// TransNetV2's shots, as `marquee shots` finds them.
    public var shots: ShotsRecord?
    /// The frames the visual model saw, with the part of their shot each stands for.
    public var visualSamples: [VisualSample] = []
    /// Small stills of the longest shots, for people to look at (`keyframes/NN.png`).
    public var keyframes: [Keyframe] = []
    public var tags: Tags
    /// Ranked artwork candidates with their PNG files.
    public var artwork = ArtworkSection()
    /// EBU R128 figures of the first audio stream; nil for a title without audio.
    public var loudness: LoudnessRecord?
    public var embeddings: Embeddings
    /// How the fused embedding was made: weights, and which modalities were present.
    public var fusion: FusedEmbedding.Record?
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

    /// The weights and the schema an analysis comes from: a title is current only when both match.
    public static func modelsKey(_ records: [ModelRecord]) -> String {
        (records.map { "\($0.name)=\($0.sha256 ?? "?")" }.sorted() + ["schema=\(schemaVersion)"]).joined(separator: ";")
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
        /// Keyphrases and themes of the title's text, as `marquee tag-text` gives them; nil
        /// when the text could not be read.
        public var text: TextRecord?
        public init(visual: [Tag], visualFrames: Int) {
            self.visual = visual
            self.visualFrames = visualFrames
        }
        enum CodingKeys: String, CodingKey { case visual, visualFrames = "visual_frames", audio, text }
    }

    public struct TextRecord: Codable, Sendable, Equatable {
        /// Documents read: the metadata (if any) and the subtitle windows.
        public var documents: Int
        public var keyphrases: [Keyphrase]
        public var themes: [ThemeScore]
        public var notes: [String]
    }

    public struct ShotsRecord: Codable, Sendable, Equatable {
        public var frames: Int
        public var fps: Double
        public var threshold: Float
        public var list: [ShotRecord]
    }

    public struct ShotRecord: Codable, Sendable, Equatable {
        public var startFrame: Int
        public var endFrame: Int
        /// Seconds, rounded to the millisecond as `marquee shots --json` prints them.
        public var start: Double
        public var end: Double
        public var transition: TransitionRecord?
        public init(_ shot: Shot) {
            startFrame = shot.startFrame
            endFrame = shot.endFrame
            start = (shot.start * 1000).rounded() / 1000
            end = (shot.end * 1000).rounded() / 1000
            transition = shot.transition.map {
                TransitionRecord(kind: $0.kind, startFrame: $0.startFrame, endFrame: $0.endFrame, frames: $0.frames)
            }
        }
        enum CodingKeys: String, CodingKey { case startFrame = "start_frame", endFrame = "end_frame", start, end, transition }
    }

    /// The transition a shot begins with, as `marquee shots --json` prints it.
    public struct TransitionRecord: Codable, Sendable, Equatable {
        public var kind: Transition.Kind
        public var startFrame: Int
        public var endFrame: Int
        public var frames: Int
        enum CodingKeys: String, CodingKey { case kind, startFrame = "start_frame", endFrame = "end_frame", frames }
    }

    public struct VisualSample: Codable, Sendable, Equatable {
        public var time: Double
        public var frame: Int
        public var shot: Int
        /// Seconds of the shot this frame stands for (its weight).
        public var start: Double
        public var end: Double
    }

    public struct Keyframe: Codable, Sendable, Equatable {
        /// Relative to the title's folder.
        public var file: String
        public var time: Double
        public var shot: Int
    }

    /// Whether the artwork stage ran, and its candidates, best first.
    public struct ArtworkSection: Codable, Sendable, Equatable {
        public var computed = false
        public var candidates: [ArtworkRecord] = []
        public init(computed: Bool = false, candidates: [ArtworkRecord] = []) {
            self.computed = computed
            self.candidates = candidates
        }
    }

    /// One ranked candidate still.
    public struct ArtworkRecord: Codable, Sendable, Equatable {
        public var rank: Int
        /// Relative to the title's folder: `artwork/NN.png`.
        public var file: String
        public var time: Double
        public var frame: Int
        public var score: Double
        /// Every component of the score (sharpness, exposure, faces, expression, distinctiveness, …).
        public var components: [String: Double]
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
        /// MiniLM (all-MiniLM-L6-v2) vector of the title's text, L2-normalised; nil without text.
        public var text: [Float]?
        /// See FusedEmbedding: 1280 + 1506 + 384 values, zero blocks for missing modalities.
        public var fused: [Float]?
        public init(visual: [Float]?, audio: [Float]? = nil, text: [Float]? = nil, fused: [Float]? = nil) {
            self.visual = visual
            self.audio = audio
            self.text = text
            self.fused = fused
        }
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", titleId = "title_id", source, media, models, shots
        case visualSamples = "visual_samples", keyframes, tags, artwork, loudness, embeddings, fusion, timings, notes
    }
}
