/// Every failure of the media layer: which file, and what went wrong, in one sentence.
public struct MediaError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        /// The path does not exist.
        case notFound
        /// The path exists but is not a regular file (a directory, a device, …).
        case notARegularFile
        /// A call into FFmpeg failed; `text` is av_strerror's text for `code`.
        case ffmpeg(call: String, code: Int32, text: String)
        /// The file has no stream of the requested kind.
        case noStream(MediaType)
        /// The container is one that opens other files (playlists, concat lists).
        case refusedFormat(String)
        /// The file ended before its declared length; what could be decoded was delivered.
        case truncated(detail: String)
        /// libsndfile refused or failed on the file.
        case soundFile(String)
        /// libpng refused or failed on the file.
        case png(String)
        /// Subtitle text that could not be parsed.
        case subtitle(String)
        /// Anything else, said in words.
        case other(String)
    }

    public let path: String
    public let reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .notFound: return "\(path): no such file."
        case .notARegularFile: return "\(path): not a regular file."
        case let .ffmpeg(call, _, text): return "\(path): \(text) (\(call))."
        case let .noStream(type): return "\(path): the file has no \(type.rawValue) stream."
        case let .refusedFormat(name): return "\(path): a \(name) file refers to other files, which Marquee does not open."
        case let .truncated(detail): return "\(path): the file is truncated; \(detail)."
        case let .soundFile(text): return "\(path): \(text) (libsndfile)."
        case let .png(text): return "\(path): \(text) (libpng)."
        case let .subtitle(text): return "\(path): \(text)."
        case let .other(text): return "\(path): \(text)."
        }
    }
}

public enum MediaType: String, Sendable, Codable {
    case video, audio, subtitle, data, attachment, unknown
}
