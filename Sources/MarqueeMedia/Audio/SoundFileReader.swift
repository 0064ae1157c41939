import CFFmpeg
import CSndFile

/// Audio files (WAV, FLAC, Ogg Vorbis, AIFF, …) read by libsndfile, mixed and resampled
/// to Float32 exactly as `AudioDecoder` does for media files.
public final class SoundFileReader: AudioSource {
    public let sampleRate: Int
    public let chunkSize: Int
    /// The file's own rate and channel count.
    public let fileSampleRate: Int
    public let fileChannels: Int
    /// Frames (samples per channel) the file declares.
    public let fileFrames: Int
    public let format: String

    private let path: String
    private var handle: OpaquePointer?
    private let resampler: AudioResampler
    private var layout = AVChannelLayout()
    private var pending: [Float] = []
    private var delivered = 0
    private var finished = false

    public init(path: String, sampleRate: Int = 16000, chunkSeconds: Double = 10,
                channels: AudioChannels = .ffmpegMono) throws {
        try InputFile.requireRegularFile(path)
        self.path = path
        var info = SF_INFO()
        guard let opened = sf_open(path, Int32(SFM_READ), &info) else {
            throw MediaError(path: path, reason: .soundFile(String(cString: sf_strerror(nil))))
        }
        handle = opened
        guard info.channels > 0, info.channels <= 64, info.samplerate > 0 else {
            sf_close(opened)
            throw MediaError(path: path, reason: .soundFile("the file declares \(info.channels) channels at \(info.samplerate) Hz"))
        }
        self.sampleRate = sampleRate
        chunkSize = max(1, Int(chunkSeconds * Double(sampleRate)))
        fileSampleRate = Int(info.samplerate)
        fileChannels = Int(info.channels)
        fileFrames = Int(info.frames)
        var formatInfo = SF_FORMAT_INFO()
        formatInfo.format = info.format & Int32(SF_FORMAT_TYPEMASK)
        sf_command(opened, Int32(SFC_GET_FORMAT_INFO), &formatInfo, Int32(MemoryLayout<SF_FORMAT_INFO>.size))
        format = formatInfo.name.map { String(cString: $0) } ?? "unknown"
        resampler = AudioResampler(outputRate: sampleRate, channels: channels, path: path)
        av_channel_layout_default(&layout, info.channels)
    }

    deinit {
        if let handle { sf_close(handle) }
        av_channel_layout_uninit(&layout)
    }

    /// True when `path` is a file libsndfile recognises.
    public static func canRead(path: String) -> Bool {
        var info = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &info) else { return false }
        sf_close(handle)
        return true
    }

    public func next() throws -> AudioBuffer? {
        let framesPerRead = 8192
        var interleaved = [Float](repeating: 0, count: framesPerRead * fileChannels)
        while pending.count < chunkSize * resampler.outputChannels && !finished {
            let got = interleaved.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, sf_count_t(framesPerRead)) }
            if got > 0 {
                try interleaved.withUnsafeBufferPointer { buffer in
                    var plane: UnsafePointer<UInt8>? = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self)
                    try resampler.convert(data: &plane, count: Int32(got), format: AV_SAMPLE_FMT_FLT,
                                          rate: Int32(fileSampleRate), layout: &layout, into: &pending)
                }
            } else {
                if sf_error(handle) != 0 {
                    throw MediaError(path: path, reason: .soundFile(String(cString: sf_strerror(handle))))
                }
                try resampler.flush(into: &pending)
                finished = true
            }
        }
        return takeChunk(from: &pending, size: chunkSize, sampleRate: sampleRate, channels: resampler.outputChannels,
                         channelNames: resampler.outputChannelNames, delivered: &delivered)
    }
}
