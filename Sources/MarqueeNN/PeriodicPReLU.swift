// PReLU vectorized for any channel count. `prelu` (Activations.swift) walks each pixel's
// channels 16 at a time and finishes the rest one by one, which for MTCNN's 10-, 28- and
// 48-channel maps runs much of the tensor scalar. Over the flat tensor the slope of element i
// is slopes[i % C], a pattern that repeats every lcm(C, 16) floats: stored once, it lets
// every full 16-float block be one compare and blend.

/// out = x >= 0 ? x : slope[c] * x over the last axis (same result as `prelu`), in place allowed.
public func preluPeriodic(out: Tensor, in input: Tensor, slopes: [Float], pool: ThreadPool = .shared) {
    precondition(out.count == input.count, "preluPeriodic: out \(out.shape) vs in \(input.shape)")
    let channels = input.shape.last ?? 1
    precondition(slopes.count == channels && channels > 0, "preluPeriodic: \(slopes.count) slopes for \(channels) channels")
    func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
    let period = channels / gcd(channels, 16) * 16
    let pattern = TensorStorage(capacity: period)
    for i in 0..<period { pattern.pointer[i] = slopes[i % channels] }
    let count = input.count
    let periods = (count + period - 1) / period
    let src = input.data, dst = out.data, slope = pattern.pointer
    pool.parallelFor(count: periods, work: count) { range in
        for p in range {
            let base = p * period
            let end = min(base + period, count)
            var i = base
            while i + 16 <= end {
                let v = load16(src + i)
                store16(v.replacing(with: v * load16(slope + (i - base)), where: v .< 0), dst + i)
                i += 16
            }
            while i < end {
                let v = src[i]
                dst[i] = v < 0 ? v * slope[i - base] : v
                i += 1
            }
        }
    }
}
