// Face stack throughput: Marquee's MTCNN against facenet-pytorch's on the same 512x512
// images, and Marquee's expression CNN against fer's Keras model on the same 64 face crops,
// in one invocation, with the same thread count.
//
//   marquee-bench-faces [--threads 2] [--seconds 3] [--python PATH] [--keras-python PATH] [--profile]
//
// --profile adds where the expression CNN's time goes, per stage, at batch 64.
//
// The peers run in their own virtualenvs: --python has facenet-pytorch on the torch it was
// released for (< 2.3; `make bench-faces` builds .venv-facenet from
// Benchmarks/requirements-facenet.txt; beside a current torch its detect() is about 15x slower,
// half of it in adaptive_avg_pool2d), --keras-python has TensorFlow and fer (run.sh emotion
// makes .venv-goldens-emotion). Benchmarks/faces_peers.py times them and prints JSON.

import BenchmarkSupport
import Foundation
import MarqueeMedia
import MarqueeModels
import MarqueeNN

let root = repositoryRoot

var arguments = BenchmarkArguments()
let threads = Int(arguments.option("--threads") ?? "") ?? 2
let seconds = Double(arguments.option("--seconds") ?? "") ?? 3
let python = arguments.option("--python") ?? root.appendingPathComponent(".venv-facenet/bin/python").path
let profile = arguments.flag("--profile")
let kerasPython = arguments.option("--keras-python") ?? root.appendingPathComponent(".venv-goldens-emotion/bin/python").path

func sample(_ name: String) -> String { root.appendingPathComponent("Media/samples/\(name)").path }

// Eight 512x512 images: astronaut as it is, the other photos resized, and video frames
// decoded at 512x512 (two of test.mp4 with a face, two of Big Buck Bunny without).
var images: [RGBImage] = []
do {
    images.append(try StillImage.read(path: sample("astronaut.png")))
    for name in ["chelsea.png", "coffee.png", "rocket.jpg"] {
        let photo = try StillImage.read(path: sample(name))
        let resized = ImageResize.resizeBilinearAntialiased(
            InterleavedImage(width: photo.width, height: photo.height, pixels: photo.pixels), width: 512, height: 512)
        images.append(RGBImage(width: 512, height: 512, pixels: resized.pixels))
    }
    for (video, times) in [("test.mp4", [81.0, 149.0]), ("bigbuckbunny.mp4", [1.5, 3.5])] {
        let decoder = try VideoDecoder(path: sample(video), requests: [
            FrameRequest(size: FrameSize(width: 512, height: 512), selection: .at(times: times)),
        ])
        while let frame = try decoder.next(), let image = frame.images[0] { images.append(image) }
    }
} catch {
    fail("\(error) (run `make media` first)")
}

let pool = ThreadPool(threadCount: threads)
let detector: MTCNN
let expressions: EmotionCNN
do {
    detector = try ModelStore.locate().mtcnn(pool: pool)
    expressions = try ModelStore.locate().emotionCNN(pool: pool)
} catch { fail("\(error)") }

// 64 real face crops: the faces MTCNN finds in test.mp4, one frame a second (repeated if short).
var crops: [[UInt8]] = []
do {
    let decoder = try VideoDecoder(path: sample("test.mp4"), requests: [
        FrameRequest(size: FrameSize(width: 160, height: 90), selection: .every(seconds: 1)),
    ])
    while crops.count < 64, let frame = try decoder.next() {
        guard let image = frame.images[0] else { continue }
        crops += EmotionCNN.crops(image, faces: detector.detect(image)).compactMap { $0 }
    }
} catch { fail("\(error)") }
guard !crops.isEmpty else { fail("no face found in test.mp4") }
let distinctCrops = min(crops.count, 64)
while crops.count < 64 { crops.append(crops[crops.count % distinctCrops]) }
crops = Array(crops.prefix(64))
let cropBatch = Tensor(shape: [64, 64, 64, 1])
for (i, crop) in crops.enumerated() { EmotionCNN.normalize(crop, into: cropBatch, index: i) }

/// CPU seconds per item of the fastest round of the last `rate` call: on a busy machine
/// this moves less than the wall-clock rate.
nonisolated(unsafe) var lastCPUPerItem = Double.nan

@MainActor func rate(items: Int, _ run: () -> Void) -> Double {
    for _ in 0..<2 { run() }
    var best = 0.0
    let deadline = now() + seconds
    while now() < deadline {
        let start = now(), startCPU = cpuNow()
        run()
        let perSecond = Double(items) / (now() - start)
        if perSecond > best {
            best = perSecond
            lastCPUPerItem = (cpuNow() - startCPU) / Double(items)
        }
    }
    return best
}

nonisolated(unsafe) var mtcnnCPU = Double.infinity
@MainActor func oursMTCNN() -> Double {
    let r = rate(items: images.count) { for image in images { _ = detector.detect(image) } }
    mtcnnCPU = min(mtcnnCPU, lastCPUPerItem)
    return r
}
@MainActor func oursEmotion() -> Double { rate(items: 64) { _ = expressions.forward(cropBatch) } }

func writeNPY(shape: [Int], descr: String, body: Data, to path: String) throws {
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
    data += Data(header.utf8)
    data += body
    try data.write(to: URL(fileURLWithPath: path))
}

