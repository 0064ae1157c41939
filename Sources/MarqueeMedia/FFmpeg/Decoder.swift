import CFFmpeg

/// A codec context opened for one stream: owns the AVCodecContext.
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let path: String
    /// Kept for the context, which calls it while decoding.
    private let bands: BandScaler?

    init(file: InputFile, streamIndex: Int, threads: Int = 0, bands: BandScaler? = nil) throws {
        path = file.path
        let parameters = file.stream(streamIndex).pointee.codecpar!
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(parameters.pointee.codec_id))
            throw MediaError(path: file.path, reason: .other("no decoder for the \(name) codec"))
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw MediaError(path: file.path, reason: .other("out of memory allocating a decoder"))
        }
        context = ctx
        self.bands = bands
        bands?.install(on: ctx)
        try check(avcodec_parameters_to_context(ctx, parameters), "avcodec_parameters_to_context", file.path)
        ctx.pointee.pkt_timebase = file.stream(streamIndex).pointee.time_base
        ctx.pointee.thread_count = Int32(threads)
        try check(avcodec_open2(ctx, codec, nil), "avcodec_open2", file.path)
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&ctx)
    }
}

/// An owned AVPacket.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>
    init() { pointer = av_packet_alloc() }
    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }
}

/// An owned AVFrame.
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>
    init() { pointer = av_frame_alloc() }
    init(owning pointer: UnsafeMutablePointer<AVFrame>) { self.pointer = pointer }
    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&p)
    }
}

/// Reads packets of one stream and feeds a decoder, yielding decoded frames.
///
/// Read errors other than end of file end the stream early and are remembered in
/// `readError`, so a damaged file still gives what it can before it says so.
final class FrameReader {
    let file: InputFile
    let decoder: Decoder
    let streamIndex: Int
    private let packet = Packet()
    let frame = Frame()
    private var draining = false
    private(set) var finished = false
    private(set) var readError: MediaError?
    private(set) var decodeErrors = 0

    init(file: InputFile, decoder: Decoder, streamIndex: Int) {
        self.file = file
        self.decoder = decoder
        self.streamIndex = streamIndex
    }

    /// Decodes the next frame into `frame`; false at the end of the stream.
    func nextFrame() throws -> Bool {
        if finished { return false }
        while true {
            av_frame_unref(frame.pointer)
            let received = avcodec_receive_frame(decoder.context, frame.pointer)
            if received >= 0 { return true }
            if received == averrorEOF {
                finished = true
                return false
            }
            if received != averrorEAGAIN {
                // A damaged packet: count it and carry on with the next one.
                decodeErrors += 1
                if decodeErrors > 1000 { throw MediaError.ffmpeg(file.path, "avcodec_receive_frame", received) }
                continue
            }
            if draining {
                finished = true
                return false
            }
            try sendNextPacket()
        }
    }

    private func sendNextPacket() throws {
        while true {
            let read = av_read_frame(file.context, packet.pointer)
            if read < 0 {
                if read != averrorEOF { readError = MediaError.ffmpeg(file.path, "av_read_frame", read) }
                draining = true
                avcodec_send_packet(decoder.context, nil)
                return
            }
            defer { av_packet_unref(packet.pointer) }
            guard Int(packet.pointer.pointee.stream_index) == streamIndex else { continue }
            let sent = avcodec_send_packet(decoder.context, packet.pointer)
            if sent < 0 && sent != averrorEAGAIN {
                decodeErrors += 1
                if decodeErrors > 1000 { throw MediaError.ffmpeg(file.path, "avcodec_send_packet", sent) }
                continue
            }
            return
        }
    }

    /// Seeks to the keyframe at or before `seconds` and resets the decoder.
    func seek(toSeconds seconds: Double) throws {
        let stream = file.stream(streamIndex)
        let timeBase = stream.pointee.time_base
        let target = Int64((seconds / timeBase.double).rounded(.down)) + startPTS
        try check(av_seek_frame(file.context, Int32(streamIndex), target, AVSEEK_FLAG_BACKWARD),
                  "av_seek_frame", file.path)
        avcodec_flush_buffers(decoder.context)
        draining = false
        finished = false
    }

    /// The container's start time in this stream's time base (0 when unknown): times of all
    /// streams count from the same origin, so video, audio and subtitles stay in sync.
    var startPTS: Int64 { file.startPTS(inStream: streamIndex) }

    /// Presentation time of the current frame in seconds from the stream's start.
    var frameSeconds: Double? {
        let ts = frame.pointer.pointee.best_effort_timestamp
        guard ts != noPTS else { return nil }
        return Double(ts - startPTS) * file.stream(streamIndex).pointee.time_base.double
    }
}
