// One title, one decode pass: frames are sampled for the visual model while the decoder
// runs on its own thread; nothing grows with the length of the title except the per-tag
// time ranges.

import Foundation
import MarqueeMedia
import MarqueeModels

public final class TitleAnalyzer {
    public struct Options: Sendable {
        /// Seconds between frames given to the visual model.
        public var visualSampleInterval: Double = 2
        public init() {}
    }

    public enum Stage: String, Sendable { case hashing, decoding, writing }

    private let models: ModelStore
    private let visualModel: EfficientNetLite0
    private let audioTagger: AudioTagger
    private let options: Options

    public init(models: ModelStore, options: Options = Options()) throws {
        self.models = models
        self.options = options
        visualModel = try models.efficientNetLite0()
        audioTagger = AudioTagger(model: try models.musiCNN())
    }

    /// The weights every analysis records, with their sha256.
    public var modelRecords: [TitleAnalysis.ModelRecord] {
        [models.record(name: "efficientnet_lite0", file: "efficientnet_lite0.safetensors"),
         models.record(name: "musicnn_mtt", file: "musicnn_mtt.safetensors")]
    }

    /// Identifies the models an analysis comes from: a rerun with other weights redoes the title.
    public var modelsKey: String { TitleAnalysis.modelsKey(modelRecords) }

    /// A stable, file-system-safe id from the file name: "My Film (2021).mp4" → "my-film-2021".
    public static func titleId(forPath path: String) -> String {
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent.lowercased()
        var id = ""
        for scalar in stem.unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII { id.unicodeScalars.append(scalar) }
            else if !id.isEmpty && !id.hasSuffix("-") { id.append("-") }
        }
        while id.hasSuffix("-") { id.removeLast() }
        return id.isEmpty ? "title" : id
    }

    public func analyze(path: String, titleId: String? = nil, progress: ((Stage) -> Void)? = nil) throws -> TitleAnalysis {
        let started = Date()
        var timings: [String: Double] = [:]
        var notes: [String] = []

        progress?(.hashing)
        var clock = Date()
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        let digest = try SHA256.hex(ofFileAt: path)
        timings["hash"] = Date().timeIntervalSince(clock)

        progress?(.decoding)
        clock = Date()
        let info = try MediaInfo(path: path)
        guard let video = info.videoStreams.first, let width = video.width, let height = video.height, width > 0, height > 0 else {
            throw MediaError(path: path, reason: .noStream(.video))
        }
        let turned = abs(Int(video.rotation ?? 0)) % 180 == 90
        let display = turned ? FrameSize(width: height, height: width) : FrameSize(width: width, height: height)
        let decoder = try VideoDecoder(path: path, requests: [
            FrameRequest(size: display, selection: .every(seconds: options.visualSampleInterval)),
        ], streamIndex: video.index)
        let tagger = VisualTagger(model: visualModel)
        let duration = info.duration ?? video.duration
        var previous: (image: RGBImage, time: Double)?
        while let frame = try decoder.next() {
            guard let image = frame.images[0] else { continue }
            if let previous { tagger.add(previous.image, time: previous.time, weight: frame.time - previous.time) }
            previous = (image, frame.time)
        }
        if let previous {
            let end = duration.map { max($0, previous.time + 0.04) } ?? previous.time + options.visualSampleInterval
            tagger.add(previous.image, time: previous.time, weight: min(end - previous.time, options.visualSampleInterval))
        }
        if let damage = decoder.damage { notes.append(damage.description) }
        let visual = tagger.finish()
        if visual.frames == 0 { notes.append("no frame could be decoded for visual tags") }
        timings["decode+visual"] = Date().timeIntervalSince(clock)

        clock = Date()
        var audio: AudioAnalysis?
        if info.audioStreams.isEmpty {
            notes.append("the title has no audio stream: no audio tags, loudness or audio embedding")
        } else {
            audio = try audioTagger.analyze(.media(path: path, stream: nil))
            if let damage = audio?.damage { notes.append(damage) }
        }
        timings["audio"] = Date().timeIntervalSince(clock)
        timings["total"] = Date().timeIntervalSince(started)

        var analysis = TitleAnalysis(
            titleId: titleId ?? Self.titleId(forPath: path),
            source: .init(path: path, sizeBytes: size, sha256: digest),
            media: info,
            models: modelRecords,
            tags: .init(visual: visual.tags, visualFrames: visual.frames),
            embeddings: .init(visual: visual.embedding),
            timings: timings,
            notes: notes)
        if let audio {
            analysis.tags.audio = Self.audioTags(audio)
            let l = audio.loudness
            analysis.loudness = .init(integratedLUFS: l.integratedLUFS, rangeLU: l.rangeLU, truePeakDBTP: l.truePeakDBTP,
                                      silentShare: l.silentShare)
            analysis.embeddings.audio = Self.audioEmbedding(audio)
        }
        return analysis
    }

    static func audioTags(_ audio: AudioAnalysis, threshold: Float = 0.5) -> [TitleAnalysis.AudioTag] {
        audio.tags.map { tag in
            let index = audio.labels.firstIndex(of: tag.label) ?? 0
            let ranges = audio.segments.filter { $0.probabilities[index] >= threshold }
                .map { TimeRange(start: $0.start, end: $0.end) }
            return TitleAnalysis.AudioTag(label: tag.label, score: tag.score, share: tag.activeShare,
                                          ranges: VisualTagger.merge(ranges))
        }
    }

    static func audioEmbedding(_ audio: AudioAnalysis) -> [Float]? {
        guard let first = audio.segments.first else { return nil }
        var sum = [Double](repeating: 0, count: first.meanPool.count + first.maxPool.count)
        for segment in audio.segments {
            for (i, v) in (segment.meanPool + segment.maxPool).enumerated() { sum[i] += Double(v) }
        }
        return l2Normalized(sum.map { Float($0 / Double(audio.segments.count)) })
    }

    /// Writes `OUT/<title-id>/analysis.json` atomically and returns its path.
    @discardableResult
    public static func write(_ analysis: TitleAnalysis, to outFolder: String) throws -> String {
        let folder = (outFolder as NSString).appendingPathComponent(analysis.titleId)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw AnalysisError(path: folder, message: "cannot create the output folder")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let path = (folder as NSString).appendingPathComponent("analysis.json")
        try AtomicFile.write(try encoder.encode(analysis), to: path)
        return path
    }
}

extension ModelStore {
    /// The model's weights and their recorded sha256 (Models/converted.sha256 beside the folder).
    func record(name: String, file: String) -> TitleAnalysis.ModelRecord {
        let list = ((folder as NSString).deletingLastPathComponent as NSString).appendingPathComponent("converted.sha256")
        let sha = (try? String(contentsOfFile: list, encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasSuffix(file) }?.split(separator: " ").first.map(String.init)
        return TitleAnalysis.ModelRecord(name: name, file: file, sha256: sha)
    }
}
