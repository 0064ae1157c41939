// The text of a title: container metadata, subtitles (embedded text streams and sidecar
// .srt/.vtt files) and an optional sidecar JSON, as documents for the text model.
import Foundation
import MarqueeMedia

public enum TextAnalysisError: Error, Equatable, CustomStringConvertible {
    case unreadableSidecar(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableSidecar(path, reason): return "\(path): not a usable metadata JSON: \(reason)."
        }
    }
}

/// A sidecar metadata file: `{"title", "synopsis", "genres", "keywords"}`, every field
/// optional; `genres` and `keywords` may be a list or one comma-separated string.
public struct SidecarMetadata: Equatable, Sendable {
    public var title: String?
    public var synopsis: String?
    public var genres: [String] = []
    public var keywords: [String] = []

    public init(title: String? = nil, synopsis: String? = nil, genres: [String] = [], keywords: [String] = []) {
        self.title = title
        self.synopsis = synopsis
        self.genres = genres
        self.keywords = keywords
    }

    public static func read(path: String) throws -> SidecarMetadata {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TextAnalysisError.unreadableSidecar(path: path, reason: "the file cannot be read")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
            throw TextAnalysisError.unreadableSidecar(path: path, reason: "not a JSON object")
        }
        func text(_ key: String) -> String? {
            (fields[key] as? String).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func list(_ key: String) -> [String] {
            let raw: [String]
            if let strings = fields[key] as? [Any] { raw = strings.compactMap { $0 as? String } }
            else if let string = fields[key] as? String { raw = string.split(separator: ",").map(String.init) }
            else { raw = [] }
            return raw.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }
        return SidecarMetadata(title: text("title"), synopsis: text("synopsis") ?? text("description"),
                               genres: list("genres"), keywords: list("keywords"))
    }
}

public struct TitleText: Codable, Equatable, Sendable {
    /// One piece of text the model embeds as a whole (windowed if long).
    public struct Document: Codable, Equatable, Sendable {
        /// "metadata" or "subtitles".
        public var source: String
        /// Seconds, for subtitle windows.
        public var start: Double?
        public var end: Double?
        public var text: String
    }

    /// Title, synopsis/description, comment, genres and keywords, one sentence each.
    public var metadata: Document?
    /// Subtitle cues grouped into windows of about a minute.
    public var subtitles: [Document]
    /// Where the text came from, and what was missing or set aside, in sentences.
    public var notes: [String]

    public var documents: [Document] { (metadata.map { [$0] } ?? []) + subtitles }
    public var isEmpty: Bool { documents.isEmpty }

    public init(metadata: Document? = nil, subtitles: [Document] = [], notes: [String] = []) {
        self.metadata = metadata
        self.subtitles = subtitles
        self.notes = notes
    }

    /// Container metadata tags that carry text about the title, in this order.
    public static let metadataKeys = ["title", "description", "synopsis", "comment", "genre"]

