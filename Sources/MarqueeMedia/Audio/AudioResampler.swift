import CFFmpeg

/// How decoded channels become the channels a caller receives.
public enum AudioChannels: Sendable, Equatable {
    /// Mono with libswresample's default matrix: the conversion `ffmpeg -ac 1` performs.
    /// Stereo becomes (L + R)·√½; 5.1 keeps the centre at full level, adds fronts and
    /// surrounds at √½, and leaves out the LFE channel. No normalisation is applied to
    /// float output, as in FFmpeg.
    case ffmpegMono
    /// Mono as the mean of every channel, LFE included: what librosa's `load(mono=True)`
    /// (`librosa.to_mono`, `np.mean` over channels in Float32) does, and so what the music
    /// models were trained on. The channels are resampled first (as
    /// `ffmpeg -ar RATE -c:a pcm_f32le` does), then summed in order and divided by their
    /// count in Float32, as numpy does.
    case averageMono
    /// Every channel of the source, interleaved, in the source's order (for loudness).
    case source
}

/// Mixes and resamples audio to Float32 at one rate with libswresample (default filter).
final class AudioResampler {
    let outputRate: Int
    let channels: AudioChannels
    let path: String
    /// Output channel count and names ("FL", "FR", "FC", "LFE", …); fixed by the first input.
    private(set) var outputChannels = 1
    private(set) var outputChannelNames: [String] = ["FC"]
    /// Channels libswresample delivers (all of them when averaging).
    private var swrChannels = 1
    private var scratch: [Float] = []
    private var context: OpaquePointer?
    private var inputKey: (format: Int32, rate: Int32, channels: Int32, mask: UInt64) = (-1, 0, 0, 0)
    private var started = false

    init(outputRate: Int, channels: AudioChannels = .ffmpegMono, path: String) {
        self.outputRate = outputRate
        self.channels = channels
        self.path = path
    }

    deinit { swr_free(&context) }

    /// Converts `count` input samples per channel and appends the output to `output`.
    /// `data` points at one plane per channel (planar formats) or one interleaved plane.
    func convert(data: UnsafeMutablePointer<UnsafePointer<UInt8>?>, count: Int32, format: AVSampleFormat, rate: Int32,
                 layout: UnsafePointer<AVChannelLayout>, into output: inout [Float]) throws {
        try prepare(format: format, rate: rate, layout: layout, output: &output)
        try run(output: &output, capacity: Int(swr_get_out_samples(context, count)) + 16) { out, capacity in
            swr_convert(context, out, capacity, data, count)
        }
    }

    /// Emits what the filter still holds at the end of the input.
    func flush(into output: inout [Float]) throws {
        guard context != nil else { return }
        while true {
            let before = output.count
            try run(output: &output, capacity: 4096) { out, capacity in
                swr_convert(context, out, capacity, nil, 0)
            }
            if output.count == before { return }
        }
    }

    /// `capacity` and the body's result count samples per channel.
    private func run(output: inout [Float], capacity: Int,
                     _ body: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, Int32) -> Int32) throws {
        let width = swrChannels
        if scratch.count < capacity * width { scratch = [Float](repeating: 0, count: capacity * width) }
        let produced = scratch.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var out: UnsafeMutablePointer<UInt8>? = UnsafeMutableRawPointer(buffer.baseAddress!)
                .assumingMemoryBound(to: UInt8.self)
            return body(&out, Int32(capacity))
        }
        if produced < 0 { throw MediaError.ffmpeg(path, "swr_convert", produced) }
        let frames = Int(produced)
        if channels == .averageMono && width > 1 {
            output.reserveCapacity(output.count + frames)
            let divisor = Float(width)
            for i in 0..<frames {
                var sum = scratch[i * width]
                for c in 1..<width { sum += scratch[i * width + c] }
                output.append(sum / divisor)
            }
        } else {
            output.append(contentsOf: scratch[0..<(frames * width)])
        }
    }

    private func prepare(format: AVSampleFormat, rate: Int32, layout: UnsafePointer<AVChannelLayout>,
                         output: inout [Float]) throws {
        let mask = layout.pointee.order == AV_CHANNEL_ORDER_NATIVE ? layout.pointee.u.mask : 0
        let key = (format.rawValue, rate, layout.pointee.nb_channels, mask)
        if context != nil && key == inputKey { return }
        // The input changed mid-stream: drain the old filter first.
        try flush(into: &output)
        swr_free(&context)
        var inLayout = AVChannelLayout()
        if layout.pointee.order == AV_CHANNEL_ORDER_UNSPEC {
            av_channel_layout_default(&inLayout, layout.pointee.nb_channels)
        } else {
            try check(av_channel_layout_copy(&inLayout, layout), "av_channel_layout_copy", path)
        }
        defer { av_channel_layout_uninit(&inLayout) }
        var outLayout = AVChannelLayout()
        defer { av_channel_layout_uninit(&outLayout) }
        if channels != .ffmpegMono {
            if channels == .source && started && Int(inLayout.nb_channels) != outputChannels {
                throw MediaError(path: path, reason: .other(
                    "the audio changes from \(outputChannels) to \(inLayout.nb_channels) channels mid-stream"))
            }
            try check(av_channel_layout_copy(&outLayout, &inLayout), "av_channel_layout_copy", path)
        } else {
            av_channel_layout_default(&outLayout, 1)
        }
        try check(swr_alloc_set_opts2(&context, &outLayout, AV_SAMPLE_FMT_FLT, Int32(outputRate),
                                      &inLayout, format, rate, 0, nil), "swr_alloc_set_opts2", path)
        try check(swr_init(context), "swr_init", path)
        swrChannels = Int(outLayout.nb_channels)
        if channels == .averageMono {
            outputChannels = 1
            outputChannelNames = ["FC"]
            inputKey = key
            started = true
            return
        }
        outputChannels = swrChannels
        outputChannelNames = (0..<outputChannels).map { index in
            var name = [CChar](repeating: 0, count: 32)
            let channel = av_channel_layout_channel_from_index(&outLayout, UInt32(index))
            av_channel_name(&name, name.count, channel)
            return text(fromCString: name)
        }
        inputKey = key
        started = true
    }
}
