/// One subtitle: when it shows and its plain text (markup removed, lines joined by "\n").
public struct SubtitleCue: Codable, Equatable, Sendable {
    /// Seconds from the start of the title.
    public var start: Double
    public var end: Double
    public var text: String

    public init(start: Double, end: Double, text: String) {
        self.start = start
        self.end = end
        self.text = text
    }
}

/// The cues of one subtitle stream or sidecar file.
public struct SubtitleTrack: Codable, Equatable, Sendable {
    /// The file the cues came from (the video, or a sidecar next to it).
    public var path: String
    /// Stream index inside `path`.
    public var streamIndex: Int
    public var codec: String
    public var language: String?
    public var title: String?
    public var cues: [SubtitleCue]

    enum CodingKeys: String, CodingKey {
        case path, streamIndex = "stream_index", codec, language, title, cues
    }
}
