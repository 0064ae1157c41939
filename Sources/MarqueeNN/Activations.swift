// Activations: the ones fused into GEMM/convolution epilogues, and elementwise kernels.
// All elementwise kernels accept `out` and `in` being the same tensor (in place).
import Foundation

/// An activation cheap enough to fuse into a kernel's store.
public enum Activation: Sendable, Equatable {
    case none
    case relu
    /// min(max(x, 0), 6), as in MobileNet/EfficientNet-Lite.
    case relu6
    /// x * Φ(x) with the exact (erf) Gaussian CDF, as BERT's feed-forward layer uses it.
    case gelu

    @inline(__always)
    func apply(_ v: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .none: return v
        case .relu: return max16(v, .zero)
        case .relu6: return min16(max16(v, .zero), SIMD16(repeating: 6))
        case .gelu: return gelu16(v)
        }
    }

    @inline(__always)
    func apply(_ v: Float) -> Float {
        switch self {
        case .none: return v
        case .relu: return max(v, 0)
        case .relu6: return min(max(v, 0), 6)
        case .gelu: return gelu16(SIMD16(repeating: v))[0]
        }
    }
}

/// Applies `f` to 16 lanes at a time; the tail is padded with zeros and stored partially.
@inline(__always)
func mapElements(out: Tensor, in input: Tensor, pool: ThreadPool, costPerElement: Int,
                 _ f: (SIMD16<Float>) -> SIMD16<Float>) {
    precondition(out.count == input.count, "elementwise op: out \(out.shape) vs in \(input.shape)")
    let src = input.data, dst = out.data, count = input.count
    let blocks = (count + 15) / 16
    pool.parallelFor(count: blocks, work: count * costPerElement) { range in
        for b in range {
            let i = b * 16
            let left = count - i
            if left >= 16 {
                store16(f(load16(src + i)), dst + i)
            } else {
                storePartial16(f(loadPartial16(src + i, left)), dst + i, left)
            }
        }
    }
}

/// out = max(in, 0)
public func relu(out: Tensor, in input: Tensor, pool: ThreadPool = .shared) {
    mapElements(out: out, in: input, pool: pool, costPerElement: 1) { Activation.relu.apply($0) }
}

/// out = min(max(in, 0), 6)
public func relu6(out: Tensor, in input: Tensor, pool: ThreadPool = .shared) {
    mapElements(out: out, in: input, pool: pool, costPerElement: 1) { Activation.relu6.apply($0) }
}

/// out = 1 / (1 + e^-in); relative error about 1e-6.
public func sigmoid(out: Tensor, in input: Tensor, pool: ThreadPool = .shared) {
    mapElements(out: out, in: input, pool: pool, costPerElement: 20) { sigmoid16($0) }
}

@inline(__always)
func sigmoid16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    1 / (1 + exp16(-x))
}

/// out = tanh(in); Cephes tanhf: an odd polynomial below |x| = 0.625 (where 1 - 2/(e^2x + 1)
/// would cancel), the exponential form above. Relative error about 1e-6.
public func tanh(out: Tensor, in input: Tensor, pool: ThreadPool = .shared) {
    mapElements(out: out, in: input, pool: pool, costPerElement: 25) { tanh16($0) }
}

@inline(__always)
func tanh16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let ax = max16(x, -x)
    let z = x * x
    var p = SIMD16<Float>(repeating: -5.704_988_727_45e-3)
    p = fma16(p, z, SIMD16(repeating: 2.063_908_879_54e-2))
    p = fma16(p, z, SIMD16(repeating: -5.373_971_555_31e-2))
    p = fma16(p, z, SIMD16(repeating: 1.333_144_220_36e-1))
    p = fma16(p, z, SIMD16(repeating: -3.333_328_194_22e-1))
    let small = fma16(p * z, x, x)
    let e = exp16(ax + ax)
    var large = 1 - 2 / (e + 1)
    large.replace(with: -large, where: x .< 0)
    return small.replacing(with: large, where: ax .>= 0.625)
}

/// out = x * 0.5 * (1 + erf(x / sqrt(2))), the exact (erf) GELU of BERT-style models.
/// erf is the rational approximation Eigen and XLA use for float (x clamped to [-4, 4], odd
/// degree-13 numerator over even degree-8 denominator), within 1e-6 of erff; the benchmark
/// compares it with a scalar erff loop.
public func gelu(out: Tensor, in input: Tensor, pool: ThreadPool = .shared) {
    mapElements(out: out, in: input, pool: pool, costPerElement: 25, gelu16)
}

