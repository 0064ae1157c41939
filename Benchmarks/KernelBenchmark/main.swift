// Times MarqueeNN's GEMM, convolution and depthwise kernels at EfficientNet-like shapes,
// on one thread and on all cores, against the machine's nominal peak, and compares the
// GEMM with a plain triple loop compiled with the same flags.
import Foundation
import MarqueeNN

/// Nominal peak from /proc/cpuinfo: "cpu MHz" (the nominal clock the kernel reports; turbo
/// may run faster), 2 FMA pipes, 16 float lanes with AVX-512 or 8 with AVX2, 2 flops per FMA.
struct Machine {
    var mhz = 0.0
    var lanes = 8
    var cores = ProcessInfo.processInfo.activeProcessorCount
    var model = "unknown"

    init() {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "cpu MHz" && mhz == 0 { mhz = Double(parts[1]) ?? 0 }
            if parts[0] == "model name" && model == "unknown" { model = parts[1] }
            if parts[0] == "flags" { lanes = parts[1].split(separator: " ").contains("avx512f") ? 16 : 8 }
        }
    }

    var peakPerCore: Double { 2 * Double(lanes) * 2 * mhz / 1000 }
}

func seconds(_ body: () -> Void) -> Double {
    body()  // warm up
    var best = Double.infinity
    // The best of many short runs: the machine may be shared, and the best run is the one
    // least disturbed by other processes.
    for _ in 0..<15 {
        var runs = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            body()
            runs += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < 0.02
        best = min(best, elapsed / Double(runs))
    }
    return best
}

let machine = Machine()
let single = ThreadPool.serial
let all = ThreadPool.shared
print("machine: \(machine.model), \(machine.cores) cores, \(String(format: "%.0f", machine.mhz)) MHz nominal, \(machine.lanes * 32)-bit FMA")
print(String(format: "nominal peak: %.1f GFLOP/s per core, %.1f GFLOP/s all cores", machine.peakPerCore, machine.peakPerCore * Double(machine.cores)))

// The FMA throughput one core actually reaches (turbo included): six independent SIMD16
// multiply-add chains with no memory traffic. Kernels are also shown against this.
@inline(never)
func fmaLoop(_ iterations: Int, _ seed: Float) -> Float {
    let m = SIMD16<Float>(repeating: 0.999_999), c = SIMD16<Float>(repeating: 1e-7)
    var a0 = SIMD16<Float>(repeating: seed), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5
    for _ in 0..<iterations {
        a0 = c.addingProduct(a0, m); a1 = c.addingProduct(a1, m); a2 = c.addingProduct(a2, m)
        a3 = c.addingProduct(a3, m); a4 = c.addingProduct(a4, m); a5 = c.addingProduct(a5, m)
    }
    return (a0 + a1 + a2 + a3 + a4 + a5).sum()
}
var sink: Float = 0
let fmaIterations = 2_000_000
let fmaTime = seconds { sink += fmaLoop(fmaIterations, sink) }
let measuredPeak = Double(fmaIterations) * 6 * 16 * 2 / fmaTime / 1e9
print(String(format: "measured FMA peak: %.1f GFLOP/s on one core (%.2f GHz effective)%@", measuredPeak,
             measuredPeak / (2 * Double(machine.lanes) * 2), sink.isNaN ? " " : ""))
print("")
print("kernel                                   threads   ms      GFLOP/s  % nominal  % measured")

func report(_ name: String, flops: Double, pool: ThreadPool, _ body: () -> Void) -> Double {
    let t = seconds(body)
    let gflops = flops / t / 1e9
    let peak = machine.peakPerCore * Double(pool.threadCount)
    let measured = measuredPeak * Double(pool.threadCount)
    print(String(format: "%-40@ %7d %8.3f %9.1f %8.1f%% %9.1f%%", name as NSString, pool.threadCount, t * 1000, gflops,
                 100 * gflops / peak, 100 * gflops / measured))
    return t
}

func filled(_ shape: [Int]) -> Tensor {
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t[flat: i] = Float((i * 7919) % 1000) / 1000 - 0.5 }
    return t
}

// Pointwise convolutions as GEMM: M = pixels, K = in-channels, N = out-channels.
let gemmShapes = [(112 * 112, 32, 16), (56 * 56, 144, 24), (28 * 28, 240, 40), (14 * 14, 672, 112),
                  (7 * 7, 320, 1280), (56 * 56, 256, 256)]
for (m, k, n) in gemmShapes {
    let a = filled([m, k])
    let b = PackedMatrix(rowMajor: filled([k * n]).toArray(), rows: k, columns: n)
    let out = Tensor(shape: [m, n])
    for pool in [single, all] {
        _ = report("gemm M=\(m) K=\(k) N=\(n)", flops: 2.0 * Double(m * k * n), pool: pool) {
            gemm(out: out, in: a, b: b, activation: .relu6, pool: pool)
        }
    }
}

// The peer: a plain i-k-j triple loop on the same data (the compiler vectorizes the j loop).
do {
    let (m, k, n) = (56 * 56, 256, 256)
    let a = filled([m, k]), bRows = filled([k, n]), out = Tensor(shape: [m, n])
    let b = PackedMatrix(rowMajor: bRows.toArray(), rows: k, columns: n)
    let naive = report("plain loop M=\(m) K=\(k) N=\(n)", flops: 2.0 * Double(m * k * n), pool: single) {
        let pa = a.data, pb = bRows.data, pc = out.data
        for i in 0..<m {
            let c = pc + i * n
            c.update(repeating: 0, count: n)
            for p in 0..<k {
                let av = pa[i * k + p], brow = pb + p * n
                for j in 0..<n { c[j] += av * brow[j] }
            }
        }
    }
    let fast = seconds { gemm(out: out, in: a, b: b, pool: single) }
    print(String(format: "  -> packed 6x16 GEMM is %.1fx the plain loop (one thread)", naive / fast))
}

