// Decode throughput of Marquee against FFmpeg's own decoder, measured in one run.
//
// Marquee's work per title is what the pipeline asks of it: every frame converted to
// 48x27 RGB (shot detection) and one frame per second to 224 px high (visual models).
// FFmpeg's is `ffmpeg -threads 2 -i FILE -f null -`: decoding only, no conversion. For
// context, FFmpeg also runs with Marquee's main conversion, every frame scaled to 48x27 RGB
// by the same libswscale (`-s 48x27 -pix_fmt rgb24`): what the shot detector's reference
// input costs FFmpeg itself.
// Each side runs `--runs` times, alternating; the best run of each is compared.
// Marquee's decoder runs with its default thread count (one frame thread per core), as
// `marquee` does, beside the thread that converts frames; `--decoder-threads N` sets it
// (0: libavcodec's automatic count, one more than the cores).
//
// usage: marquee-bench-decode [--runs N] [--decoder-threads N] FILE...

import BenchmarkSupport
import Foundation
import MarqueeMedia

struct Measurement {
    var frames: Int
    var seconds: Double
    /// User + system CPU seconds: how much of the two cores the run kept busy.
    var cpuSeconds: Double
    var fps: Double { Double(frames) / seconds }
}

func cpuTime(_ who: __rusage_who) -> Double {
    var usage = rusage()
    getrusage(who.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

@MainActor func measureMarquee(_ path: String) throws -> Measurement {
    let info = try MediaInfo(path: path)
    guard let video = info.videoStreams.first, let width = video.width, let height = video.height else {
        throw MediaError(path: path, reason: .noStream(.video))
    }
    let modelHeight = 224
    let modelWidth = max(2, Int((Double(width) * Double(modelHeight) / Double(height) / 2).rounded()) * 2)
    let start = now()
    let cpuStart = cpuTime(RUSAGE_SELF)
    let decoder = try VideoDecoder(path: path, requests: [
        FrameRequest(size: FrameSize(width: 48, height: 27), selection: .everyFrame),
        FrameRequest(size: FrameSize(width: modelWidth, height: modelHeight), selection: .every(seconds: 1)),
    ], threads: decoderThreads)
    var frames = 0
    while try decoder.next() != nil { frames += 1 }
    return Measurement(frames: frames, seconds: now() - start, cpuSeconds: cpuTime(RUSAGE_SELF) - cpuStart)
}

/// `ffmpeg` decoding the first video stream, with `output` options before the null muxer.
func measureFFmpeg(_ path: String, frames: Int, output: [String] = []) throws -> Measurement {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["ffmpeg", "-nostdin", "-v", "error", "-threads", "2", "-i", path, "-map", "0:v:0"]
        + output + ["-f", "null", "-"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    let start = now()
    let cpuStart = cpuTime(RUSAGE_CHILDREN)
    try process.run()
    process.waitUntilExit()
    let seconds = now() - start
    let cpuSeconds = cpuTime(RUSAGE_CHILDREN) - cpuStart
    guard process.terminationStatus == 0 else {
        throw MediaError(path: path, reason: .other("ffmpeg exited with status \(process.terminationStatus)"))
    }
    return Measurement(frames: frames, seconds: seconds, cpuSeconds: cpuSeconds)
}

var arguments = BenchmarkArguments()
let runs = max(1, Int(arguments.option("--runs") ?? "") ?? 5)
let decoderThreads = arguments.option("--decoder-threads").flatMap { Int($0) }.map { max(0, $0) }
    ?? ProcessInfo.processInfo.activeProcessorCount
if arguments.remaining.isEmpty {
    FileHandle.standardError.write(Data("usage: marquee-bench-decode [--runs N] [--decoder-threads N] FILE...\n".utf8))
    exit(2)
}

print("file                          frames   marquee fps   ffmpeg fps   ratio   marquee cpu s   ffmpeg cpu s"
      + "   ffmpeg 48x27 fps   ratio   ffmpeg 48x27 cpu s")
var failed = false
func faster(_ a: Measurement?, _ b: Measurement) -> Measurement { a.map { $0.seconds < b.seconds ? $0 : b } ?? b }
for path in arguments.remaining {
    do {
        var bestMarquee: Measurement?
        var bestFFmpeg: Measurement?
        var bestScaling: Measurement?
        for _ in 0..<runs {
            let ours = try measureMarquee(path)
            bestMarquee = faster(bestMarquee, ours)
            bestFFmpeg = faster(bestFFmpeg, try measureFFmpeg(path, frames: ours.frames))
            bestScaling = faster(bestScaling, try measureFFmpeg(path, frames: ours.frames,
                                                                output: ["-s", "48x27", "-pix_fmt", "rgb24"]))
        }
        let ours = bestMarquee!, theirs = bestFFmpeg!, scaling = bestScaling!
        let name = URL(fileURLWithPath: path).lastPathComponent
        let padded = name.padding(toLength: max(28, name.count), withPad: " ", startingAt: 0)
        print(padded + String(format: " %7d %13.1f %12.1f %7.2fx %15.2f %14.2f %18.1f %7.2fx %20.2f", ours.frames, ours.fps,
                                      theirs.fps, ours.fps / theirs.fps, ours.cpuSeconds, theirs.cpuSeconds,
                                      scaling.fps, ours.fps / scaling.fps, scaling.cpuSeconds))
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        failed = true
    }
}
exit(failed ? 1 : 0)
