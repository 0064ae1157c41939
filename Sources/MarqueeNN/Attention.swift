// Multi-head self-attention over packed sequences of different lengths (BERT/MiniLM).
//
// The sequences of a batch are stored one after another, without padding: token t of
// sequence s is row offsets[s] + t. Dense layers then run on all the batch's tokens as one
// matrix, and attention runs per (sequence, head) on that sequence's own length, so a batch
// costs what its real tokens cost, never as if every sequence were the longest. A padded
// reference with an additive mask of -inf (or PyTorch's float min) on padding columns gives
// the same softmax, because those columns' weights are exactly zero.
//
// qkv is (T, 3 * D) with D = heads * headSize: per row, the query's D values, then the
// key's, then the value's; head h uses columns h * headSize ..< (h + 1) * headSize of each.
// out is (T, D): per row, each head's context at its head's columns (before the output
// projection).
import Foundation

/// out[t, h] = sum_j softmax_j(scale * q[t, h] . k[j, h]) v[j, h], j over t's sequence.
/// `offsets` holds the first row of every sequence and, last, the total row count T.
public func packedSelfAttention(out: Tensor, qkv: Tensor, offsets: [Int], heads: Int, headSize: Int,
                                scale: Float, pool: ThreadPool = .shared) {
    let d = heads * headSize
    let total = offsets.last ?? 0
    precondition(heads > 0 && headSize > 0 && offsets.first == 0 && zip(offsets, offsets.dropFirst()).allSatisfy { $0 <= $1 },
                 "attention: offsets must start at 0 and not decrease")
    precondition(qkv.count == total * 3 * d && out.count == total * d && qkv.shape.last == 3 * d && out.shape.last == d,
                 "attention: qkv \(qkv.shape), out \(out.shape) for \(total) tokens, \(heads) x \(headSize)")
    let sequences = offsets.count - 1
    guard sequences > 0, total > 0 else { return }
    let longest = zip(offsets, offsets.dropFirst()).map { $1 - $0 }.max() ?? 0
    let padded = (longest + 15) / 16 * 16
    let work = zip(offsets, offsets.dropFirst()).reduce(0) { $0 + 4 * ($1.1 - $1.0) * ($1.1 - $1.0) * d }
    let q0 = UnsafePointer(qkv.data), o0 = out.data
    let ld = 3 * d
    pool.parallelFor(count: sequences * heads, work: work) { range in
        // Per task: the scores (length rows, 16-padded) and the transposed keys.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(16, (longest + headSize) * padded)) { buffer in
            let scores = buffer.baseAddress!
            let keys = scores + longest * padded
            for item in range {
                let s = item / heads, h = item % heads
                let first = offsets[s], length = offsets[s + 1] - first
                guard length > 0 else { continue }
                let q = q0 + first * ld + h * headSize
                let k = q + d, v = q + 2 * d
                let o = o0 + first * d + h * headSize
                attentionHead(out: o, ldo: d, q: q, k: k, v: v, ld: ld, length: length, headSize: headSize,
                              scale: scale, scores: scores, keys: keys)
            }
        }
    }
}

