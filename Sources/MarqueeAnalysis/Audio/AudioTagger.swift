// Acoustic tags over time: a title's audio → MusiCNN per 3-second patch → a title summary,
// per-patch segments and features, plus loudness. One pass over the audio for the tags
// (mono 16 kHz, channel mean) and one for loudness (every channel at 48 kHz); memory stays
// bounded by a few batches of patches, not by the title's length.

import Foundation
import MarqueeMedia
import MarqueeModels
import MarqueeNN

/// One 3-second patch (187 log-mel frames) of the title.
public struct AudioSegment: Sendable {
    /// Seconds: the patch's first frame centre and the end of its last frame's hop.
    public var start: Double
    public var end: Double
    /// [50] sigmoid probabilities, in label order.
    public var probabilities: [Float]
    /// [200] penultimate layer; [753] each, the mid-end map pooled over time.
    public var penultimate: [Float]
    public var meanPool: [Float]
    public var maxPool: [Float]
    /// True when the title was shorter than one patch and the log-mel was padded with
    /// silence (zeros) to 187 frames.
    public var padded: Bool
}

public struct TagScore: Sendable, Equatable {
    public var label: String
    /// Mean probability over the title's patches.
    public var score: Float
    /// Share of the patches in which the tag's probability is at least the active threshold.
    public var activeShare: Double
}

public struct AudioAnalysis: Sendable {
    public var labels: [String]
    /// Every tag, by mean probability, best first.
    public var tags: [TagScore]
    public var segments: [AudioSegment]
    public var loudness: Loudness
    /// Seconds of audio decoded for the tags.
    public var duration: Double
    /// Set when the audio stopped early (a truncated file): what was decodable was analysed.
    public var damage: String?

    /// The `k` most probable tags of one segment, best first.
    public func top(_ k: Int, of segment: AudioSegment) -> [(label: String, score: Float)] {
        segment.probabilities.indices.sorted { segment.probabilities[$0] > segment.probabilities[$1] }
            .prefix(k).map { (labels[$0], segment.probabilities[$0]) }
    }
}

public enum AudioInput: Sendable {
    /// A media file read by FFmpeg: its first audio stream, or the stream with this index.
    case media(path: String, stream: Int?)
    /// An audio file read by libsndfile (WAV, FLAC, Ogg, AIFF, …).
    case soundFile(path: String)

    /// libsndfile for the files it recognises, FFmpeg for the rest.
    public static func detect(path: String, stream: Int?) -> AudioInput {
        if stream == nil && SoundFileReader.canRead(path: path) { return .soundFile(path: path) }
        return .media(path: path, stream: stream)
    }

    func open(sampleRate: Int, channels: AudioChannels) throws -> AudioSource & AnyObject {
        switch self {
        case let .media(path, stream):
            return try AudioDecoder(path: path, sampleRate: sampleRate, chunkSeconds: 10, streamIndex: stream,
                                    channels: channels)
        case let .soundFile(path):
            return try SoundFileReader(path: path, sampleRate: sampleRate, chunkSeconds: 10, channels: channels)
        }
    }
}

public final class AudioTagger {
    public let model: MusiCNN
    /// A tag counts as active in a patch when its probability reaches this (a sigmoid's 0.5).
    public var activeThreshold: Float = 0.5
    /// Patches run through the network together.
    public var batchPatches = 8

    public init(model: MusiCNN) {
        self.model = model
    }

    /// Tags, segments, features and loudness of one title. `progress` receives the seconds of
    /// audio analysed so far.
    public func analyze(_ input: AudioInput, progress: ((Double) -> Void)? = nil) throws -> AudioAnalysis {
        let tags = try tagsOverTime(input, progress: progress)
        let loudness = try Self.loudness(input)
        var analysis = tags
        analysis.loudness = loudness
        return analysis
    }

    /// Loudness of every channel at 48 kHz (the rate FFmpeg's ebur128 filter measures at).
    public static func loudness(_ input: AudioInput) throws -> Loudness {
        let source = try input.open(sampleRate: 48000, channels: .source)
        var meter: LoudnessMeter?
        while let chunk = try source.next() {
            if meter == nil { meter = LoudnessMeter(sampleRate: 48000, channelNames: chunk.channelNames) }
            meter?.add(chunk.samples)
        }
        return meter?.result()
            ?? Loudness(integratedLUFS: nil, rangeLU: nil, truePeakDBTP: nil, samplePeakDBFS: nil, silentShare: 1, duration: 0)
    }

