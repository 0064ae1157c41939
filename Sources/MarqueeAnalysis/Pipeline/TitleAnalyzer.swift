// One title, one decode pass of its video and one of its audio, overlapped:
//
//   decode thread (FramePrefetcher) ─► video thread: every frame at 48x27 → TransNetV2 windows
//                                      │  (ShotStream), a small copy every 0.25 s → ShotFrameSampler
//                                      └► visual thread: frames chosen per settled shot → EfficientNet-Lite0
//   audio thread: MusiCNN tags + loudness, then the title's text → MiniLM (keyphrases, themes, vector)
//
// Memory is bounded independently of the title's length: the decoder queues 4 frames, the
// shot predictor 100 small frames, the sampler at most 32 small copies, the visual queue 16,
// the keyframe heap 12; only per-shot and per-patch records (a few numbers each) grow.

import Foundation
import Synchronization
import MarqueeMedia
import MarqueeModels

public final class TitleAnalyzer {
    public struct Options: Sendable {
        /// Seconds of a shot per visual sample: a shot gets ceil(duration / this) frames, at
        /// least one and at most `maxFramesPerShot`.
        public var visualSampleInterval: Double = 2
        public var maxFramesPerShot = 3
        /// Seconds between the small copies the per-shot frames are chosen from.
        public var candidateInterval: Double = 0.25
        /// TransNetV2's single-frame threshold, as `marquee shots --threshold`.
        public var shotThreshold: Float = 0.5
        /// Stills of the longest shots written for the report.
        public var keyframes = 12
        /// Seconds between the full-resolution frames the artwork stage chooses from.
        public var artworkInterval: Double = 0.5
        /// Artwork candidates kept (and their choice: one per shot, MMR diversity).
        public var artwork = ArtworkSelector.Options()
        public init() {}
    }

    /// Text given with the title (a batch manifest's fields); it replaces what the container
    /// and the sidecar JSON say, and a subtitle file replaces the subtitles found beside the video.
    public struct TextInput: Sendable {
        public var title: String?
        public var synopsis: String?
        public var genres: [String]
        public var subtitlesPath: String?
        public init(title: String? = nil, synopsis: String? = nil, genres: [String] = [], subtitlesPath: String? = nil) {
            self.title = title
            self.synopsis = synopsis
            self.genres = genres
            self.subtitlesPath = subtitlesPath
        }
        var hasMetadata: Bool { title != nil || synopsis != nil || !genres.isEmpty }
    }

    /// `video`: the video pass, with the audio and text pass beside it; `audio`: the video pass
    /// is done and the audio and text pass is finishing.
    public enum Stage: String, Sendable { case hashing, video, audio, writing }

    private let models: ModelStore
    private let visualModel: EfficientNetLite0
    /// The artwork stage's own copy: it runs on its own thread beside the visual tagger's.
    private let artworkVisualModel: EfficientNetLite0
    private let faces: FaceAnalyzer
    private let shotModel: TransNetV2
    private let audioTagger: AudioTagger
    private let textTagger: TextTagger
    private let options: Options

    public init(models: ModelStore, options: Options = Options()) throws {
        self.models = models
        self.options = options
        // TransNetV2 takes the longest to load (its Winograd-transformed kernels): on another
        // core, beside the other models.
        let shots = BackgroundJob(name: "marquee.load") { try models.transNetV2() }
        visualModel = try models.efficientNetLite0()
        artworkVisualModel = try models.efficientNetLite0()
        faces = try FaceAnalyzer(models: models)
        audioTagger = AudioTagger(model: try models.musiCNN())
        textTagger = TextTagger(encoder: try TextEncoder(store: models))
        shotModel = try shots.join()
    }

