// Layer normalization (BERT/MiniLM). Batch norm is folded into convolutions at load time
// (Convolution.swift) or applied as a per-channel affine map (Elementwise.swift).

/// out = (x - mean) / sqrt(var + epsilon) * gamma + beta over the last axis.
public func layerNorm(out: Tensor, in input: Tensor, gamma: [Float], beta: [Float],
                      epsilon: Float = 1e-12, pool: ThreadPool = .shared) {
    let d = input.shape.last ?? 1
    precondition(out.count == input.count && gamma.count == d && beta.count == d,
                 "layerNorm: \(input.shape) with \(gamma.count) gammas -> \(out.shape)")
    guard d > 0 else { return }
    let rows = input.count / d
    let src = input.data, dst = out.data
    gamma.withUnsafeBufferPointer { g in
        beta.withUnsafeBufferPointer { b in
            let gp = g.baseAddress!, bp = b.baseAddress!
            pool.parallelFor(count: rows, work: input.count * 8) { range in
                for r in range {
                    let x = src + r * d, y = dst + r * d
                    var sum = 0.0
                    for i in 0..<d { sum += Double(x[i]) }
                    let mean = sum / Double(d)
                    var sq = 0.0
                    for i in 0..<d { let t = Double(x[i]) - mean; sq += t * t }
                    let inv = Float(1 / (sq / Double(d) + Double(epsilon)).squareRoot())
                    let m = Float(mean)
                    for i in 0..<d { y[i] = (x[i] - m) * inv * gp[i] + bp[i] }
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