    /// The text of `path`: a video (its metadata, subtitle streams, sidecar subtitles and
    /// `NAME.json`), a subtitle file (.srt, .vtt, .ass, .ssa) or a sidecar JSON (.json).
    /// A source with no text gives an empty result with a note; a file that does not exist
    /// or cannot be parsed throws.
    public static func read(path: String, windowSeconds: Double = 60) throws -> TitleText {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MediaError(path: path, reason: .notFound)
        }
        guard !isDirectory.boolValue else { throw MediaError(path: path, reason: .notARegularFile) }
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        var result = TitleText()
        switch ext {
        case "json":
            result.metadata = metadataDocument(tags: [:], sidecar: try SidecarMetadata.read(path: path))
        case "srt", "vtt", "ass", "ssa":
            if isBlank(path) {
                result.notes.append("\(path) holds no subtitles.")
            } else {
                result.subtitles = choose(try SubtitleReader.tracks(in: path), notes: &result.notes)
                    .map { subtitleWindows($0.cues, seconds: windowSeconds) } ?? []
            }
        default:
            let info = try MediaInfo(path: path)
            var sidecar: SidecarMetadata?
            let sidecarPath = URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("json").path
            if FileManager.default.fileExists(atPath: sidecarPath) {
                do { sidecar = try SidecarMetadata.read(path: sidecarPath) } catch { result.notes.append("\(error)") }
            }
            result.metadata = metadataDocument(tags: info.tags, sidecar: sidecar)
            result.subtitles = choose(try SubtitleReader.allTracks(forVideo: path), notes: &result.notes)
                .map { subtitleWindows($0.cues, seconds: windowSeconds) } ?? []
        }
        if result.metadata == nil && ext != "srt" && ext != "vtt" && ext != "ass" && ext != "ssa" {
            result.notes.append("\(path) has no text metadata.")
        }
        if result.subtitles.isEmpty && ext != "json" && !result.notes.contains(where: { $0.contains("holds no subtitles") }) {
            result.notes.append("\(path) has no text subtitles.")
        }
        if result.isEmpty { result.notes.append("No text to analyse.") }
        return result
    }

    static func isBlank(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines.union(["\u{FEFF}"])).isEmpty
    }

    /// The metadata document: one sentence per field, so the fields do not run together.
    static func metadataDocument(tags: [String: String], sidecar: SidecarMetadata?) -> Document? {
        var parts: [String] = []
        func add(_ text: String?) {
            guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty,
                  !parts.contains(text) else { return }
            parts.append(text)
        }
        let lowered = Dictionary(tags.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        add(sidecar?.title)
        for key in metadataKeys { add(lowered[key]) }
        add(sidecar?.synopsis)
        if let genres = sidecar?.genres, !genres.isEmpty { add(genres.joined(separator: ", ")) }
        if let keywords = sidecar?.keywords, !keywords.isEmpty { add(keywords.joined(separator: ", ")) }
        guard !parts.isEmpty else { return nil }
        let text = parts.map { part in
            let last = part.unicodeScalars.last.map { CharacterSet.punctuationCharacters.contains($0) } ?? false
            return last ? part : part + "."
        }.joined(separator: " ")
        return Document(source: "metadata", start: nil, end: nil, text: text)
    }

    /// The track to read: an English (or unlabelled) one if there is one, the one with the
    /// most cues among those; the others are noted and set aside (the model reads English).
    static func choose(_ tracks: [SubtitleTrack], notes: inout [String]) -> SubtitleTrack? {
        let withCues = tracks.filter { !$0.cues.isEmpty }
        guard !withCues.isEmpty else { return nil }
        func isEnglish(_ track: SubtitleTrack) -> Bool {
            guard let language = track.language?.lowercased() else { return true }
            return ["en", "eng", "english", "und"].contains(language) || language.hasPrefix("en-") || language.hasPrefix("en_")
        }
        let english = withCues.filter(isEnglish)
        let pool = english.isEmpty ? withCues : english
        guard let chosen = pool.max(by: { $0.cues.count < $1.cues.count }) else { return nil }
        if withCues.count > 1 {
            notes.append("Read subtitles from \(chosen.path) (stream \(chosen.streamIndex)\(chosen.language.map { ", \($0)" } ?? "")); "
                + "\(withCues.count - 1) other track(s) set aside.")
        }
        if english.isEmpty {
            notes.append("No English subtitle track; the text model reads English best.")
        }
        return chosen
    }

    /// Cues grouped into windows of about `seconds`: a window takes cues while they start
    /// within `seconds` of its first cue. Sound descriptions in brackets and music notes are
    /// removed; lines are joined with spaces.
    public static func subtitleWindows(_ cues: [SubtitleCue], seconds: Double = 60) -> [Document] {
        var windows: [Document] = []
        var current: Document?
        for cue in cues.sorted(by: { $0.start < $1.start }) {
            let text = cleanCueText(cue.text)
            guard !text.isEmpty else { continue }
            if var window = current, cue.start < (window.start ?? 0) + seconds {
                window.text += " " + text
                window.end = max(window.end ?? cue.end, cue.end)
                current = window
            } else {
                if let window = current { windows.append(window) }
                current = Document(source: "subtitles", start: cue.start, end: cue.end, text: text)
            }
        }
        if let window = current { windows.append(window) }
        return windows
    }

    static func cleanCueText(_ text: String) -> String {
        var out = ""
        var depth = 0
        for ch in text {
            if ch == "[" { depth += 1; continue }
            if ch == "]" { depth = max(0, depth - 1); continue }
            if depth > 0 || ch == "♪" || ch == "♫" { continue }
            out.append(ch.isNewline ? " " : ch)
        }
        return out.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
