import CFFmpeg

/// Any still image FFmpeg decodes (JPEG, PNG, BMP, TIFF, WebP, …), or the first frame of a
/// video, read as RGB at its own size.
public enum StillImage {
    public static func read(path: String) throws -> RGBImage {
        let probe = try MediaInfo(path: path)
        guard let stream = probe.streams.first(where: { $0.type == .video }),
              let width = stream.width, let height = stream.height, width > 0, height > 0 else {
            throw MediaError(path: path, reason: .noStream(.video))
        }
        let size = FrameSize(width: width, height: height)
        let decoder = try VideoDecoder(path: path, requests: [FrameRequest(size: size, selection: .everyFrame)],
                                       streamIndex: stream.index, threads: 1)
        guard let frame = try decoder.next(), let image = frame.images[0] else {
            throw decoder.damage ?? MediaError(path: path, reason: .other("the image holds no decodable picture"))
        }
        return image
    }
}