/// One head of one sequence. The keys are first transposed into `keys` (headSize rows of
/// `stride` = length rounded up to 16, zero past length), so that a row of scores is built
/// 16 keys at a time with broadcasts of the query and no horizontal sums; `scores` holds
/// length rows of `stride`. Both products work on four query rows at once: one chain of
/// fused multiply-adds per row would wait on its own latency (a sequence is a few dozen
/// tokens, a head 32 values), four independent chains keep both FMA units busy.
@inline(__always)
func attentionHead(out: UnsafeMutablePointer<Float>, ldo: Int,
                   q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
                   length: Int, headSize: Int, scale: Float,
                   scores: UnsafeMutablePointer<Float>, keys: UnsafeMutablePointer<Float>) {
    let stride = (length + 15) / 16 * 16
    for p in 0..<headSize {
        let row = keys + p * stride
        for j in 0..<length { row[j] = k[j * ld + p] }
        for j in length..<stride { row[j] = 0 }
    }
    let scaleVector = SIMD16<Float>(repeating: scale)
    // Rows past the end repeat the last row and are not stored.
    var i = 0
    while i < length {
        let rows = min(4, length - i)
        let q0 = q + i * ld, q1 = q + (i + min(1, rows - 1)) * ld
        let q2 = q + (i + min(2, rows - 1)) * ld, q3 = q + (i + min(3, rows - 1)) * ld
        let row = scores + i * stride
        var j = 0
        while j < length {
            var a0 = SIMD16<Float>.zero, a1 = a0, a2 = a0, a3 = a0
            for p in 0..<headSize {
                let kp = load16(keys + p * stride + j)
                a0 = fma16(SIMD16(repeating: q0[p]), kp, a0)
                a1 = fma16(SIMD16(repeating: q1[p]), kp, a1)
                a2 = fma16(SIMD16(repeating: q2[p]), kp, a2)
                a3 = fma16(SIMD16(repeating: q3[p]), kp, a3)
            }
            store16(a0 * scaleVector, row + j)
            if rows > 1 { store16(a1 * scaleVector, row + stride + j) }
            if rows > 2 { store16(a2 * scaleVector, row + 2 * stride + j) }
            if rows > 3 { store16(a3 * scaleVector, row + 3 * stride + j) }
            j += 16
        }
        for r in 0..<rows { softmaxRow(row + r * stride, row + r * stride, length) }
        // context_i = sum_j p_ij v_j, 16 columns at a time.
        let p0 = UnsafePointer(row), p1 = p0 + min(1, rows - 1) * stride
        let p2 = p0 + min(2, rows - 1) * stride, p3 = p0 + min(3, rows - 1) * stride
        let o = out + i * ldo
        var c = 0
        while c < headSize {
            let lanes = min(16, headSize - c)
            var a0 = SIMD16<Float>.zero, a1 = a0, a2 = a0, a3 = a0
            for j in 0..<length {
                let vj = v + j * ld + c
                let vv = lanes == 16 ? load16(vj) : loadPartial16(vj, lanes)
                a0 = fma16(SIMD16(repeating: p0[j]), vv, a0)
                a1 = fma16(SIMD16(repeating: p1[j]), vv, a1)
                a2 = fma16(SIMD16(repeating: p2[j]), vv, a2)
                a3 = fma16(SIMD16(repeating: p3[j]), vv, a3)
            }
            if lanes == 16 {
                store16(a0, o + c)
                if rows > 1 { store16(a1, o + ldo + c) }
                if rows > 2 { store16(a2, o + 2 * ldo + c) }
                if rows > 3 { store16(a3, o + 3 * ldo + c) }
            } else {
                storePartial16(a0, o + c, lanes)
                if rows > 1 { storePartial16(a1, o + ldo + c, lanes) }
                if rows > 2 { storePartial16(a2, o + 2 * ldo + c, lanes) }
                if rows > 3 { storePartial16(a3, o + 3 * ldo + c, lanes) }
            }
            c += 16
        }
        i += 4
    }
}

/// The same attention computed the plain way, in Double: the reference for tests.
public func packedSelfAttentionReference(out: Tensor, qkv: Tensor, offsets: [Int], heads: Int, headSize: Int, scale: Float) {
    let d = heads * headSize
    let x = qkv.data, o = out.data
    for s in 0..<(offsets.count - 1) {
        let first = offsets[s], length = offsets[s + 1] - first
        for h in 0..<heads {
            for i in 0..<length {
                var logits = [Double](repeating: 0, count: length)
                for j in 0..<length {
                    var dot = 0.0
                    for p in 0..<headSize {
                        dot += Double(x[(first + i) * 3 * d + h * headSize + p]) * Double(x[(first + j) * 3 * d + d + h * headSize + p])
                    }
                    logits[j] = dot * Double(scale)
                }
                let m = logits.max() ?? 0
                let e = logits.map { Foundation.exp($0 - m) }
                let sum = e.reduce(0, +)
                for p in 0..<headSize {
                    var acc = 0.0
                    for j in 0..<length { acc += e[j] / sum * Double(x[(first + j) * 3 * d + 2 * d + h * headSize + p]) }
                    o[(first + i) * d + h * headSize + p] = Float(acc)
                }
            }
        }
    }
}
