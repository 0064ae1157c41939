// Elementwise arithmetic between tensors of the same shape (residual connections).

/// out = a + b, then the activation. `out` may alias `a` or `b`.
public func add(out: Tensor, _ a: Tensor, _ b: Tensor, activation: Activation = .none,
                pool: ThreadPool = .shared) {
    precondition(a.count == b.count && out.count == a.count, "add: \(a.shape) + \(b.shape) -> \(out.shape)")
    let pa = a.data, pb = b.data, po = out.data, count = a.count
    let blocks = (count + 15) / 16
    pool.parallelFor(count: blocks, work: count) { range in
        for blk in range {
            let i = blk * 16
            let left = count - i
            if left >= 16 {
                store16(activation.apply(load16(pa + i) + load16(pb + i)), po + i)
            } else {
                for j in 0..<left { po[i + j] = activation.apply(pa[i + j] + pb[i + j]) }
            }
        }
    }
}

/// out[..., c] = in[..., c] * scale[c] + shift[c]: an inference batch norm (or any
/// per-channel affine map) over the last axis, for norms that follow no convolution.
public func channelAffine(out: Tensor, in input: Tensor, scale: [Float], shift: [Float],
                          activation: Activation = .none, pool: ThreadPool = .shared) {
    let channels = input.shape.last ?? 1
    precondition(out.count == input.count && scale.count == channels && shift.count == channels,
                 "channelAffine: \(input.shape) with \(scale.count) scales")
    guard channels > 0 else { return }
    let rows = input.count / channels
    let src = input.data, dst = out.data
    scale.withUnsafeBufferPointer { sc in
        shift.withUnsafeBufferPointer { sh in
            let s = sc.baseAddress!, t = sh.baseAddress!
            pool.parallelFor(count: rows, work: input.count * 2) { range in
                for row in range {
                    let x = src + row * channels, y = dst + row * channels
                    var c = 0
                    while c + 16 <= channels {
                        store16(activation.apply(fma16(load16(x + c), load16(s + c), load16(t + c))), y + c)
                        c += 16
                    }
                    while c < channels { y[c] = activation.apply(x[c] * s[c] + t[c]); c += 1 }
                }
            }
        }
    }
}
