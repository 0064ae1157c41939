import CFFmpeg
import Foundation

/// Text subtitles from a title: its embedded text streams (SubRip, ASS/SSA, mov_text,
/// WebVTT) and sidecar .srt/.vtt/.ass files next to it, all decoded by FFmpeg.
public enum SubtitleReader {
    /// Embedded text subtitle tracks of a media file, or the track of a subtitle file.
    /// Bitmap subtitles (PGS, DVB, VobSub) carry no text and are skipped.
    public static func tracks(in path: String) throws -> [SubtitleTrack] {
        let file = try InputFile(path: path)
        let info = MediaInfo(file: file)
        let textStreams = info.subtitleStreams.filter { $0.subtitleFormat == "text" }
        if textStreams.isEmpty { return [] }
        var decoders: [Int: Decoder] = [:]
        var cues: [Int: [SubtitleCue]] = [:]
        for stream in textStreams {
            decoders[stream.index] = try Decoder(file: file, streamIndex: stream.index, threads: 1)
            cues[stream.index] = []
        }
        // One pass over the file serves every text stream.
        let packet = Packet()
        while true {
            let read = av_read_frame(file.context, packet.pointer)
            if read == averrorEOF { break }
            if read < 0 { throw MediaError.ffmpeg(file.path, "av_read_frame", read) }
            defer { av_packet_unref(packet.pointer) }
            let index = Int(packet.pointer.pointee.stream_index)
            guard let decoder = decoders[index],
                  let cue = decodeCue(packet.pointer, decoder: decoder, file: file, streamIndex: index) else { continue }
            cues[index]!.append(cue)
        }
        return textStreams.map { stream in
            SubtitleTrack(path: file.path, streamIndex: stream.index, codec: stream.codec,
                          language: stream.language, title: stream.title,
                          cues: cues[stream.index]!.sorted { ($0.start, $0.end) < ($1.start, $1.end) })
        }
    }

    /// Sidecar files beside a video: `NAME.srt`, `NAME.vtt`, `NAME.ass`, `NAME.ssa` and
    /// language-tagged variants such as `NAME.en.srt`, sorted by name.
    public static func sidecarPaths(forVideo path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let base = url.deletingPathExtension().lastPathComponent
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return names.filter { name in
            let candidate = URL(fileURLWithPath: name)
            guard ["srt", "vtt", "ass", "ssa"].contains(candidate.pathExtension.lowercased()) else { return false }
            let stem = candidate.deletingPathExtension().lastPathComponent
            return stem == base || (stem.hasPrefix(base + ".") && !stem.dropFirst(base.count + 1).contains("."))
        }
        .sorted()
        .map { folder.appendingPathComponent($0).path }
    }

    /// Embedded tracks followed by sidecar tracks. A sidecar without a language in its
    /// stream takes one from its name (`NAME.en.srt` → "en").
    public static func allTracks(forVideo path: String) throws -> [SubtitleTrack] {
        var result = try tracks(in: path)
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        for sidecar in sidecarPaths(forVideo: path) {
            for var track in try tracks(in: sidecar) {
                if track.language == nil {
                    let stem = URL(fileURLWithPath: sidecar).deletingPathExtension().lastPathComponent
                    if stem.count > base.count { track.language = String(stem.dropFirst(base.count + 1)) }
                }
                result.append(track)
            }
        }
        return result
    }

    /// The cue in one packet, or nil for an empty, undecodable or untimed packet (one
    /// damaged cue does not lose the track).
    private static func decodeCue(_ packet: UnsafeMutablePointer<AVPacket>, decoder: Decoder, file: InputFile,
                                  streamIndex: Int) -> SubtitleCue? {
        var subtitle = AVSubtitle()
        var got: Int32 = 0
        guard avcodec_decode_subtitle2(decoder.context, &subtitle, &got, packet) >= 0, got != 0 else { return nil }
        defer { avsubtitle_free(&subtitle) }
        let pkt = packet.pointee
        guard pkt.pts != noPTS else { return nil }
        let timeBase = file.stream(streamIndex).pointee.time_base.double
        let base = Double(pkt.pts - file.startPTS(inStream: streamIndex)) * timeBase
        let start = base + Double(subtitle.start_display_time) / 1000
        let end: Double
        if pkt.duration > 0 {
            end = base + Double(pkt.duration) * timeBase
        } else if subtitle.end_display_time > subtitle.start_display_time, subtitle.end_display_time != UInt32.max {
            end = base + Double(subtitle.end_display_time) / 1000
        } else {
            end = start
        }
        var lines: [String] = []
        for r in 0..<Int(subtitle.num_rects) {
            guard let rect = subtitle.rects[r]?.pointee else { continue }
            if let ass = rect.ass {
                lines.append(SubtitleMarkup.plainText(fromASSEvent: String(cString: ass)))
            } else if let text = rect.text {
                lines.append(SubtitleMarkup.plainText(fromASSText: String(cString: text)))
            }
        }
        let text = lines.filter { !$0.isEmpty }.joined(separator: "\n")
        return text.isEmpty ? nil : SubtitleCue(start: start, end: end, text: text)
    }
}
