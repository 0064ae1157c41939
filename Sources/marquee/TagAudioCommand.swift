import ArgumentParser
import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels

struct TagAudioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag-audio",
        abstract: "Tag a title's audio with music tags (MusiCNN, MagnaTagATune) and measure its loudness (EBU R128).",
        discussion: """
            Video files: their first audio stream, or the one chosen with --stream. Audio files \
            (WAV, FLAC, Ogg, AIFF, …) are read with libsndfile. Tags come from 3-second patches; \
            the title's score of a tag is its mean probability over the patches.
            """
    )

    @Option(help: "Index of the audio stream to read (as `marquee probe` lists it).")
    var stream: Int?

    @Option(help: "Tags to report for the title and for each segment.")
    var top: Int = 5

    @Flag(help: "Print JSON: {\"tags\": [{\"label\", \"score\", \"active_share\"}], \"segments\": [{\"start\", \"end\", \"top\"}], \"loudness\": {…}}.")
    var json = false

    @Flag(help: "With --json, add each segment's 50 \"probabilities\" and its \"features\" (penultimate 200-d, mean and max pooled 753-d).")
    var raw = false

    @Argument(help: "A video or audio file.")
    var file: String

    func validate() throws {
        guard (1...MusiCNN.tagCount).contains(top) else { throw ValidationError("--top must be between 1 and \(MusiCNN.tagCount).") }
        if let stream, stream < 0 { throw ValidationError("--stream must be a stream index (0 or more).") }
        if raw && !json { throw ValidationError("--raw needs --json.") }
    }

    struct Tag: Encodable {
        var label: String
        var score: Float
        var activeShare: Double?
        enum CodingKeys: String, CodingKey { case label, score, activeShare = "active_share" }
    }

    struct Features: Encodable {
        var penultimate: [Float]
        var meanPool: [Float]
        var maxPool: [Float]
        enum CodingKeys: String, CodingKey { case penultimate, meanPool = "mean_pool", maxPool = "max_pool" }
    }

    struct Segment: Encodable {
        var start: Double
        var end: Double
        var top: [Tag]
        var probabilities: [Float]?
        var features: Features?
    }

    /// Every key is present; what cannot be measured is null.
    struct LoudnessJSON: Encodable {
        var loudness: Loudness
        enum CodingKeys: String, CodingKey {
            case integrated = "integrated_lufs", range = "range_lu", truePeak = "true_peak_dbtp"
            case samplePeak = "sample_peak_dbfs", silentShare = "silent_share"
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            func rounded(_ v: Double?) -> Double? { v.map { ($0 * 100).rounded() / 100 } }
            try c.encode(rounded(loudness.integratedLUFS), forKey: .integrated)
            try c.encode(rounded(loudness.rangeLU), forKey: .range)
            try c.encode(rounded(loudness.truePeakDBTP), forKey: .truePeak)
            try c.encode(rounded(loudness.samplePeakDBFS), forKey: .samplePeak)
            try c.encode((loudness.silentShare * 1000).rounded() / 1000, forKey: .silentShare)
        }
    }

    struct Output: Encodable {
        var file: String
        var duration: Double
        var tags: [Tag]
        var segments: [Segment]
        var loudness: LoudnessJSON
        var labels: [String]?
    }

    func run() throws {
        let tagger: AudioTagger
        do {
            tagger = AudioTagger(model: try ModelStore.locate().musiCNN())
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        let analysis: AudioAnalysis
        do {
            analysis = try tagger.analyze(AudioInput.detect(path: file, stream: stream))
        } catch let error as MediaError {
            throw error
        } catch {
            throw CommandFailure(message: "\(file): \(error)")
        }
        if let damage = analysis.damage { Terminal.warning(damage) }

        let segments = analysis.segments.map { segment in
            Segment(start: segment.start, end: segment.end,
                    top: analysis.top(top, of: segment).map { Tag(label: $0.label, score: $0.score, activeShare: nil) },
                    probabilities: raw ? segment.probabilities : nil,
                    features: raw ? Features(penultimate: segment.penultimate, meanPool: segment.meanPool,
                                             maxPool: segment.maxPool) : nil)
        }
        let tags = analysis.tags.prefix(top).map { Tag(label: $0.label, score: $0.score, activeShare: $0.activeShare) }
        if json {
            try Terminal.printJSON(Output(file: file, duration: analysis.duration, tags: Array(tags), segments: segments,
                                          loudness: LoudnessJSON(loudness: analysis.loudness),
                                          labels: raw ? analysis.labels : nil))
            return
        }
        var text = "\(file)  (\(String(format: "%.1f", analysis.duration)) s, \(segments.count) segments)\n"
        if tags.isEmpty { text += "  no audio to tag\n" }
        for tag in tags {
            text += String(format: "  %5.1f%%  %@  (active %.0f%% of the time)\n", tag.score * 100, tag.label,
                           (tag.activeShare ?? 0) * 100)
        }
        let l = analysis.loudness
        func value(_ v: Double?, _ unit: String) -> String { v.map { String(format: "%.1f %@", $0, unit) } ?? "n/a" }
        text += "  loudness: \(value(l.integratedLUFS, "LUFS")) integrated, range \(value(l.rangeLU, "LU")), "
            + "true peak \(value(l.truePeakDBTP, "dBTP")), silent \(String(format: "%.0f%%", l.silentShare * 100))\n"
        Terminal.write(text)
    }
}