    /// The weights every analysis records, with their sha256.
    public var modelRecords: [TitleAnalysis.ModelRecord] {
        [models.record(name: "efficientnet_lite0", file: "efficientnet_lite0.safetensors"),
         models.record(name: "transnetv2", file: "transnetv2.safetensors"),
         models.record(name: "musicnn_mtt", file: "musicnn_mtt.safetensors"),
         models.record(name: "mtcnn_pnet", file: "mtcnn_pnet.safetensors"),
         models.record(name: "mtcnn_rnet", file: "mtcnn_rnet.safetensors"),
         models.record(name: "mtcnn_onet", file: "mtcnn_onet.safetensors"),
         models.record(name: "emotion_mini_xception", file: "emotion_mini_xception.safetensors"),
         models.record(name: "all_minilm_l6_v2", file: "all_minilm_l6_v2.safetensors")]
    }

    /// Identifies the models and the schema an analysis comes from: a rerun with other weights
    /// or another schema redoes the title.
    public var modelsKey: String { TitleAnalysis.modelsKey(modelRecords) }

    /// A stable, file-system-safe id from the file name: "My Film (2021).mp4" → "my-film-2021".
    public static func titleId(forPath path: String) -> String {
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return safeId(stem)
    }

    /// Lower-case ASCII letters and digits joined by single dashes; "title" when nothing is left.
    public static func safeId(_ text: String) -> String {
        var id = ""
        for scalar in text.lowercased().unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII { id.unicodeScalars.append(scalar) }
            else if !id.isEmpty && !id.hasSuffix("-") { id.append("-") }
        }
        while id.hasSuffix("-") { id.removeLast() }
        return id.isEmpty ? "title" : id
    }

    /// Analyses a title. `progress` may be called from the pipeline's threads.
    public func analyze(path: String, titleId: String? = nil, text textInput: TextInput? = nil,
                        progress: (@Sendable (Stage) -> Void)? = nil) throws -> TitleAnalysis {
        let started = Date()
        var timings: [String: Double] = [:]
        var notes: [String] = []

        progress?(.hashing)
        var clock = Date()
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        let digest = try SHA256.hex(ofFileAt: path)
        timings["hash"] = Date().timeIntervalSince(clock)

        let info = try MediaInfo(path: path)
        guard let video = info.videoStreams.first, let width = video.width, let height = video.height, width > 0, height > 0 else {
            throw MediaError(path: path, reason: .noStream(.video))
        }

        // The audio and text pass runs beside the video pass.
        let hasAudio = !info.audioStreams.isEmpty
        let audioTagger = self.audioTagger, textTagger = self.textTagger
        let sideJob = BackgroundJob(name: "marquee.audio") { () throws -> SidePass in
            var side = SidePass()
            if hasAudio {
                let clock = Date()
                side.audio = try audioTagger.analyze(.media(path: path, stream: nil))
                side.audioSeconds = Date().timeIntervalSince(clock)
            }
            let clock = Date()
            do {
                let text = try Self.titleText(path: path, info: info, input: textInput)
                side.text = textTagger.tag(text, file: path)
            } catch {
                side.textError = "\(error)"
            }
            side.textSeconds = Date().timeIntervalSince(clock)
            return side
        }

        progress?(.video)
        clock = Date()
        let videoPass: VideoPass
        do {
            videoPass = try runVideoPass(path: path, info: info, video: video, width: width, height: height)
        } catch {
            _ = try? sideJob.join()
            throw error
        }
        timings["video"] = Date().timeIntervalSince(clock)
        timings["shots_inference"] = videoPass.shots.inferenceSeconds
        timings["visual_inference"] = videoPass.visualSeconds
        progress?(.audio)
        let side = try sideJob.join()
        if hasAudio { timings["audio"] = side.audioSeconds }
        timings["text"] = side.textSeconds

        if let damage = videoPass.shots.damage { notes.append(damage.description) }
        let visual = videoPass.visual
        if visual.frames == 0 { notes.append("no frame could be decoded for visual tags") }
        if videoPass.unseenSeconds > 0 {
            notes.append(String(format: "%.2f s of shots shorter than %.2f s had no sampled frame for the visual model",
                                videoPass.unseenSeconds, options.candidateInterval))
        }

        var analysis = TitleAnalysis(
            titleId: titleId ?? Self.titleId(forPath: path),
            source: .init(path: path, sizeBytes: size, sha256: digest),
            media: info,
            models: modelRecords,
            tags: .init(visual: visual.tags, visualFrames: visual.frames),
            embeddings: .init(visual: visual.embedding),
            timings: timings,
            notes: notes)
        analysis.shots = TitleAnalysis.ShotsRecord(frames: videoPass.shots.frames, fps: videoPass.shots.fps,
                                                   threshold: options.shotThreshold,
                                                   list: videoPass.shots.shots.map(TitleAnalysis.ShotRecord.init))
        analysis.visualSamples = videoPass.samples
        analysis.keyframes = videoPass.keyframes.map { TitleAnalysis.Keyframe(file: $0.file, time: $0.frame.time, shot: $0.frame.shot) }
        pendingKeyframes = videoPass.keyframes

        if let audio = side.audio {
            if let damage = audio.damage { analysis.notes.append(damage) }
            analysis.tags.audio = Self.audioTags(audio)
            let l = audio.loudness
            analysis.loudness = .init(integratedLUFS: l.integratedLUFS, rangeLU: l.rangeLU, truePeakDBTP: l.truePeakDBTP,
                                      silentShare: l.silentShare)
            analysis.embeddings.audio = Self.audioEmbedding(audio)
        } else {
            analysis.notes.append("the title has no audio stream: no audio tags, loudness or audio embedding")
        }
        if let text = side.text {
            analysis.tags.text = .init(documents: text.documents, keyphrases: text.keyphrases, themes: text.themes, notes: text.notes)
            analysis.embeddings.text = text.vector
            if text.vector == nil { analysis.notes.append("the title has no text: no text tags or text embedding") }
        } else if let error = side.textError {
            analysis.notes.append("the title's text could not be read: \(error)")
        }
        analysis.artwork = .init(computed: true, candidates: videoPass.artwork.candidates.map { candidate in
            TitleAnalysis.ArtworkRecord(rank: candidate.rank, file: Self.artworkFile(rank: candidate.rank), time: candidate.time,
                                        frame: candidate.frame, score: Double(candidate.score),
                                        components: Self.components(candidate.components))
        })
        if videoPass.artwork.candidates.isEmpty { notes.append("no sampled frame passed the artwork filters") }
        pendingArtwork = videoPass.artwork.candidates
        if let fused = FusedEmbedding.fuse(visual: analysis.embeddings.visual, audio: analysis.embeddings.audio,
                                           text: analysis.embeddings.text) {
            analysis.embeddings.fused = fused.vector
            analysis.fusion = fused.record
        }
        analysis.timings["total"] = Date().timeIntervalSince(started)
        return analysis
    }

    private struct SidePass {
        var audio: AudioAnalysis?
        var audioSeconds = 0.0
        var text: TextTags?
        var textError: String?
        var textSeconds = 0.0
    }

    struct PendingKeyframe {
        var file: String
        var frame: SampledFrame
    }

    private struct VideoPass {
        var shots: ShotList
        var visual: VisualTagger.Summary
        var visualSeconds: Double
        var samples: [TitleAnalysis.VisualSample]
        var keyframes: [PendingKeyframe]
        var unseenSeconds: Double
        var artwork: ArtworkSelection
    }

    static func artworkFile(rank: Int) -> String { String(format: "artwork/%02d.png", rank) }

    static func components(_ score: ArtworkScore) -> [String: Double] {
        var components = ["sharpness": score.sharpness, "exposure": score.exposure, "contrast": score.contrast,
                          "colourfulness": score.colourfulness, "quality": score.quality,
                          "distinctiveness": score.distinctiveness]
        if let face = score.face { components["face"] = face }
        if let expression = score.expression { components["expression"] = expression }
        return components.mapValues(Double.init)
    }

    /// Keyframes of the last analysis, written beside its analysis.json by `write`.
    private var pendingKeyframes: [PendingKeyframe] = []
    /// Artwork candidates of the last analysis, written beside its analysis.json by `write`.
    private var pendingArtwork: [ArtworkCandidate] = []

    private func runVideoPass(path: String, info: MediaInfo, video: StreamInfo, width: Int, height: Int) throws -> VideoPass {
        let turned = abs(Int(video.rotation ?? 0)) % 180 == 90
        let display = turned ? FrameSize(width: height, height: width) : FrameSize(width: width, height: height)
        // Copies for the visual model are scaled in the decode pass so that waiting copies stay small.
        let candidateSize = VisualTagger.modelCopySize(display: display)
        let decoder = try VideoDecoder(path: path, requests: [
            FrameRequest(size: ShotDetector.frameSize, selection: .everyFrame),
            FrameRequest(size: candidateSize, selection: .every(seconds: options.candidateInterval)),
            // Full resolution for the artwork stage; on the same grid as the small copies, so
            // each comes with its small copy.
            FrameRequest(size: display, selection: .every(seconds: options.artworkInterval)),
        ], streamIndex: video.index)
        let shotStream = ShotStream(model: shotModel, fps: decoder.stream.frameRate ?? 25, threshold: options.shotThreshold)
        let artwork = ArtworkStage(visualModel: artworkVisualModel, faces: faces, options: options.artwork,
                                   fps: decoder.stream.frameRate ?? 25)
        let sampler = ShotFrameSampler(interval: options.visualSampleInterval, maxPerShot: options.maxFramesPerShot)

        // EfficientNet runs on its own thread, fed through a short queue.
        let queue = BoundedQueue<SampledFrame>(capacity: 16)
        let tagger = VisualTagger(model: visualModel)
        let visualJob = BackgroundJob(name: "marquee.visual") { () -> (VisualTagger.Summary, Double) in
            var seconds = 0.0
            while let item = queue.take() {
                let clock = Date()
                tagger.add(item.image, time: item.range.start, weight: item.range.end - item.range.start)
                seconds += Date().timeIntervalSince(clock)
            }
            let clock = Date()
            let summary = tagger.finish()
            return (summary, seconds + Date().timeIntervalSince(clock))
        }

        var shots: [Shot] = []
        var samples: [TitleAnalysis.VisualSample] = []
        var keyframes = KeyframeHeap(capacity: options.keyframes)
        func settled(_ newShots: [Shot]) {
            for shot in newShots {
                shots.append(shot)
                let chosen = sampler.shotFinished(shot)
                for frame in chosen {
                    samples.append(.init(time: frame.time, frame: frame.frame, shot: frame.shot,
                                         start: frame.range.start, end: frame.range.end))
                    queue.put(frame)
                }
                if !chosen.isEmpty { keyframes.offer(chosen[chosen.count / 2], duration: shot.end - shot.start) }
                artwork.shotClosed(shot)
            }
        }
        do {
            while let frame = try decoder.next() {
                if let candidate = frame.images[1] {
                    sampler.add(candidate, time: frame.time, frame: frame.index)
                    if let full = frame.images[2] { artwork.add(index: frame.index, time: frame.time, image: full, resized: candidate) }
                }
                if let small = frame.images[0] { settled(shotStream.add(frame: small.pixels, time: frame.time)) }
            }
            if shotStream.frames == 0 {
                if let damage = decoder.damage { throw damage }
                throw ShotDetectionError(path: path, reason: .noFrames)
            }
            settled(shotStream.finish())
        } catch {
            queue.close()
            _ = try? visualJob.join()
            artwork.cancel()
            throw error
        }
        queue.close()
        let (visual, visualSeconds) = try visualJob.join()
        let (selection, _) = try artwork.finish(shots: shots)
        let list = shotStream.list(shots: shots, damage: decoder.damage)
        let kept = keyframes.frames.sorted { $0.time < $1.time }.enumerated().map { index, frame in
            PendingKeyframe(file: String(format: "keyframes/%02d.png", index + 1), frame: frame)
        }
        return VideoPass(shots: list, visual: visual, visualSeconds: visualSeconds, samples: samples, keyframes: kept,
                         unseenSeconds: sampler.unseenSeconds, artwork: selection)
    }

    /// The title's text: what TitleText reads from the file (as `marquee tag-text`), with the
    /// manifest's fields in place of the container's and sidecar's when given.
    static func titleText(path: String, info: MediaInfo, input: TextInput?) throws -> TitleText {
        var text = try TitleText.read(path: path)
        guard let input else { return text }
        if input.hasMetadata {
            let sidecar = SidecarMetadata(title: input.title, synopsis: input.synopsis, genres: input.genres)
            text.metadata = TitleText.metadataDocument(tags: info.tags, sidecar: sidecar)
            text.notes.removeAll { $0.hasSuffix("has no text metadata.") }
        }
        if let subtitles = input.subtitlesPath {
            var notes: [String] = []
            text.subtitles = TitleText.choose(try SubtitleReader.tracks(in: subtitles), notes: &notes)
                .map { TitleText.subtitleWindows($0.cues) } ?? []
            text.notes.removeAll { $0.hasSuffix("has no text subtitles.") }
            text.notes += notes
            if text.subtitles.isEmpty { text.notes.append("\(subtitles) holds no subtitles.") }
        }
        text.notes.removeAll { $0 == "No text to analyse." }
        if text.isEmpty { text.notes.append("No text to analyse.") }
        return text
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

    /// Writes the keyframes of the analysis just made (if it is this analyzer's last one) and
    /// then `OUT/<title-id>/analysis.json`, each atomically; returns the analysis.json path.
    @discardableResult
    public func write(_ analysis: TitleAnalysis, to outFolder: String) throws -> String {
        let folder = (outFolder as NSString).appendingPathComponent(analysis.titleId)
        if analysis.keyframes.map(\.file) == pendingKeyframes.map(\.file) {
            try Self.writeStills(pendingKeyframes.map { ($0.file, $0.frame.image) }, in: folder)
        }
        pendingKeyframes = []
        if analysis.artwork.candidates.map(\.rank) == pendingArtwork.map(\.rank) {
            try Self.writeStills(pendingArtwork.map { (Self.artworkFile(rank: $0.rank), $0.image) }, in: folder)
        }
        pendingArtwork = []
        return try Self.write(analysis, to: outFolder)
    }

    /// Writes each image as PNG at its path relative to `folder`, atomically, creating the
    /// subfolders. The images are compressed on all cores: a title's stills took seconds on one.
    private static func writeStills(_ stills: [(file: String, image: RGBImage)], in folder: String) throws {
        let paths = stills.map { (folder as NSString).appendingPathComponent($0.file) }
        for parent in Set(paths.map { ($0 as NSString).deletingLastPathComponent }) {
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            } catch {
                throw AnalysisError(path: parent, message: "cannot create the output folder")
            }
        }
        let failures = Mutex<[Int: any Error]>([:])
        DispatchQueue.concurrentPerform(iterations: stills.count) { i in
            do {
                try PNGFile.write(stills[i].image, to: paths[i])   // atomic: a temporary file, renamed
            } catch {
                failures.withLock { $0[i] = error }
            }
        }
        if let first = failures.withLock({ $0.min { $0.key < $1.key } }) { throw first.value }
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
        let path = (folder as NSString).appendingPathComponent("analysis.json")
        try AtomicFile.write(try encode(analysis), to: path)
        return path
    }

    public static func encode(_ analysis: TitleAnalysis) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(analysis)
    }

    /// Reads an analysis.json written by `write`; nil when it is missing, unreadable or of another schema version.
    public static func read(from path: String) -> TitleAnalysis? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let analysis = try? decoder.decode(TitleAnalysis.self, from: data),
              analysis.schemaVersion == TitleAnalysis.schemaVersion else { return nil }
        return analysis
    }
}

/// The frames of the `capacity` longest shots seen so far.
struct KeyframeHeap {
    let capacity: Int
    private(set) var entries: [(frame: SampledFrame, duration: Double)] = []
    init(capacity: Int) { self.capacity = max(0, capacity) }

    mutating func offer(_ frame: SampledFrame, duration: Double) {
        guard capacity > 0 else { return }
        if entries.count < capacity {
            entries.append((frame, duration))
            return
        }
        guard let shortest = entries.indices.min(by: { entries[$0].duration < entries[$1].duration }),
              entries[shortest].duration < duration else { return }
        entries[shortest] = (frame, duration)
    }

    var frames: [SampledFrame] { entries.map(\.frame) }
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