@MainActor func runPeer(_ peer: String, python: String, input: String) -> [String: Any]? {
    guard FileManager.default.isExecutableFile(atPath: python) else {
        FileHandle.standardError.write(Data("warning: \(python) not found; run Models/goldens/run.sh \(peer == "mtcnn" ? "mtcnn" : "emotion") to create it\n".utf8))
        return nil
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [root.appendingPathComponent("Benchmarks/faces_peers.py").path, peer, input,
                         "--threads", String(threads), "--seconds", String(seconds)]
    process.environment = ProcessInfo.processInfo.environment.merging([
        "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": String(threads), "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
    ]) { $1 }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { fail("cannot run \(python): \(error)") }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { fail("the \(peer) peer exited with status \(process.terminationStatus)") }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}

let scratch = NSTemporaryDirectory() + "marquee-bench-faces-\(getpid())"
try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: scratch) }
do {
    try writeNPY(shape: [images.count, 512, 512, 3], descr: "|u1", body: Data(images.flatMap(\.pixels)), to: scratch + "/images.npy")
    try writeNPY(shape: [64, 64, 64], descr: "<f4", body: Data(buffer: UnsafeBufferPointer(start: cropBatch.data, count: cropBatch.count)),
                 to: scratch + "/crops.npy")
} catch { fail("cannot write the peers' inputs in \(scratch): \(error)") }

let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
print("Faces benchmark, \(threads) threads, load average \(load) at the start")
let ourFaces = images.map { detector.detect($0).count }

// Marquee before and after each peer, best of both, so that load from elsewhere hits both sides alike.
var mtcnnOurs = oursMTCNN()
let mtcnnPeer = runPeer("mtcnn", python: python, input: scratch + "/images.npy")
mtcnnOurs = max(mtcnnOurs, oursMTCNN())
var emotionOurs = oursEmotion()
let emotionPeer = runPeer("emotion", python: kerasPython, input: scratch + "/crops.npy")
emotionOurs = max(emotionOurs, oursEmotion())

let peerImages = (mtcnnPeer?["images_per_second"] as? Double) ?? .nan
let peerFaces = (emotionPeer?["faces_per_second"] as? Double) ?? .nan
print("MTCNN on \(images.count) images of 512x512 (faces per image: ours \(ourFaces), facenet-pytorch \((mtcnnPeer?["faces"] as? [Int]).map { "\($0)" } ?? "-"))")
print(String(format: "  marquee %.1f images/s   facenet-pytorch %.1f images/s (torch %@)   ratio %.2fx",
             mtcnnOurs, peerImages, (mtcnnPeer?["torch_version"] as? String) ?? "-", mtcnnOurs / peerImages))
let peerCPU = (mtcnnPeer?["cpu_seconds_per_image"] as? Double) ?? .nan
print(String(format: "  CPU time per image: marquee %.1f ms   facenet-pytorch %.1f ms   ratio %.2fx",
             mtcnnCPU * 1000, peerCPU * 1000, peerCPU / mtcnnCPU))
print("Expression CNN on a batch of 64 face crops (\(distinctCrops) distinct, from test.mp4)")
print(String(format: "  marquee %.0f faces/s   Keras %.0f faces/s (TensorFlow %@; model() %.0f, predict_on_batch %.0f)   ratio %.2fx",
             emotionOurs, peerFaces, (emotionPeer?["tensorflow_version"] as? String) ?? "-",
             (emotionPeer?["call"] as? Double) ?? .nan, (emotionPeer?["predict_on_batch"] as? Double) ?? .nan,
             emotionOurs / peerFaces))

if profile {
    var stageTimes: [String: Double] = [:]
    var order: [String] = []
    for _ in 0..<20 {
        var last = now()
        _ = expressions.forward(cropBatch) { name, _ in
            let t = now()
            if stageTimes[name] == nil { order.append(name) }
            stageTimes[name, default: 0] += t - last
            last = t
        }
    }
    let total = stageTimes.values.reduce(0, +)
    print("Expression CNN stages at batch 64 (ms per batch, up to each named layer):")
    for name in order { print(String(format: "  %-14@ %7.2f ms  %5.1f%%", name, stageTimes[name]! / 20 * 1000, 100 * stageTimes[name]! / total)) }
}

if profile {
    // MTCNN on astronaut: the pyramid's resizing and P-Net (each level on all threads here, so
    // only roughly what detect() spends on them) against the whole detection.
    let astronaut = images[0]
    let scales = MTCNN.pyramidScales(shortSide: min(astronaut.width, astronaut.height))
    let rounds = 20
    var start = now()
    var levels: [Tensor] = []
    for _ in 0..<rounds { levels = scales.map { MTCNN.pyramidLevel(astronaut, scale: $0) } }
    let resizeTime = (now() - start) / Double(rounds)
    start = now()
    for _ in 0..<rounds { for level in levels { _ = detector.pnetOutputs(level) } }
    let pnetTime = (now() - start) / Double(rounds)
    start = now()
    for _ in 0..<rounds { _ = detector.detect(astronaut) }
    let detectTime = (now() - start) / Double(rounds)
    print(String(format: "MTCNN on astronaut (%d levels): detect %.1f ms; pyramid resizing %.1f ms, P-Net %.1f ms (all threads per level)",
                 scales.count, detectTime * 1000, resizeTime * 1000, pnetTime * 1000))
}
