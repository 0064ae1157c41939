// Fully connected layers (through the packed GEMM) and the unpacked matrix products of
// attention, whose operands are activations and change on every call.

/// A fully connected layer's weight and bias, packed once.
public struct DenseWeights: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    let matrix: PackedMatrix

    /// From PyTorch's Linear: weight [out, in], bias [out] (or none).
    public init(pytorch weight: [Float], bias: [Float]?, inFeatures: Int, outFeatures: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        matrix = PackedMatrix(transposing: weight, rows: inFeatures, columns: outFeatures, bias: bias)
    }

    /// From PyTorch's Linear when the checkpoint flattened its input in another order than
    /// ours: input feature i of our (NHWC-flattened) tensor is column `checkpointColumn(i)` of
    /// the checkpoint's weight. See `flattenedColumn(height:width:channels:order:)`.
    public init(pytorch weight: [Float], bias: [Float]?, inFeatures: Int, outFeatures: Int,
                checkpointColumn: (Int) -> Int) {
        precondition(weight.count == inFeatures * outFeatures, "linear weight has \(weight.count) values, expected [\(outFeatures), \(inFeatures)]")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let columns = (0..<inFeatures).map(checkpointColumn)
        precondition(Set(columns).count == inFeatures && columns.allSatisfy { $0 >= 0 && $0 < inFeatures },
                     "checkpointColumn is not a permutation of 0..<\(inFeatures)")
        matrix = PackedMatrix(rows: inFeatures, columns: outFeatures, bias: bias) { k, n in
            weight[n * inFeatures + columns[k]]
        }
    }

    /// Axis orders in which a network may flatten an [H, W, C] activation.
    public enum FlattenOrder: Sendable {
        /// PyTorch's default on NCHW tensors: index (c * H + y) * W + x.
        case chw
        /// After `permute(0, 3, 2, 1)` on NCHW, as facenet-pytorch's R-Net and O-Net do:
        /// index (x * H + y) * C + c.
        case whc
        /// Ours (and TensorFlow's): index (y * W + x) * C + c.
        case hwc
    }

    /// The checkpoint column for feature i of an NHWC-flattened [H, W, C] activation that the
    /// checkpoint flattened in `order`.
    public static func flattenedColumn(height: Int, width: Int, channels: Int, order: FlattenOrder) -> (Int) -> Int {
        { i in
            let c = i % channels, x = (i / channels) % width, y = i / (channels * width)
            switch order {
            case .chw: return (c * height + y) * width + x
            case .whc: return (x * height + y) * channels + c
            case .hwc: return i
            }
        }
    }

    /// From Keras's Dense: kernel [in, out], bias [out] (or none).
    public init(keras kernel: [Float], bias: [Float]?, inFeatures: Int, outFeatures: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        matrix = PackedMatrix(rowMajor: kernel, rows: inFeatures, columns: outFeatures, bias: bias)
    }
}

/// out[..., outFeatures] = in[..., inFeatures] * W^T + b, then the activation.
public func dense(out: Tensor, in input: Tensor, weights: DenseWeights,
                  activation: Activation = .none, pool: ThreadPool = .shared) {
    gemm(out: out, in: input, b: weights.matrix, activation: activation, pool: pool)
}

/// out[i, j] = alpha * sum_k a[i, k] * B[k, j] for strided row-major operands, where B is
/// `b` (rows of N, `ldb` apart) or, with `transposeB`, the transpose of `b` (rows of K).
/// Attention uses it per head: scores = Q * K^T with transposeB, context = P * V without.
public func matmul(out: UnsafeMutablePointer<Float>, ldo: Int,
                   a: UnsafePointer<Float>, lda: Int,
                   b: UnsafePointer<Float>, ldb: Int,
                   m: Int, n: Int, k: Int, transposeB: Bool, alpha: Float = 1,
                   pool: ThreadPool = .shared) {
    guard m > 0, n > 0 else { return }
    pool.parallelFor(count: m, work: 2 * m * n * k) { range in
        if transposeB {
            for i in range {
                let ai = a + i * lda
                for j in 0..<n {
                    let bj = b + j * ldb
                    var acc = SIMD16<Float>.zero
                    var p = 0
                    while p + 16 <= k { acc = fma16(load16(ai + p), load16(bj + p), acc); p += 16 }
                    var s = acc.sum()
                    while p < k { s += ai[p] * bj[p]; p += 1 }
                    out[i * ldo + j] = alpha * s
                }
            }
        } else {
            for i in range {
                let ai = a + i * lda, oi = out + i * ldo
                var j = 0
                while j < n {
                    let lanes = min(16, n - j)
                    var acc = SIMD16<Float>.zero
                    for p in 0..<k {
                        let row = b + p * ldb + j
                        acc = fma16(SIMD16(repeating: ai[p]), lanes == 16 ? load16(row) : loadPartial16(row, lanes), acc)
                    }
                    acc *= alpha
                    if lanes == 16 { store16(acc, oi + j) } else { storePartial16(acc, oi + j, lanes) }
                    j += 16
                }
            }
        }
    }
}

/// Batched matmul over the leading axes: a [..., M, K], b [..., K, N] (or [..., N, K] with
/// transposeB), out [..., M, N].
public func batchedMatmul(out: Tensor, a: Tensor, b: Tensor, transposeB: Bool = false,
                          alpha: Float = 1, pool: ThreadPool = .shared) {
    precondition(a.rank >= 2 && b.rank == a.rank && out.rank == a.rank, "matmul: ranks of \(a.shape), \(b.shape), \(out.shape)")
    let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
    let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
    let bk = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
    precondition(bk == k && out.shape[out.rank - 2] == m && out.shape[out.rank - 1] == n
        && Array(a.shape.dropLast(2)) == Array(b.shape.dropLast(2)) && Array(a.shape.dropLast(2)) == Array(out.shape.dropLast(2)),
        "matmul: \(a.shape) x \(b.shape)\(transposeB ? "^T" : "") -> \(out.shape)")
    let batches = a.shape.dropLast(2).reduce(1, *)
    for i in 0..<batches {
        matmul(out: out.data + i * m * n, ldo: n, a: a.data + i * m * k, lda: k,
               b: b.data + i * k * n, ldb: transposeB ? k : n, m: m, n: n, k: k,
               transposeB: transposeB, alpha: alpha, pool: pool)
    }
}