@inline(__always)
func gelu16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    0.5 * x * (1 + erf16(x * 0.707_106_781_186_547_5))
}

@inline(__always)
func erf16(_ input: SIMD16<Float>) -> SIMD16<Float> {
    let x = min16(max16(input, SIMD16(repeating: -4)), SIMD16(repeating: 4))
    let x2 = x * x
    var p = SIMD16<Float>(repeating: -2.726_142_258_013_06e-10)
    p = fma16(x2, p, SIMD16(repeating: 2.770_681_424_959_02e-08))
    p = fma16(x2, p, SIMD16(repeating: -2.101_024_020_825_08e-06))
    p = fma16(x2, p, SIMD16(repeating: -5.692_506_394_623_46e-05))
    p = fma16(x2, p, SIMD16(repeating: -7.349_906_303_268_55e-04))
    p = fma16(x2, p, SIMD16(repeating: -2.954_599_808_540_25e-03))
    p = fma16(x2, p, SIMD16(repeating: -1.609_603_332_624_15e-02))
    var q = SIMD16<Float>(repeating: -1.456_607_184_649_96e-05)
    q = fma16(x2, q, SIMD16(repeating: -2.133_740_552_789_05e-04))
    q = fma16(x2, q, SIMD16(repeating: -1.682_826_974_382_03e-03))
    q = fma16(x2, q, SIMD16(repeating: -7.373_329_167_204_68e-03))
    q = fma16(x2, q, SIMD16(repeating: -1.426_473_905_141_89e-02))
    return x * p / q
}

/// out = x >= 0 ? x : slope[c] * x, with one slope per channel (last axis) or one shared.
public func prelu(out: Tensor, in input: Tensor, slopes: [Float], pool: ThreadPool = .shared) {
    precondition(out.count == input.count, "prelu: out \(out.shape) vs in \(input.shape)")
    let channels = input.shape.last ?? 1
    precondition(slopes.count == channels || slopes.count == 1,
                 "prelu: \(slopes.count) slopes for \(channels) channels")
    if slopes.count == 1 {
        let s = SIMD16<Float>(repeating: slopes[0])
        mapElements(out: out, in: input, pool: pool, costPerElement: 1) { v in
            v.replacing(with: v * s, where: v .< 0)
        }
        return
    }
    let src = input.data, dst = out.data
    let rows = channels == 0 ? 0 : input.count / channels
    slopes.withUnsafeBufferPointer { sp in
        let slope = sp.baseAddress!
        pool.parallelFor(count: rows, work: input.count) { range in
            for row in range {
                let s = src + row * channels, d = dst + row * channels
                var c = 0
                while c + 16 <= channels {
                    let v = load16(s + c)
                    store16(v.replacing(with: v * load16(slope + c), where: v .< 0), d + c)
                    c += 16
                }
                while c < channels {
                    let v = s[c]
                    d[c] = v < 0 ? v * slope[c] : v
                    c += 1
                }
            }
        }
    }
}

/// Softmax over the last axis: out = e^(x - max) / sum(e^(x - max)).
public func softmax(out: Tensor, in input: Tensor, pool: ThreadPool = .shared) {
    precondition(out.count == input.count, "softmax: out \(out.shape) vs in \(input.shape)")
    let length = input.shape.last ?? 1
    guard length > 0 else { return }
    let rows = input.count / length
    let src = input.data, dst = out.data
    pool.parallelFor(count: rows, work: input.count * 25) { range in
        for row in range {
            softmaxRow(dst + row * length, src + row * length, length)
        }
    }
}

@inline(__always)
func softmaxRow(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ n: Int) {
    var m16 = SIMD16<Float>(repeating: -.infinity)
    var i = 0
    while i + 16 <= n { m16 = max16(m16, load16(s + i)); i += 16 }
    var m = m16.max()
    while i < n { m = max(m, s[i]); i += 1 }
    let mv = SIMD16<Float>(repeating: m)
    var sum16 = SIMD16<Float>.zero
    i = 0
    while i + 16 <= n {
        let e = exp16(load16(s + i) - mv)
        store16(e, d + i)
        sum16 += e
        i += 16
    }
    var sum = sum16.sum()
    if i < n {
        let left = n - i
        let e = exp16(loadPartial16(s + i, left) - mv)
        for j in 0..<left { sum += e[j] }
        storePartial16(e, d + i, left)
    }
    let inv = SIMD16<Float>(repeating: 1 / sum)
    i = 0
    while i + 16 <= n { store16(load16(d + i) * inv, d + i); i += 16 }
    while i < n { d[i] *= inv[0]; i += 1 }
}
