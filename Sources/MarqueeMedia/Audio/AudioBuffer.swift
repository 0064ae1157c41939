/// Float32 samples at one rate, mono unless a source was asked for every channel (then
/// interleaved); `startTime` is where the first sample falls in the title.
public struct AudioBuffer: Equatable, Sendable {
    public var sampleRate: Int
    public var startTime: Double
    public var samples: [Float]
    /// Interleaved channels in `samples` (1 for mono).
    public var channels: Int
    /// FFmpeg's channel names in order ("FL", "FR", "FC", "LFE", "BL", "BR", …).
    public var channelNames: [String]

    public init(sampleRate: Int, startTime: Double = 0, samples: [Float], channels: Int = 1,
                channelNames: [String] = ["FC"]) {
        self.sampleRate = sampleRate
        self.startTime = startTime
        self.samples = samples
        self.channels = channels
        self.channelNames = channelNames
    }

    /// Samples per channel.
    public var frames: Int { samples.count / max(channels, 1) }
    public var duration: Double { Double(frames) / Double(sampleRate) }
}

/// A source of mono audio delivered in bounded chunks: media files decoded by FFmpeg, or
/// audio files read by libsndfile.
public protocol AudioSource: AnyObject {
    var sampleRate: Int { get }
    /// The next chunk, or nil at the end.
    func next() throws -> AudioBuffer?
}

extension AudioSource {
    /// Every remaining sample in one buffer (for short files and tests).
    public func readAll() throws -> AudioBuffer {
        var all = AudioBuffer(sampleRate: sampleRate, samples: [])
        var first = true
        while let chunk = try next() {
            if first {
                all.startTime = chunk.startTime
                all.channels = chunk.channels
                all.channelNames = chunk.channelNames
                first = false
            }
            all.samples.append(contentsOf: chunk.samples)
        }
        return all
    }
}

/// Moves up to `size` frames (of `channels` interleaved samples) from the front of `pending`
/// into a buffer that starts where the previous one ended; nil when nothing is pending.
func takeChunk(from pending: inout [Float], size: Int, sampleRate: Int, channels: Int, channelNames: [String],
               delivered: inout Int) -> AudioBuffer? {
    if pending.isEmpty { return nil }
    let count = min(size, pending.count / channels)
    let chunk = AudioBuffer(sampleRate: sampleRate, startTime: Double(delivered) / Double(sampleRate),
                            samples: Array(pending[0..<(count * channels)]), channels: channels, channelNames: channelNames)
    pending.removeFirst(count * channels)
    delivered += count
    return chunk
}
