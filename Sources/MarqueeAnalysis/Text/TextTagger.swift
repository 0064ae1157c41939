// Text tags of a title: its text vector, keyphrases and themes.
import MarqueeModels

public struct TextTags: Codable, Equatable, Sendable {
    public var file: String
    /// Documents read: the metadata (if any) and the subtitle windows.
    public var documents: Int
    public var keyphrases: [Keyphrase]
    public var themes: [ThemeScore]
    /// 384-d unit vector of the title's text; nil when there is no text.
    public var vector: [Float]?
    public var notes: [String]
}

public final class TextTagger {
    public let encoder: TextEncoder
    private var scorer: ThemeScorer?
    public var keyphraseCount = 10
    public var themeCount = 8
    /// MMR diversity (KeyBERT suggests 0.5 as a start; at 0.5 dialogue gave weakly related phrases).
    public var diversity: Float = 0.4

    public init(encoder: TextEncoder) { self.encoder = encoder }

    public var themeScorer: ThemeScorer {
        if let scorer { return scorer }
        let made = ThemeScorer(encoder: encoder)
        scorer = made
        return made
    }

    /// The title's unit text vector: subtitle windows averaged, then averaged half and half
    /// with the metadata when both exist (a synopsis says in a few lines what an hour of
    /// dialogue says diffusely).
    public func vector(of text: TitleText) -> [Float]? {
        let vectors = encoder.embedDocuments(text.documents.map(\.text))
        var metadata: [Float]?
        var subtitles: [[Float]] = []
        for (document, vector) in zip(text.documents, vectors) {
            guard let vector else { continue }
            if document.source == "metadata" { metadata = vector } else { subtitles.append(vector) }
        }
        let subtitleMean: [Float]? = subtitles.isEmpty ? nil : TextEncoder.normalized(
            subtitles.dropFirst().reduce(subtitles[0]) { zip($0, $1).map { $0 + $1 } })
        switch (metadata, subtitleMean) {
        case let (m?, s?): return TextEncoder.normalized(zip(m, s).map { $0 + $1 })
        case let (m?, nil): return m
        case let (nil, s?): return s
        case (nil, nil): return nil
        }
    }

    public func tag(_ text: TitleText, file: String) -> TextTags {
        guard let vector = vector(of: text) else {
            return TextTags(file: file, documents: text.documents.count, keyphrases: [], themes: [], vector: nil,
                            notes: text.notes.contains("No text to analyse.") ? text.notes : text.notes + ["No text to analyse."])
        }
        let keyphrases = Keyphrases.extract(texts: text.documents.map(\.text), documentVector: vector, encoder: encoder,
                                            count: keyphraseCount, diversity: diversity)
        let themes = themeScorer.themes(vector, limit: themeCount)
        var notes = text.notes
        if themes.isEmpty { notes.append("No theme scored above its calibrated threshold.") }
        return TextTags(file: file, documents: text.documents.count, keyphrases: keyphrases, themes: themes,
                        vector: vector, notes: notes)
    }

    /// Reads and tags a video, a subtitle file or a sidecar JSON.
    public func tag(path: String) throws -> TextTags {
        tag(try TitleText.read(path: path), file: path)
    }
}
