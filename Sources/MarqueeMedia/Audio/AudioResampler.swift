import CFFmpeg

/// Downmixes and resamples audio to mono Float32 with libswresample's default matrix and
/// filter: the conversion `ffmpeg -ac 1 -ar RATE -f f32le` performs. Stereo becomes
/// (L + R)·√½; 5.1 keeps the centre at full level, adds fronts and surrounds at √½, and
/// leaves out the LFE channel. No normalisation is applied to float output, as in FFmpeg.
final class MonoResampler {
    let outputRate: Int
    let path: String
    private var context: OpaquePointer?
    private var inputKey: (format: Int32, rate: Int32, channels: Int32, mask: UInt64) = (-1, 0, 0, 0)

    init(outputRate: Int, path: String) {
        self.outputRate = outputRate
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

    private func run(output: inout [Float], capacity: Int,
                     _ body: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, Int32) -> Int32) throws {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: capacity))
        let produced = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var out: UnsafeMutablePointer<UInt8>? = UnsafeMutableRawPointer(buffer.baseAddress! + start)
                .assumingMemoryBound(to: UInt8.self)
            return body(&out, Int32(capacity))
        }
        if produced < 0 {
            output.removeLast(capacity)
            throw MediaError.ffmpeg(path, "swr_convert", produced)
        }
        output.removeLast(capacity - Int(produced))
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
        av_channel_layout_default(&outLayout, 1)
        try check(swr_alloc_set_opts2(&context, &outLayout, AV_SAMPLE_FMT_FLT, Int32(outputRate),
                                      &inLayout, format, rate, 0, nil), "swr_alloc_set_opts2", path)
        try check(swr_init(context), "swr_init", path)
        inputKey = key
    }
}
