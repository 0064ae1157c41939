// MusiCNN tagging throughput: Marquee end to end (decode, log-mel, network) and the network
// alone, against the TensorFlow reference (librosa's log-mel and musicnn's graph), in one
// invocation, with the same thread count. Prints seconds of audio per second and the ratios.
//
//   marquee-bench-musicnn [--threads 2] [--python PATH] [--loudness] [--profile] FILE...
//
// The reference runs in the golden virtualenv (Models/goldens/run.sh musicnn_mtt makes
// .venv-goldens-musicnn); Benchmarks/musicnn_peer.py times it and prints JSON. `--loudness`
// also times the EBU R128 measurement (a second decode of every channel at 48 kHz);
// `--profile` prints the network's time per stage (milliseconds per patch, model only).

import BenchmarkSupport
import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels
import MarqueeNN

let root = repositoryRoot

var arguments = BenchmarkArguments()
let threads = Int(arguments.option("--threads") ?? "") ?? 2
let python = arguments.option("--python") ?? root.appendingPathComponent(".venv-goldens-musicnn/bin/python").path
let timeLoudness = arguments.flag("--loudness")
let profile = arguments.flag("--profile")
let files = arguments.remaining

guard !files.isEmpty else { fail("give audio or video files (e.g. Media/samples/test.mp4)") }
let pool = ThreadPool(threadCount: threads)
let tagger: AudioTagger
do { tagger = AudioTagger(model: try ModelStore.locate().musiCNN(pool: pool)) } catch { fail("\(error)") }

struct Row { var name: String; var rate: Double }

/// Seconds per model stage, summed over forward passes, in the order the stages first ran.
final class StageTotals: @unchecked Sendable {
    var seconds: [(String, Double)] = []
    func add(_ name: String, _ value: Double) {
        if let i = seconds.firstIndex(where: { $0.0 == name }) { seconds[i].1 += value } else { seconds.append((name, value)) }
    }
}
print("MusiCNN MTT, \(threads) threads; rates in seconds of audio per second (x real time)")
for path in files {
    let name = (path as NSString).lastPathComponent
    // Marquee end to end: decode → log-mel → MusiCNN, best of two after a warm-up.
    var endToEnd = Double.infinity
    var analysis: AudioAnalysis?
    do {
        for run in 0..<3 {
            let start = now()
            let result = try tagger.tagsOverTime(.detect(path: path, stream: nil))
            if run > 0 { endToEnd = min(endToEnd, now() - start) }
            analysis = result
        }
    } catch { fail("\(error)") }
    guard let analysis, !analysis.segments.isEmpty else { fail("\(path): no audio to tag") }
    let audioSeconds = analysis.duration

    // Split: decode alone and log-mel alone (for the profile line).
    var decodeTime = 0.0, logMelTime = 0.0, samples: [Float] = []
    do {
        let start = now()
        samples = try AudioInput.detect(path: path, stream: nil).decodeMono16k()
        decodeTime = now() - start
        let logMel = try LogMel()
        let t0 = now()
        _ = logMel.compute(samples)
        logMelTime = now() - t0
    } catch { fail("\(error)") }

    // The network alone on the same patches, best of two.
    let patches = analysis.segments.count
    let mel = try! LogMel().compute(samples)
    let input = Tensor(shape: [patches, MusiCNN.patchFrames, MusiCNN.melBands],
                       values: Array(mel.prefix(patches * MusiCNN.patchFrames * MusiCNN.melBands)))
    var modelOnly = Double.infinity
    let batch = tagger.batchPatches
    for run in 0..<3 {
        let start = now()
        var first = 0
        while first < patches {
            let count = min(batch, patches - first)
            _ = tagger.model.forward(input.slice(first..<(first + count)))
            first += count
        }
        if run > 0 { modelOnly = min(modelOnly, now() - start) }
    }
    let stages = StageTotals()
    if profile {
        tagger.model.stageTimer = { name, seconds in stages.add(name, seconds) }
        var first = 0
        while first < patches {
            let count = min(batch, patches - first)
            _ = tagger.model.forward(input.slice(first..<(first + count)))
            first += count
        }
        tagger.model.stageTimer = nil
    }

    var loudnessTime: Double?
    if timeLoudness {
        let start = now()
        _ = try? AudioTagger.loudness(.detect(path: path, stream: nil))
        loudnessTime = now() - start
    }

    // The reference.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [root.appendingPathComponent("Benchmarks/musicnn_peer.py").path, "--threads", "\(threads)", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    var environment = ProcessInfo.processInfo.environment
    environment["TF_USE_LEGACY_KERAS"] = "1"
    environment["CUDA_VISIBLE_DEVICES"] = ""
    process.environment = environment
    var peer: [String: Any]?
    do {
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last {
            peer = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    } catch {}

    print("\n\(name): \(String(format: "%.1f", audioSeconds)) s of audio, \(patches) patches")
    func line(_ label: String, _ seconds: Double) -> Double {
        let rate = audioSeconds / seconds
        print(String(format: "  %-44@ %8.3f s  %7.1fx", label as NSString, seconds, rate))
        return rate
    }
    let ours = line("Marquee end to end (decode, log-mel, model)", endToEnd)
    let oursModel = line("Marquee model only", modelOnly)
    _ = line("Marquee decode (16 kHz mono)", decodeTime)
    _ = line("Marquee log-mel", logMelTime)
    if let loudnessTime { _ = line("Marquee loudness (48 kHz, every channel)", loudnessTime) }
    if profile {
        let total = stages.seconds.reduce(0) { $0 + $1.1 }
        print("  model stages, ms per patch (one pass, batches of \(batch)):")
        for (name, seconds) in stages.seconds {
            print(String(format: "    %-16@ %7.2f ms  %4.1f%%", name as NSString, 1000 * seconds / Double(patches), 100 * seconds / total))
        }
    }
    if let peer, let graph = (peer["graph_seconds"] as? NSNumber)?.doubleValue,
       let logmel = (peer["logmel_seconds"] as? NSNumber)?.doubleValue,
       let decode = (peer["decode_seconds"] as? NSNumber)?.doubleValue {
        let tfGraph = line("TensorFlow graph only", graph)
        let tfEnd = line("TensorFlow: ffmpeg CLI + librosa log-mel + graph", decode + logmel + graph)
        print(String(format: "  ratio Marquee end to end / TensorFlow graph only: %.2f (target >= 3)", ours / tfGraph))
        print(String(format: "  ratio Marquee model / TensorFlow graph:            %.2f", oursModel / tfGraph))
        print(String(format: "  ratio end to end / end to end:                     %.2f", ours / tfEnd))
    } else {
        print("  TensorFlow reference unavailable (\(python)); run `bash Models/goldens/run.sh musicnn_mtt` first")
    }
}
