// EfficientNet-Lite0 throughput: Marquee against ONNX Runtime and PyTorch eager, on the same
// preprocessed inputs, in one invocation, with the same thread count.
//
//   marquee-bench-efficientnet [--threads 2] [--seconds 3] [--python PATH] [--profile]
//
// The peers run in the reference virtualenv (Models/goldens/run.sh makes .venv-goldens);
// Benchmarks/efficientnet_peers.py times them and prints JSON. `--profile` adds where
// Marquee's time goes, per stage of the network, at batch 1.

import BenchmarkSupport
import Foundation
import MarqueeMedia
import MarqueeModels
import MarqueeNN

let root = repositoryRoot

var arguments = BenchmarkArguments()
let threads = Int(arguments.option("--threads") ?? "") ?? 2
let seconds = Double(arguments.option("--seconds") ?? "") ?? 3
let python = arguments.option("--python") ?? root.appendingPathComponent(".venv-goldens/bin/python").path
let profile = arguments.flag("--profile")

// Eight real inputs: the scikit-image photos and frames of Big Buck Bunny.
let photos = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"].map { root.appendingPathComponent("Media/samples/\($0)").path }
var crops: [RGBImage] = []
do {
    for path in photos { crops.append(EfficientNetLite0.resizedCrop(try StillImage.read(path: path))) }
    let decoder = try VideoDecoder(path: root.appendingPathComponent("Media/samples/bigbuckbunny.mp4").path, requests: [
        FrameRequest(size: FrameSize(width: 455, height: 256), selection: .at(times: [0.5, 1.5, 2.5, 3.5])),
    ])
    while let frame = try decoder.next(), let image = frame.images[0] { crops.append(EfficientNetLite0.resizedCrop(image)) }
} catch {
    fail("\(error) (run `make media` first)")
}
let batchSize = crops.count
let batch = Tensor(shape: [batchSize, 224, 224, 3])
for (i, crop) in crops.enumerated() { EfficientNetLite0.normalize(crop, into: batch, index: i) }
let single = batch.slice(0..<1)

let pool = ThreadPool(threadCount: threads)
let model: EfficientNetLite0
do { model = try ModelStore.locate().efficientNetLite0(pool: pool) } catch { fail("\(error)") }

/// Best images per second over timed rounds, and the least CPU time per image (all threads).
@MainActor func imagesPerSecond(_ input: Tensor) -> (rate: Double, cpuPerImage: Double) {
    for _ in 0..<3 { _ = model.forward(input) }
    var best = 0.0, bestCPU = Double.infinity
    let deadline = now() + seconds
    while now() < deadline {
        let start = now(), startCPU = cpuNow()
        for _ in 0..<5 { _ = model.forward(input) }
        best = max(best, Double(5 * input.n) / (now() - start))
        bestCPU = min(bestCPU, (cpuNow() - startCPU) / Double(5 * input.n))
    }
    return (best, bestCPU)
}

// Peers: the same inputs, NCHW, through a .npy file.
func writeNPY(_ tensor: Tensor, to path: String) throws {
    let n = tensor.n, h = tensor.h, w = tensor.w, c = tensor.c
    var nchw = [Float](repeating: 0, count: tensor.count)
    let src = tensor.data
    for b in 0..<n { for y in 0..<h { for x in 0..<w { for ch in 0..<c {
        nchw[((b * c + ch) * h + y) * w + x] = src[((b * h + y) * w + x) * c + ch]
    } } } }
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(n), \(c), \(h), \(w)), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
    data += Data(header.utf8)
    nchw.withUnsafeBufferPointer { data += Data(buffer: $0) }
    try data.write(to: URL(fileURLWithPath: path))
}

struct Peers: Decodable {
    var onnxruntime: [String: Double]
    var pytorch: [String: Double]
    var onnxruntime_version: String
    var torch_version: String
}

