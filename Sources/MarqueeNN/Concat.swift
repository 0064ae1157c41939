// Concatenation along any axis of row-major tensors (channels are the last axis in NHWC).

/// out = inputs joined along `axis`; every other dimension must agree.
public func concat(out: Tensor, _ inputs: [Tensor], axis: Int, pool: ThreadPool = .shared) {
    let rank = out.rank
    precondition(axis >= 0 && axis < rank, "concat: axis \(axis) for rank \(rank)")
    var total = 0
    for t in inputs {
        precondition(t.rank == rank, "concat: \(t.shape) into \(out.shape)")
        for d in 0..<rank where d != axis {
            precondition(t.shape[d] == out.shape[d], "concat: \(t.shape) into \(out.shape) along \(axis)")
        }
        total += t.shape[axis]
    }
    precondition(total == out.shape[axis], "concat: inputs sum to \(total) along axis \(axis), out has \(out.shape[axis])")
    let outer = out.shape[..<axis].reduce(1, *)
    let inner = out.shape[(axis + 1)...].reduce(1, *)
    let outRow = out.shape[axis] * inner
    let dst = out.data
    let sources = inputs.map { ($0.data, $0.shape[axis] * inner) }
    pool.parallelFor(count: outer, work: out.count) { range in
        for o in range {
            var offset = o * outRow
            for (src, len) in sources {
                (dst + offset).update(from: src + o * len, count: len)
                offset += len
            }
        }
    }
}
