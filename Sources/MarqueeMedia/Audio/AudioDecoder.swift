import CFFmpeg

/// Decodes one audio stream of a media file to Float32 at a chosen rate, in chunks: mono
/// (FFmpeg's downmix or the channel mean) or every channel interleaved.
public final class AudioDecoder: AudioSource {
    public let info: MediaInfo
    public let stream: StreamInfo
    public let sampleRate: Int
    /// Samples per delivered chunk (the last one may be shorter).
    public let chunkSize: Int
    /// Set at the end when the stream stopped early: what was decodable was delivered.
    public private(set) var damage: MediaError?

    private let file: InputFile
    private let reader: FrameReader
    private let resampler: AudioResampler
    private var pending: [Float] = []
    private var delivered = 0
    private var finished = false

    public init(path: String, sampleRate: Int = 16000, chunkSeconds: Double = 10, streamIndex: Int? = nil,
                channels: AudioChannels = .ffmpegMono) throws {
        file = try InputFile(path: path)
        info = MediaInfo(file: file)
        let index = try file.streamIndex(of: .audio, preferred: streamIndex)
        stream = info.streams[index]
        guard sampleRate >= 1000, sampleRate <= 384_000 else {
            throw MediaError(path: path, reason: .other("the sample rate \(sampleRate) Hz is not usable"))
        }
        self.sampleRate = sampleRate
        chunkSize = max(1, Int(chunkSeconds * Double(sampleRate)))
        reader = FrameReader(file: file, decoder: try Decoder(file: file, streamIndex: index, threads: 1), streamIndex: index)
        resampler = AudioResampler(outputRate: sampleRate, channels: channels, path: path)
    }

    public func next() throws -> AudioBuffer? {
        while pending.count < chunkSize * resampler.outputChannels && !finished {
            file.extendDeadline(seconds: 60)
            if try reader.nextFrame() {
                let frame = reader.frame.pointer
                try frame.pointee.extended_data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 64) { planes in
                    try resampler.convert(data: planes, count: frame.pointee.nb_samples,
                                          format: AVSampleFormat(frame.pointee.format), rate: frame.pointee.sample_rate,
                                          layout: &frame.pointee.ch_layout, into: &pending)
                }
            } else {
                try resampler.flush(into: &pending)
                finished = true
                if let readError = reader.readError {
                    damage = MediaError(path: file.path, reason: .truncated(detail: "audio decoding stopped early: \(readError.description)"))
                }
            }
        }
        return takeChunk(from: &pending, size: chunkSize, sampleRate: sampleRate, channels: resampler.outputChannels,
                         channelNames: resampler.outputChannelNames, delivered: &delivered)
    }
}