// Depthwise 3x3 and a dense 3x3 stem convolution.
do {
    let x = filled([1, 112, 112, 96])
    let c = 96
    let dw = Conv2DWeights(oihw: filled([c * 9]).toArray(), bias: [Float](repeating: 0, count: c),
                           outChannels: c, inChannels: c, kernel: 3, groups: c)
    for stride in [1, 2] {
        let s = Size2(stride, stride)
        let out = Tensor(shape: dw.outputShape(input: x.shape, stride: s, padding: .same))
        for pool in [single, all] {
            _ = report("depthwise 3x3/\(stride) 112x112x96", flops: 2.0 * Double(out.count * 9), pool: pool) {
                conv2d(out: out, in: x, weights: dw, stride: s, padding: .same, activation: .relu6, pool: pool)
            }
        }
    }
    // EfficientNet-Lite0's stride-1 depthwise layers after block01.
    for (size, channels, k) in [(56, 144, 3), (28, 240, 5), (14, 672, 5), (7, 1152, 5)] {
        let deep = filled([1, size, size, channels])
        let dwk = Conv2DWeights(oihw: filled([channels * k * k]).toArray(), bias: nil, outChannels: channels,
                                inChannels: channels, kernel: Size2(k, k), groups: channels)
        let deepOut = Tensor(shape: dwk.outputShape(input: deep.shape, padding: .same))
        for pool in [single, all] {
            _ = report("depthwise \(k)x\(k)/1 \(size)x\(size)x\(channels)", flops: 2.0 * Double(deepOut.count * k * k), pool: pool) {
                conv2d(out: deepOut, in: deep, weights: dwk, padding: .same, activation: .relu6, pool: pool)
            }
        }
    }
    let image = filled([1, 224, 224, 3])
    let stem = Conv2DWeights(oihw: filled([32 * 3 * 9]).toArray(), bias: nil, outChannels: 32, inChannels: 3, kernel: 3)
    let stemOut = Tensor(shape: stem.outputShape(input: image.shape, stride: 2, padding: .same))
    let conv = Conv2DWeights(oihw: filled([64 * 64 * 9]).toArray(), bias: nil, outChannels: 64, inChannels: 64, kernel: 3)
    let convIn = filled([1, 56, 56, 64])
    let convOut = Tensor(shape: conv.outputShape(input: convIn.shape, padding: .same))
    // MusiCNN's timbral front end: a 7x86 kernel over a one-channel 187-frame x 96-mel patch,
    // time padded by 3 and frequency valid, 204 filters.
    let mel = filled([1, 187, 96, 1])
    let timbral = Conv2DWeights(oihw: filled([204 * 7 * 86]).toArray(), bias: nil, outChannels: 204, inChannels: 1, kernel: Size2(7, 86))
    let melPadding = Padding2D.explicit(top: 3, left: 0, bottom: 3, right: 0)
    let timbralOut = Tensor(shape: timbral.outputShape(input: mel.shape, padding: melPadding))
    for pool in [single, all] {
        _ = report("conv 7x86/1 187x96x1 -> 204", flops: 2.0 * Double(timbralOut.count * 7 * 86), pool: pool) {
            conv2d(out: timbralOut, in: mel, weights: timbral, padding: melPadding, activation: .relu, pool: pool)
        }
    }
    for pool in [single, all] {
        _ = report("conv 3x3/2 224x224x3 -> 32", flops: 2.0 * Double(stemOut.count * 27), pool: pool) {
            conv2d(out: stemOut, in: image, weights: stem, stride: 2, padding: .same, activation: .relu6, pool: pool)
        }
        _ = report("conv 3x3/1 56x56x64 -> 64", flops: 2.0 * Double(convOut.count * 64 * 9), pool: pool) {
            conv2d(out: convOut, in: convIn, weights: conv, padding: .same, pool: pool)
        }
    }
}

// GELU (erf form) on a MiniLM feed-forward activation: 128 tokens x 1536 features, against
// the C library's erff per element.
do {
    let x = filled([128, 1536]), out = Tensor(shape: [128, 1536])
    let count = x.count
    let vector = seconds { gelu(out: out, in: x, pool: single) }
    let scalar = seconds {
        let s = x.data, d = out.data
        for i in 0..<count { d[i] = 0.5 * s[i] * (1 + erf(s[i] * 0.707_106_781_186_547_5)) }
    }
    print(String(format: "gelu 128x1536: vector erf %.3f ms, scalar erff %.3f ms (%.1fx), one thread",
                 vector * 1000, scalar * 1000, scalar / vector))
}

// Fork/join cost of ThreadPool.parallelFor with an empty body, per call.
do {
    let calls = 2000
    let t = seconds {
        for _ in 0..<calls { all.parallelFor(count: all.threadCount) { _ in } }
    }
    print(String(format: "parallelFor fork/join on %d threads: %.1f us per call", all.threadCount, t / Double(calls) * 1e6))
}
