import CFFmpeg

/// av_strerror's text for an FFmpeg error code.
func ffmpegErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    if cffmpeg_av_strerror(code, &buffer, buffer.count) < 0 {
        return "unknown error \(code)"
    }
    return text(fromCString: buffer)
}

/// A NUL-terminated C buffer as a Swift string.
func text(fromCString buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

let averrorEAGAIN = cffmpeg_averror_eagain()
let averrorEOF = cffmpeg_averror_eof()
let noPTS = cffmpeg_nopts_value()

extension MediaError {
    static func ffmpeg(_ path: String, _ call: String, _ code: Int32) -> MediaError {
        MediaError(path: path, reason: .ffmpeg(call: call, code: code, text: ffmpegErrorText(code)))
    }
}

/// Throws a MediaError naming `call` when an FFmpeg return code is negative.
@discardableResult
func check(_ code: Int32, _ call: String, _ path: String) throws -> Int32 {
    if code < 0 { throw MediaError.ffmpeg(path, call, code) }
    return code
}

/// FFmpeg logs to stderr by default; libraries never print, so it is silenced once.
let silenceFFmpegLogging: Void = { cffmpeg_quiet() }()
