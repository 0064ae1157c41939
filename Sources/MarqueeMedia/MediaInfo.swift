import CFFmpeg

/// What a media file holds, as the container and codecs declare it.
public struct MediaInfo: Codable, Equatable, Sendable {
    public var path: String
    /// Demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm".
    public var format: String
    public var formatLongName: String
    /// Seconds; nil when the container does not say.
    public var duration: Double?
    public var bitRate: Int?
    /// Container metadata (title, description, comment, genre, date, …) as stored.
    public var tags: [String: String]
    public var streams: [StreamInfo]

    public init(path: String, format: String, formatLongName: String, duration: Double?, bitRate: Int?,
                tags: [String: String], streams: [StreamInfo]) {
        self.path = path
        self.format = format
        self.formatLongName = formatLongName
        self.duration = duration
        self.bitRate = bitRate
        self.tags = tags
        self.streams = streams
    }

    public var videoStreams: [StreamInfo] { streams.filter { $0.type == .video && !$0.isAttachedPicture } }
    public var audioStreams: [StreamInfo] { streams.filter { $0.type == .audio } }
    public var subtitleStreams: [StreamInfo] { streams.filter { $0.type == .subtitle } }
}

public struct StreamInfo: Codable, Equatable, Sendable {
    public var index: Int
    public var type: MediaType
    public var codec: String
    public var language: String?
    public var title: String?
    public var duration: Double?
    public var tags: [String: String]

    // Video
    public var width: Int?
    public var height: Int?
    /// Average frame rate in frames per second.
    public var frameRate: Double?
    /// Frames the container declares; exact for MP4/MOV, absent for most Matroska files.
    public var frameCount: Int?
    public var pixelFormat: String?
    /// Degrees counter-clockwise from the display matrix, as ffprobe reports it.
    public var rotation: Double?
    /// Cover art stored as a one-frame video stream.
    public var isAttachedPicture: Bool

    // Audio
    public var sampleRate: Int?
    public var channels: Int?
    public var channelLayout: String?

    // Subtitles
    /// "text" or "bitmap".
    public var subtitleFormat: String?

    enum CodingKeys: String, CodingKey {
        case index, type, codec, language, title, duration, tags, width, height
        case frameRate = "frame_rate", frameCount = "frame_count", pixelFormat = "pixel_format"
        case rotation, isAttachedPicture = "attached_picture"
        case sampleRate = "sample_rate", channels, channelLayout = "channel_layout"
        case subtitleFormat = "subtitle_format"
    }
}

extension MediaInfo {
    enum CodingKeys: String, CodingKey {
        case path, format, formatLongName = "format_long_name", duration, bitRate = "bit_rate", tags, streams
    }

    /// Reads the container header and probes the streams.
    public init(path: String) throws {
        let file = try InputFile(path: path)
        self.init(file: file)
    }

    init(file: InputFile) {
        let ctx = file.context.pointee
        path = file.path
        format = String(cString: ctx.iformat.pointee.name)
        formatLongName = ctx.iformat.pointee.long_name.map { String(cString: $0) } ?? format
        duration = ctx.duration > 0 ? Double(ctx.duration) / Double(cffmpeg_time_base()) : nil
        bitRate = ctx.bit_rate > 0 ? Int(ctx.bit_rate) : nil
        tags = dictionary(ctx.metadata)
        streams = (0..<file.streamCount).map { StreamInfo(file.stream($0)) }
    }
}

extension StreamInfo {
    init(_ stream: UnsafeMutablePointer<AVStream>) {
        let st = stream.pointee
        let par = st.codecpar.pointee
        index = Int(st.index)
        type = MediaType(par.codec_type)
        codec = String(cString: avcodec_get_name(par.codec_id))
        tags = dictionary(st.metadata)
        language = tags["language"].flatMap { $0 == "und" ? nil : $0 }
        title = tags["title"] ?? tags["handler_name"].flatMap { $0.hasSuffix("Handler") ? nil : $0 }
        duration = st.duration > 0 && st.duration != noPTS ? Double(st.duration) * st.time_base.double : nil
        isAttachedPicture = (st.disposition & AV_DISPOSITION_ATTACHED_PIC) != 0

        switch type {
        case .video:
            width = Int(par.width)
            height = Int(par.height)
            let rate = st.avg_frame_rate.num > 0 ? st.avg_frame_rate : st.r_frame_rate
            frameRate = rate.num > 0 ? rate.double : nil
            frameCount = st.nb_frames > 0 ? Int(st.nb_frames) : nil
            pixelFormat = av_get_pix_fmt_name(AVPixelFormat(par.format)).map { String(cString: $0) }
            rotation = streamRotation(stream)
        case .audio:
            sampleRate = Int(par.sample_rate)
            channels = Int(par.ch_layout.nb_channels)
            var layout = par.ch_layout
            var buffer = [CChar](repeating: 0, count: 128)
            if av_channel_layout_describe(&layout, &buffer, buffer.count) > 0 {
                channelLayout = text(fromCString: buffer)
            }
        case .subtitle:
            let descriptor = avcodec_descriptor_get(par.codec_id)
            let props = descriptor?.pointee.props ?? 0
            subtitleFormat = (props & AV_CODEC_PROP_TEXT_SUB) != 0 ? "text"
                : (props & AV_CODEC_PROP_BITMAP_SUB) != 0 ? "bitmap" : nil
        default:
            break
        }
    }
}

/// The display matrix's rotation in degrees (counter-clockwise), nil when there is none.
func streamRotation(_ stream: UnsafeMutablePointer<AVStream>) -> Double? {
    var size: Int = 0
    guard let data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else {
        return nil
    }
    let degrees = data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
    guard degrees.isFinite else { return nil }
    let rounded = degrees.rounded()
    return rounded == 0 ? nil : rounded + 0.0  // +0.0 turns -0 into 0
}
