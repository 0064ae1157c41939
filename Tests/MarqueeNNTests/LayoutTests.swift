import XCTest
@testable import MarqueeNN

/// Padding and concatenation.
final class LayoutTests: XCTestCase {
    func testPadSurroundsTheImageWithTheValue() {
        var rng = TestRandom(seed: 40)
        for c in [1, 17] {
            let x = randomTensor([2, 3, 4, c], &rng)
            let out = GuardedTensor(shape: [2, 3 + 1 + 2, 4 + 0 + 3, c])
            pad(out: out.tensor, in: x, top: 1, left: 0, bottom: 2, right: 3, value: -7)
            var expected: [Float] = []
            let v = x.toArray()
            for n in 0..<2 { for y in 0..<6 { for xx in 0..<7 { for ch in 0..<c {
                let iy = y - 1, ix = xx
                expected.append(iy >= 0 && iy < 3 && ix < 4 ? v[((n * 3 + iy) * 4 + ix) * c + ch] : -7)
            } } } }
            assertClose(out.tensor.toArray(), expected, tolerance: 0, "pad c \(c)")
            out.assertGuardsIntact("pad c \(c)")
        }
    }

    func testConcatJoinsAlongChannelsAndOuterAxes() {
        let a = Tensor(shape: [1, 2, 1, 2], values: [1, 2, 3, 4])
        let b = Tensor(shape: [1, 2, 1, 3], values: [5, 6, 7, 8, 9, 10])
        let out = GuardedTensor(shape: [1, 2, 1, 5])
        concat(out: out.tensor, [a, b], axis: 3)
        XCTAssertEqual(out.tensor.toArray(), [1, 2, 5, 6, 7, 3, 4, 8, 9, 10])
        out.assertGuardsIntact("channel concat")
        let rows = GuardedTensor(shape: [1, 4, 1, 2])
        concat(out: rows.tensor, [a, a], axis: 1)
        XCTAssertEqual(rows.tensor.toArray(), [1, 2, 3, 4, 1, 2, 3, 4])
        rows.assertGuardsIntact("row concat")
    }
}

final class DenseTests: XCTestCase {
    func testDenseMatchesPyTorchLinear() {
        var rng = TestRandom(seed: 50)
        for (inF, outF) in [(1, 1), (15, 17), (33, 16), (64, 100)] {
            let w = rng.floats(outF * inF), b = rng.floats(outF)
            let x = randomTensor([3, inF], &rng)
            let out = GuardedTensor(shape: [3, outF])
            dense(out: out.tensor, in: x, weights: DenseWeights(pytorch: w, bias: b, inFeatures: inF, outFeatures: outF), activation: .relu)
            let v = x.toArray()
            var expected: [Float] = []
            for r in 0..<3 {
                for o in 0..<outF {
                    var s = b[o]
                    for i in 0..<inF { s += v[r * inF + i] * w[o * inF + i] }
                    expected.append(max(s, 0))
                }
            }
            assertClose(out.tensor.toArray(), expected, tolerance: 1e-5, "dense \(inF)->\(outF)")
            out.assertGuardsIntact("dense \(inF)->\(outF)")
        }
    }

    func testDenseAfterFlattenMatchesACheckpointFlattenedInAnotherOrder() {
        var rng = TestRandom(seed: 52)
        let (h, w, c, outF) = (3, 2, 5, 7)
        let inF = h * w * c
        let x = randomTensor([1, h, w, c], &rng)
        let weight = rng.floats(outF * inF), bias = rng.floats(outF)
        let v = x.toArray()
        for order in [DenseWeights.FlattenOrder.chw, .whc, .hwc] {
            // The checkpoint's own flattening of the same activation.
            var flat = [Float](repeating: 0, count: inF)
            for y in 0..<h { for xx in 0..<w { for ch in 0..<c {
                let value = v[(y * w + xx) * c + ch]
                switch order {
                case .chw: flat[(ch * h + y) * w + xx] = value
                case .whc: flat[(xx * h + y) * c + ch] = value
                case .hwc: flat[(y * w + xx) * c + ch] = value
                }
            } } }
            var expected: [Float] = []
            for o in 0..<outF {
                var s = bias[o]
                for i in 0..<inF { s += weight[o * inF + i] * flat[i] }
                expected.append(s)
            }
            let layer = DenseWeights(pytorch: weight, bias: bias, inFeatures: inF, outFeatures: outF,
                                     checkpointColumn: DenseWeights.flattenedColumn(height: h, width: w, channels: c, order: order))
            let out = Tensor(shape: [1, outF])
            dense(out: out, in: x.reshaped([1, inF]), weights: layer)
            assertClose(out.toArray(), expected, tolerance: 1e-5, "flatten \(order)")
        }
    }

    func testBatchedMatmulWithAndWithoutTransposeMatchesReference() {
        var rng = TestRandom(seed: 51)
        for (m, k, n) in [(1, 1, 1), (7, 15, 17), (5, 32, 33), (16, 17, 16)] {
            for transposeB in [false, true] {
                let a = randomTensor([2, m, k], &rng)
                let b = randomTensor(transposeB ? [2, n, k] : [2, k, n], &rng)
                let out = GuardedTensor(shape: [2, m, n])
                batchedMatmul(out: out.tensor, a: a, b: b, transposeB: transposeB, alpha: 0.5)
                let av = a.toArray(), bv = b.toArray()
                var expected: [Float] = []
                for bt in 0..<2 { for i in 0..<m { for j in 0..<n {
                    var s: Float = 0
                    for p in 0..<k {
                        s += av[(bt * m + i) * k + p] * (transposeB ? bv[(bt * n + j) * k + p] : bv[(bt * k + p) * n + j])
                    }
                    expected.append(0.5 * s)
                } } }
                let context = "matmul \(m)x\(k)x\(n) transposeB \(transposeB)"
                assertClose(out.tensor.toArray(), expected, tolerance: 1e-5, context)
                out.assertGuardsIntact(context)
            }
        }
    }
}