    /// MusiCNN over consecutive 187-frame patches (musicnn's default: no overlap, trailing
    /// frames that do not fill a patch are left out, except that a title shorter than one
    /// patch is padded with silence to one).
    public func tagsOverTime(_ input: AudioInput, progress: ((Double) -> Void)? = nil) throws -> AudioAnalysis {
        let source = try input.open(sampleRate: LogMel.sampleRate, channels: .averageMono)
        let logMel = try LogMel()
        let patchValues = MusiCNN.patchFrames * LogMel.melBands
        var frames: [Float] = []
        var samples = 0
        var padded = false
        var submitted = 0
        // The network runs on its own thread while the next batch is decoded, so decoding and
        // the log-mel (one core) overlap the network (every core).
        let runner = BatchRunner(model: model)

        func run(patches: Int) {
            guard patches > 0 else { return }
            let input = Tensor(shape: [patches, MusiCNN.patchFrames, LogMel.melBands],
                               values: Array(frames[0..<(patches * patchValues)]))
            frames.removeFirst(patches * patchValues)
            runner.submit(input, padded: padded)
            submitted += patches
        }

        while var chunk = try source.next() {
            samples += chunk.samples.count
            // A float file may hold NaN or infinities; they would poison every later frame.
            if chunk.samples.contains(where: { !$0.isFinite }) {
                chunk.samples = chunk.samples.map { $0.isFinite ? $0 : 0 }
            }
            logMel.append(chunk.samples, into: &frames)
            let ready = frames.count / patchValues
            if ready >= batchPatches { run(patches: ready) }
            progress?(Double(samples) / Double(LogMel.sampleRate))
        }
        if samples > 0 {
            logMel.finish(into: &frames)
            if submitted == 0 && frames.count < patchValues {
                frames.append(contentsOf: repeatElement(0, count: patchValues - frames.count))
                padded = true
            }
            run(patches: frames.count / patchValues)
        }
        var segments: [AudioSegment] = []
        let hop = Double(LogMel.hopLength) / Double(LogMel.sampleRate)
        for (out, patchPadded) in runner.finish() {
            for p in 0..<out.probabilities.shape[0] {
                let first = segments.count * MusiCNN.patchFrames
                func row(_ t: Tensor, _ width: Int) -> [Float] { Array(UnsafeBufferPointer(start: t.data + p * width, count: width)) }
                segments.append(AudioSegment(
                    start: Double(first) * hop, end: Double(first + MusiCNN.patchFrames) * hop,
                    probabilities: row(out.probabilities, MusiCNN.tagCount),
                    penultimate: row(out.penultimate, MusiCNN.penultimateSize),
                    meanPool: row(out.meanPool, MusiCNN.pooledSize), maxPool: row(out.maxPool, MusiCNN.pooledSize),
                    padded: patchPadded))
            }
        }
        let duration = Double(samples) / Double(LogMel.sampleRate)
        if padded, !segments.isEmpty { segments[0].end = duration }

        var damage: String?
        if let decoder = source as? AudioDecoder, let problem = decoder.damage { damage = problem.description }
        return AudioAnalysis(labels: model.labels, tags: summarize(segments), segments: segments,
                             loudness: Loudness(integratedLUFS: nil, rangeLU: nil, truePeakDBTP: nil,
                                                samplePeakDBFS: nil, silentShare: 1, duration: duration),
                             duration: duration, damage: damage)
    }

    /// Mean probability and active share of every tag, best first.
    func summarize(_ segments: [AudioSegment]) -> [TagScore] {
        guard !segments.isEmpty else { return [] }
        let n = Double(segments.count)
        let scores = model.labels.indices.map { tag -> TagScore in
            var sum = 0.0
            var active = 0
            for segment in segments {
                sum += Double(segment.probabilities[tag])
                if segment.probabilities[tag] >= activeThreshold { active += 1 }
            }
            return TagScore(label: model.labels[tag], score: Float(sum / n), activeShare: Double(active) / n)
        }
        return scores.sorted { $0.score > $1.score }
    }
}

/// Runs MusiCNN batches one after another on a serial queue, in submission order, while the
/// caller prepares the next. At most `depth` batches are queued or running; `submit` waits
/// for a slot, so memory stays bounded by a few batches whatever the title's length.
private final class BatchRunner: @unchecked Sendable {
    private let model: MusiCNN
    private let queue = DispatchQueue(label: "marquee.musicnn")
    private let group = DispatchGroup()
    private let slots: DispatchSemaphore
    /// Written on `queue` only; read after `group` has drained.
    private var outputs: [(MusiCNN.Output, padded: Bool)] = []

    init(model: MusiCNN, depth: Int = 2) {
        self.model = model
        slots = DispatchSemaphore(value: depth)
    }

    func submit(_ input: Tensor, padded: Bool) {
        slots.wait()
        queue.async(group: group) {
            let out = self.model.forward(input)
            self.outputs.append((out, padded))
            self.slots.signal()
        }
    }

    /// Waits for every submitted batch; their outputs in submission order.
    func finish() -> [(MusiCNN.Output, padded: Bool)] {
        group.wait()
        return outputs
    }
}

extension AudioInput {
    /// Every sample of the audio as the tagger hears it: mono (channel mean) at 16 kHz.
    public func decodeMono16k() throws -> [Float] {
        try open(sampleRate: LogMel.sampleRate, channels: .averageMono).readAll().samples
    }
}