@MainActor func runPeers() -> Peers? {
    guard FileManager.default.isExecutableFile(atPath: python) else {
        FileHandle.standardError.write(Data("warning: \(python) not found; run Models/goldens/run.sh to create the reference environment\n".utf8))
        return nil
    }
    let npy = NSTemporaryDirectory() + "marquee-bench-\(getpid()).npy"
    defer { try? FileManager.default.removeItem(atPath: npy) }
    do { try writeNPY(batch, to: npy) } catch { fail("cannot write \(npy): \(error)") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [root.appendingPathComponent("Benchmarks/efficientnet_peers.py").path, npy,
                         "--threads", String(threads), "--seconds", String(seconds)]
    process.environment = ProcessInfo.processInfo.environment.merging(["CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": String(threads)]) { $1 }
    let output = Pipe()
    process.standardOutput = output
    do { try process.run() } catch { fail("cannot run \(python): \(error)") }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { fail("the peer benchmark exited with status \(process.terminationStatus)") }
    do { return try JSONDecoder().decode(Peers.self, from: data) } catch { fail("unreadable peer results: \(error)") }
}

let oursFirst = [1: imagesPerSecond(single), batchSize: imagesPerSecond(batch)]
let peers = runPeers()
let oursSecond = [1: imagesPerSecond(single), batchSize: imagesPerSecond(batch)]
let ours = oursFirst.merging(oursSecond) { (max($0.rate, $1.rate), min($0.cpuPerImage, $1.cpuPerImage)) }

let macs = EfficientNetLite0.multiplyAccumulates
let cpuinfo = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
let mhz = cpuinfo.first { $0.hasPrefix("cpu MHz") }
    .flatMap { Double($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) } ?? 0
let cpuFlags = Set(cpuinfo.first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
// Two FMA units per core: 2 x 16 lanes x 2 flops per cycle with AVX-512, 2 x 8 x 2 with AVX2.
let flopsPerCycle = cpuFlags.contains("avx512f") ? 64.0 : cpuFlags.contains("fma") ? 32.0 : 8.0
let peakGFLOPS = Double(threads) * flopsPerCycle * mhz / 1000

print("EfficientNet-Lite0, 224x224, \(threads) threads, \(String(format: "%.2f", Double(macs) / 1e6)) M multiply-adds per image")
if let peers { print("peers: ONNX Runtime \(peers.onnxruntime_version), PyTorch \(peers.torch_version)") }
print("batch   marquee img/s   onnxruntime img/s   pytorch img/s   vs onnxruntime   vs pytorch   marquee cpu ms/img")
for size in [1, batchSize] {
    let o = ours[size]!.rate
    let ort = peers?.onnxruntime[String(size)] ?? .nan
    let pt = peers?.pytorch[String(size)] ?? .nan
    print(String(format: "%5d %15.1f %19.1f %15.1f %15.2fx %11.2fx %20.2f", size, o, ort, pt, o / ort, o / pt,
                 ours[size]!.cpuPerImage * 1000))
}
if mhz > 0 {
    let achieved = ours[1]!.rate * Double(macs) * 2 / 1e9
    print(String(format: "batch 1: %.1f GFLOP/s = %.1f%% of the %.0f GFLOP/s peak (%d cores x %.0f flops/cycle at a nominal %.0f MHz)",
                 achieved, 100 * achieved / peakGFLOPS, peakGFLOPS, threads, flopsPerCycle, mhz))
}

if profile {
    let rounds = 50
    var stageTimes: [String: Double] = [:]
    var stageCPU: [String: Double] = [:]
    var order: [String] = []
    for _ in 0..<rounds {
        var last = now(), lastCPU = cpuNow()
        _ = model.forward(single) { name, _ in
            let t = now(), c = cpuNow()
            if stageTimes[name] == nil { order.append(name) }
            stageTimes[name, default: 0] += t - last
            stageCPU[name, default: 0] += c - lastCPU
            last = t
            lastCPU = c
        }
    }
    let total = stageTimes.values.reduce(0, +)
    let totalCPU = stageCPU.values.reduce(0, +)
    print("\nwhere the time goes at batch 1 (mean of \(rounds) runs; pooling and classifier after 'head' not shown;")
    print("cpu: CPU time of all of Marquee's threads, which another process's load does not inflate; with more than")
    print("one thread it includes the pool's helper spinning between loops, so GFLOP/s per cpu-s measures the kernels")
    print("only with --threads 1)")
    print("  stage         wall          cpu    MACs   GFLOP/s per cpu-s")
    for name in order {
        let t = stageTimes[name]! / Double(rounds), c = stageCPU[name]! / Double(rounds)
        let stageMACs = EfficientNetLite0.stageMultiplyAccumulates[name] ?? 0
        print("  " + name.padding(toLength: 8, withPad: " ", startingAt: 0)
              + String(format: " %7.3f ms %5.1f%%  %7.3f ms  %5.1fM  %6.1f", t * 1000, 100 * stageTimes[name]! / total,
                       c * 1000, Double(stageMACs) / 1e6, c > 0 ? 2 * Double(stageMACs) / c / 1e9 : 0))
    }
    print(String(format: "  total    %7.3f ms         %7.3f ms", total / Double(rounds) * 1000, totalCPU / Double(rounds) * 1000))
}
