import CFFmpeg
import Foundation

/// An opened media file: owns the AVFormatContext and frees it in deinit.
///
/// Only local regular files are opened: the protocol whitelist is `file`, and demuxers that
/// open further files (playlists, concat lists, DASH manifests) are left out of the
/// format whitelist, so a crafted input cannot make Marquee read anything else.
final class InputFile {
    let path: String
    let context: UnsafeMutablePointer<AVFormatContext>
    /// Read deadline for the interrupt callback: a stuck read ends in an error, not a hang.
    private let deadline: UnsafeMutablePointer<cffmpeg_deadline>

    /// Demuxers that reach other files or the network.
    static let refusedDemuxers: Set<String> = [
        "hls", "applehttp", "concat", "dash", "webm_dash_manifest", "ffmetadata", "sdp", "rtsp",
        "rtp", "mpjpeg", "libcdio", "bluray", "imf", "tedcaptions", "lavfi",
    ]

    /// The comma-separated list of every compiled-in demuxer except the refused ones.
    static let allowedDemuxers: String = {
        var names: [String] = []
        var opaque: UnsafeMutableRawPointer? = nil
        while let format = av_demuxer_iterate(&opaque) {
            let name = String(cString: format.pointee.name)
            let aliases = name.split(separator: ",").map(String.init)
            if aliases.allSatisfy({ !refusedDemuxers.contains($0) }) { names.append(contentsOf: aliases) }
        }
        return names.joined(separator: ",")
    }()

    init(path: String, timeoutSeconds: Double = 60) throws {
        _ = silenceFFmpegLogging
        self.path = path
        try InputFile.requireRegularFile(path)
        if let refused = InputFile.refusedFormat(of: path) {
            throw MediaError(path: path, reason: .refusedFormat(refused))
        }

        guard let allocated = avformat_alloc_context() else {
            throw MediaError(path: path, reason: .other("out of memory opening the file"))
        }
        deadline = .allocate(capacity: 1)
        deadline.pointee.deadline_us = av_gettime_relative() + Int64(timeoutSeconds * 1_000_000)
        cffmpeg_set_interrupt(allocated, deadline)

        var options: OpaquePointer? = nil
        av_dict_set(&options, "protocol_whitelist", "file", 0)
        av_dict_set(&options, "format_whitelist", InputFile.allowedDemuxers, 0)
        defer { av_dict_free(&options) }

        var ctx: UnsafeMutablePointer<AVFormatContext>? = allocated
        let opened = avformat_open_input(&ctx, path, nil, &options)
        guard opened >= 0, let ctx else {
            // avformat_open_input frees the context on failure.
            deadline.deallocate()
            if opened == averrorInvalidData || opened == averrorEOF {
                throw MediaError(path: path, reason: .ffmpeg(
                    call: "avformat_open_input", code: opened,
                    text: "not a media file Marquee can read (\(ffmpegErrorText(opened)))"))
            }
            throw MediaError.ffmpeg(path, "avformat_open_input", opened)
        }
        context = ctx
        let found = avformat_find_stream_info(ctx, nil)
        if found < 0 {
            throw MediaError.ffmpeg(path, "avformat_find_stream_info", found)
        }
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&ctx)
        deadline.deallocate()
    }

    /// Pushes the read deadline forward; long titles decode for longer than one timeout.
    func extendDeadline(seconds: Double) {
        deadline.pointee.deadline_us = av_gettime_relative() + Int64(seconds * 1_000_000)
    }

    var streamCount: Int { Int(context.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        context.pointee.streams[index]!
    }

    func mediaType(ofStream index: Int) -> MediaType {
        MediaType(stream(index).pointee.codecpar.pointee.codec_type)
    }

    /// The stream FFmpeg considers best of a kind, or a chosen index of that kind.
    func streamIndex(of type: MediaType, preferred: Int? = nil) throws -> Int {
        if let preferred {
            guard preferred >= 0, preferred < streamCount, mediaType(ofStream: preferred) == type else {
                throw MediaError(path: path, reason: .other("stream \(preferred) is not a \(type.rawValue) stream"))
            }
            return preferred
        }
        let best = av_find_best_stream(context, type.avMediaType, -1, -1, nil, 0)
        guard best >= 0 else { throw MediaError(path: path, reason: .noStream(type)) }
        return Int(best)
    }

    /// The container's start time expressed in a stream's time base (0 when unknown).
    func startPTS(inStream index: Int) -> Int64 {
        let start = context.pointee.start_time
        guard start != noPTS else { return 0 }
        return av_rescale_q(start, AVRational(num: 1, den: cffmpeg_time_base()), stream(index).pointee.time_base)
    }

    /// The name of a refused demuxer that FFmpeg's probe picks for the file's first bytes,
    /// so that a playlist is named as such instead of failing with a bare "invalid argument".
    static func refusedFormat(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 4096)
        guard !head.isEmpty else { return nil }
        var buffer = [UInt8](head) + [UInt8](repeating: 0, count: Int(AVPROBE_PADDING_SIZE))
        return path.withCString { name -> String? in
            buffer.withUnsafeMutableBufferPointer { bytes -> String? in
                var probe = AVProbeData(filename: name, buf: bytes.baseAddress, buf_size: Int32(head.count), mime_type: nil)
                guard let format = av_probe_input_format(&probe, 1) else { return nil }
                let names = String(cString: format.pointee.name).split(separator: ",").map(String.init)
                return names.first { refusedDemuxers.contains($0) }.map { _ in String(cString: format.pointee.name) }
            }
        }
    }

    static func requireRegularFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MediaError(path: path, reason: .notFound)
        }
        if isDirectory.boolValue { throw MediaError(path: path, reason: .notARegularFile) }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw MediaError(path: path, reason: .other("the file is not readable"))
        }
    }
}

let averrorInvalidData: Int32 = -0x41444E49  // FFERRTAG('I','N','D','A')

extension MediaType {
    init(_ type: AVMediaType) {
        switch type {
        case AVMEDIA_TYPE_VIDEO: self = .video
        case AVMEDIA_TYPE_AUDIO: self = .audio
        case AVMEDIA_TYPE_SUBTITLE: self = .subtitle
        case AVMEDIA_TYPE_DATA: self = .data
        case AVMEDIA_TYPE_ATTACHMENT: self = .attachment
        default: self = .unknown
        }
    }

    var avMediaType: AVMediaType {
        switch self {
        case .video: return AVMEDIA_TYPE_VIDEO
        case .audio: return AVMEDIA_TYPE_AUDIO
        case .subtitle: return AVMEDIA_TYPE_SUBTITLE
        case .data: return AVMEDIA_TYPE_DATA
        case .attachment: return AVMEDIA_TYPE_ATTACHMENT
        case .unknown: return AVMEDIA_TYPE_UNKNOWN
        }
    }
}

/// Reads an AVDictionary into a Swift dictionary (keys lower-cased, as ffprobe shows them
/// for most containers).
func dictionary(_ dict: OpaquePointer?) -> [String: String] {
    var result: [String: String] = [:]
    var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
    while let next = av_dict_get(dict, "", entry, AV_DICT_IGNORE_SUFFIX) {
        result[String(cString: next.pointee.key)] = String(cString: next.pointee.value)
        entry = next
    }
    return result
}

extension AVRational {
    var double: Double { den == 0 ? 0 : Double(num) / Double(den) }
}
