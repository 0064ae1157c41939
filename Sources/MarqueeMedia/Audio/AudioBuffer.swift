/// Mono Float32 samples at one rate; `startTime` is where `samples[0]` falls in the title.
public struct AudioBuffer: Equatable, Sendable {
    public var sampleRate: Int
    public var startTime: Double
    public var samples: [Float]

    public init(sampleRate: Int, startTime: Double = 0, samples: [Float]) {
        self.sampleRate = sampleRate
        self.startTime = startTime
        self.samples = samples
    }

    public var duration: Double { Double(samples.count) / Double(sampleRate) }
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
            if first { all.startTime = chunk.startTime; first = false }
            all.samples.append(contentsOf: chunk.samples)
        }
        return all
    }
}

/// Moves up to `size` samples from the front of `pending` into a buffer that starts where
/// the previous one ended; nil when nothing is pending.
func takeChunk(from pending: inout [Float], size: Int, sampleRate: Int, delivered: inout Int) -> AudioBuffer? {
    if pending.isEmpty { return nil }
    let count = min(size, pending.count)
    let chunk = AudioBuffer(sampleRate: sampleRate, startTime: Double(delivered) / Double(sampleRate),
                            samples: Array(pending[0..<count]))
    pending.removeFirst(count)
    delivered += count
    return chunk
}
