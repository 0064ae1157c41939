// Layer normalization (BERT/MiniLM). Batch norm is folded into convolutions at load time
// (Convolution.swift) or applied as a per-channel affine map (Elementwise.swift).

/// out = (x - mean) / sqrt(var + epsilon) * gamma + beta over the last axis, where x is
/// `input`, or `input + residual` when a residual is given (a transformer's skip connection,
/// added here rather than in a pass of its own). Sums run in 16 Float lanes: over a few
/// hundred values that stays within a few ulps of a Double sum.
public func layerNorm(out: Tensor, in input: Tensor, residual: Tensor? = nil, gamma: [Float], beta: [Float],
                      epsilon: Float = 1e-12, pool: ThreadPool = .shared) {
    let d = input.shape.last ?? 1
    precondition(out.count == input.count && gamma.count == d && beta.count == d,
                 "layerNorm: \(input.shape) with \(gamma.count) gammas -> \(out.shape)")
    precondition(residual == nil || residual!.count == input.count,
                 "layerNorm: residual \(residual!.shape) for input \(input.shape)")
    guard d > 0 else { return }
    let rows = input.count / d
    let src = input.data, dst = out.data, skip = residual?.data
    let vectorEnd = d / 16 * 16
    gamma.withUnsafeBufferPointer { g in
        beta.withUnsafeBufferPointer { b in
            let gp = g.baseAddress!, bp = b.baseAddress!
            pool.parallelFor(count: rows, work: input.count * 8) { range in
                for r in range {
                    let x = src + r * d, y = dst + r * d
                    if let skip {
                        // y holds x + residual; the passes below read it in place.
                        let s = skip + r * d
                        var i = 0
                        while i < vectorEnd { store16(load16(x + i) + load16(s + i), y + i); i += 16 }
                        while i < d { y[i] = x[i] + s[i]; i += 1 }
                    }
                    let v = UnsafePointer(skip == nil ? x : y)
                    var sum16 = SIMD16<Float>.zero
                    var i = 0
                    while i < vectorEnd { sum16 += load16(v + i); i += 16 }
                    var sum = sum16.sum()
                    while i < d { sum += v[i]; i += 1 }
                    let mean = sum / Float(d)
                    let m16 = SIMD16<Float>(repeating: mean)
                    var sq16 = SIMD16<Float>.zero
                    i = 0
                    while i < vectorEnd { let t = load16(v + i) - m16; sq16 = fma16(t, t, sq16); i += 16 }
                    var sq = sq16.sum()
                    while i < d { let t = v[i] - mean; sq += t * t; i += 1 }
                    let inv = 1 / (sq / Float(d) + epsilon).squareRoot()
                    let inv16 = SIMD16<Float>(repeating: inv)
                    i = 0
                    while i < vectorEnd {
                        store16(fma16((load16(v + i) - m16) * inv16, load16(gp + i), load16(bp + i)), y + i)
                        i += 16
                    }
                    while i < d { y[i] = (v[i] - mean) * inv * gp[i] + bp[i]; i += 1 }
                }
            }
        }
    }
}

/// out = x / max(||x||, epsilon) over the last axis (PyTorch's F.normalize, p = 2), as
/// sentence-transformers' Normalize does to MiniLM's pooled embedding.
public func l2Normalize(out: Tensor, in input: Tensor, epsilon: Float = 1e-12, pool: ThreadPool = .shared) {
    let d = input.shape.last ?? 1
    precondition(out.count == input.count, "l2Normalize: \(input.shape) -> \(out.shape)")
    guard d > 0 else { return }
    let src = input.data, dst = out.data
    pool.parallelFor(count: input.count / d, work: input.count * 3) { range in
        for r in range {
            let x = src + r * d, y = dst + r * d
            var sq = 0.0
            for i in 0..<d { sq += Double(x[i]) * Double(x[i]) }
            let scale = 1 / max(Float(sq.squareRoot()), epsilon)
            for i in 0..<d { y[i] = x[i] * scale }
        }
    }
}
