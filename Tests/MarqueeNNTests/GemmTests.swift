import XCTest
@testable import MarqueeNN

/// C[m][n] = sum_k A[m][k] * B[k][n] + bias[n]
func referenceGemm(_ a: [Float], _ b: [Float], _ bias: [Float]?, m: Int, k: Int, n: Int, _ act: Activation) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = Double(bias?[j] ?? 0)
            for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
            c[i * n + j] = applyActivation(Float(s), act)
        }
    }
    return c
}

final class GemmTests: XCTestCase {
    func testGemmMatchesReferenceAcrossTileAndVectorTails() {
        var rng = TestRandom(seed: 1)
        let pool = ThreadPool(threadCount: 2)
        for m in [1, 5, 6, 7, 13, 50] {
            for k in [1, 15, 16, 17, 33] {
                for n in [1, 8, 15, 16, 17, 24, 33, 64] {
                    let act: [Activation] = [.none, .relu, .relu6, .gelu]
                    let activation = act[(m + k + n) % 4]
                    let a = rng.floats(m * k), b = rng.floats(k * n, scale: 4), bias = rng.floats(n)
                    let packed = PackedMatrix(rowMajor: b, rows: k, columns: n, bias: bias)
                    let out = GuardedTensor(shape: [m, n])
                    gemm(out: out.tensor, in: Tensor(shape: [m, k], values: a), b: packed,
                         activation: activation, pool: pool)
                    let context = "m \(m) k \(k) n \(n) \(activation)"
                    assertClose(out.tensor.toArray(), referenceGemm(a, b, bias, m: m, k: k, n: n, activation), context)
                    out.assertGuardsIntact(context)
                }
            }
        }
    }

    func testGemmSplitsDeepMatricesIntoPanelChunks() {
        // K = 2100 makes one packed panel larger than a chunk, so every panel is its own chunk.
        var rng = TestRandom(seed: 4)
        let m = 13, k = 2100, n = 33
        let a = rng.floats(m * k), b = rng.floats(k * n), bias = rng.floats(n)
        let out = GuardedTensor(shape: [m, n])
        gemm(out: out.tensor, in: Tensor(shape: [m, k], values: a),
             b: PackedMatrix(rowMajor: b, rows: k, columns: n, bias: bias), pool: ThreadPool(threadCount: 2))
        assertClose(out.tensor.toArray(), referenceGemm(a, b, bias, m: m, k: k, n: n, .none), tolerance: 1e-4, "deep gemm")
        out.assertGuardsIntact("deep gemm")
    }

    func testGemmWithRowStridesLeavesTheGapsUntouched() {
        var rng = TestRandom(seed: 2)
        let m = 9, k = 5, n = 17, lda = 8, ldc = 21
        let a = rng.floats(m * lda), b = rng.floats(k * n)
        let out = GuardedTensor(shape: [m * ldc])
        a.withUnsafeBufferPointer { ap in
            gemm(out: out.tensor.data, ldc: ldc, a: ap.baseAddress!, lda: lda, m: m,
                 b: PackedMatrix(rowMajor: b, rows: k, columns: n), pool: .serial)
        }
        let dense = (0..<m).flatMap { i in a[(i * lda)..<(i * lda + k)] }
        let expected = referenceGemm(Array(dense), b, nil, m: m, k: k, n: n, .none)
        let result = out.tensor.toArray()
        for i in 0..<m {
            assertClose(Array(result[(i * ldc)..<(i * ldc + n)]), Array(expected[(i * n)..<(i * n + n)]), "row \(i)")
            XCTAssertTrue(result[(i * ldc + n)..<(i * ldc + ldc)].allSatisfy { $0 == GuardedTensor.sentinel }, "gap after row \(i)")
        }
        out.assertGuardsIntact("strided gemm")
    }

    func testTransposedPackingMatchesPyTorchLinearLayout() {
        var rng = TestRandom(seed: 3)
        let k = 19, n = 23, m = 4
        let wOutIn = rng.floats(n * k)
        var wKN = [Float](repeating: 0, count: k * n)
        for o in 0..<n { for i in 0..<k { wKN[i * n + o] = wOutIn[o * k + i] } }
        let a = rng.floats(m * k)
        let out = Tensor(shape: [m, n])
        gemm(out: out, in: Tensor(shape: [m, k], values: a),
             b: PackedMatrix(transposing: wOutIn, rows: k, columns: n), pool: .serial)
        assertClose(out.toArray(), referenceGemm(a, wKN, nil, m: m, k: k, n: n, .none), "linear")
    }
}

final class GemmOnCallingThreadTests: XCTestCase {
    func testMatchesReferenceWithResidualAcrossTileAndVectorTails() {
        var rng = TestRandom(seed: 77)
        for m in [1, 5, 6, 7, 13, 33] {
            for k in [1, 15, 16, 17, 33] {
                for n in [1, 8, 15, 16, 17, 24, 33] {
                    let activation: Activation = [.none, .relu6, .relu, .gelu][(m + k + n) % 4]
                    let withResidual = (m + n) % 2 == 0
                    // Rows of A, C and the residual are wider than K and N: the strides are honoured.
                    let lda = k + 3, ldc = n + 5, ldr = n + 2
                    let a = rng.floats(m * lda), b = rng.floats(k * n, scale: 4), bias = rng.floats(n)
                    let residual = rng.floats(m * ldr)
                    let packed = PackedMatrix(rowMajor: b, rows: k, columns: n, bias: bias)
                    let out = GuardedTensor(shape: [m, ldc])
                    a.withUnsafeBufferPointer { pa in
                        residual.withUnsafeBufferPointer { pr in
                            gemmOnCallingThread(m: m, a: pa.baseAddress!, lda: lda, b: packed, epilogue: Epilogue(activation),
                                                out: out.tensor.data, ldc: ldc,
                                                residual: withResidual ? pr.baseAddress! : nil, ldr: ldr)
                        }
                    }
                    let dense = (0..<m).flatMap { i in a[(i * lda)..<(i * lda + k)] }
                    let product = referenceGemm(dense, b, bias, m: m, k: k, n: n, activation)
                    let all = out.tensor.toArray()
                    var actual: [Float] = [], untouched = true
                    for i in 0..<m {
                        actual += all[(i * ldc)..<(i * ldc + n)]
                        untouched = untouched && all[(i * ldc + n)..<(i * ldc + ldc)].allSatisfy { $0.bitPattern == GuardedTensor.sentinel.bitPattern }
                    }
                    let expected = (0..<(m * n)).map { product[$0] + (withResidual ? residual[($0 / n) * ldr + $0 % n] : 0) }
                    let context = "m \(m) k \(k) n \(n) \(activation) residual \(withResidual)"
                    assertClose(actual, expected, tolerance: 2e-5, context)
                    XCTAssertTrue(untouched, "\(context): wrote between rows")
                    out.assertGuardsIntact(context)
                }
            }
        }
    }
}
