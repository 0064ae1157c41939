import Foundation
import XCTest
@testable import MarqueeNN

final class ActivationTests: XCTestCase {
    let sizes = [1, 15, 16, 17, 33, 100]

    /// Runs `kernel` on inputs of every size, in place and out of place, against `reference`.
    func check(_ name: String, tolerance: Float, range: Float = 8,
               _ kernel: (Tensor, Tensor) -> Void, _ reference: (Float) -> Float) {
        var rng = TestRandom(seed: UInt64(name.utf8.count))
        for n in sizes {
            let x = randomTensor([n], &rng, scale: range)
            let out = GuardedTensor(shape: [n])
            kernel(out.tensor, x)
            let expected = x.toArray().map(reference)
            assertClose(out.tensor.toArray(), expected, tolerance: tolerance, "\(name) n \(n)")
            out.assertGuardsIntact("\(name) n \(n)")
            kernel(x, x)
            assertClose(x.toArray(), expected, tolerance: tolerance, "\(name) in place n \(n)")
        }
    }

    func testReLUAndReLU6ClampAsDefined() {
        check("relu", tolerance: 0, { relu(out: $0, in: $1) }) { max($0, 0) }
        check("relu6", tolerance: 0, { relu6(out: $0, in: $1) }) { min(max($0, 0), 6) }
    }

    func testSigmoidIsAccurateToOneInAMillion() {
        check("sigmoid", tolerance: 1e-6, range: 20, { sigmoid(out: $0, in: $1) }) { Float(1 / (1 + Foundation.exp(-Double($0)))) }
    }

    func testTanhIsAccurateToOneInAMillionNearZeroAndFarOut() {
        check("tanh", tolerance: 1e-6, range: 12, { MarqueeNN.tanh(out: $0, in: $1) }) { Float(Foundation.tanh(Double($0))) }
        // Relative accuracy for small inputs, where 1 - 2/(e^2x + 1) would cancel.
        let small = Tensor(shape: [4], values: [1e-4, -3e-3, 0.1, 0.6])
        let out = Tensor(shape: [4])
        MarqueeNN.tanh(out: out, in: small)
        for i in 0..<4 {
            let e = Foundation.tanh(Double(small[flat: i]))
            XCTAssertEqual(Double(out[flat: i]), e, accuracy: abs(e) * 1e-6, "tanh(\(small[flat: i]))")
        }
    }

    func testGELUUsesTheErfForm() {
        check("gelu", tolerance: 1e-6, range: 6, { gelu(out: $0, in: $1) }) {
            Float(0.5 * Double($0) * (1 + Foundation.erf(Double($0) / 2.0.squareRoot())))
        }
    }

    func testVectorErfIsWithinOneMillionthOfErfEverywhere() {
        // A dense sweep of [-6, 6] (both clamped tails included), against double-precision erf.
        var worst: Double = 0, at: Float = 0
        var x: Float = -6
        while x <= 6 {
            let v = erf16(SIMD16<Float>((0..<16).map { x + Float($0) * 1e-4 }))
            for i in 0..<16 {
                let xi = x + Float(i) * 1e-4
                let e = abs(Double(v[i]) - Foundation.erf(Double(xi)))
                if e > worst { worst = e; at = xi }
            }
            x += 16e-4
        }
        XCTAssertLessThan(worst, 1e-6, "worst error \(worst) at x = \(at)")
    }

    func testPReLUScalesNegativesPerChannel() {
        var rng = TestRandom(seed: 20)
        for c in [1, 15, 16, 17, 33] {
            let x = randomTensor([2, 3, c], &rng)
            let slopes = rng.floats(c)
            let out = GuardedTensor(shape: x.shape)
            prelu(out: out.tensor, in: x, slopes: slopes)
            let expected = x.toArray().enumerated().map { i, v in v < 0 ? v * slopes[i % c] : v }
            assertClose(out.tensor.toArray(), expected, tolerance: 0, "prelu c \(c)")
            out.assertGuardsIntact("prelu c \(c)")
        }
        let shared = Tensor(shape: [3], values: [-2, 0, 2])
        prelu(out: shared, in: shared, slopes: [0.25])
        XCTAssertEqual(shared.toArray(), [-0.5, 0, 2])
    }

    func testSoftmaxRowsSumToOneAndMatchReference() {
        var rng = TestRandom(seed: 21)
        for n in sizes {
            let x = randomTensor([3, n], &rng, scale: 30)
            let out = GuardedTensor(shape: x.shape)
            softmax(out: out.tensor, in: x)
            var expected: [Float] = []
            let v = x.toArray()
            for r in 0..<3 {
                let row = v[(r * n)..<(r * n + n)].map(Double.init)
                let m = row.max()!
                let e = row.map { Foundation.exp($0 - m) }
                let s = e.reduce(0, +)
                expected += e.map { Float($0 / s) }
            }
            assertClose(out.tensor.toArray(), expected, tolerance: 1e-6, "softmax n \(n)")
            out.assertGuardsIntact("softmax n \(n)")
        }
    }

    func testAddAndChannelAffineApplyTheirActivation() {
        var rng = TestRandom(seed: 22)
        for c in [1, 17, 33] {
            let a = randomTensor([2, c], &rng, scale: 8), b = randomTensor([2, c], &rng, scale: 8)
            let out = GuardedTensor(shape: [2, c])
            add(out: out.tensor, a, b, activation: .relu6)
            assertClose(out.tensor.toArray(), zip(a.toArray(), b.toArray()).map { min(max($0 + $1, 0), 6) }, "add c \(c)")
            out.assertGuardsIntact("add c \(c)")
            let scale = rng.floats(c), shift = rng.floats(c)
            let affine = GuardedTensor(shape: [2, c])
            channelAffine(out: affine.tensor, in: a, scale: scale, shift: shift, activation: .relu)
            assertClose(affine.tensor.toArray(), a.toArray().enumerated().map { max($1 * scale[$0 % c] + shift[$0 % c], 0) }, "affine c \(c)")
            affine.assertGuardsIntact("affine c \(c)")
        }
    }

    func testL2NormalizeGivesUnitRowsAndLeavesZeroRowsZero() {
        let x = Tensor(shape: [3, 2], values: [3, 4, 0, 0, -1e-3, 0])
        let out = GuardedTensor(shape: [3, 2])
        l2Normalize(out: out.tensor, in: x)
        assertClose(out.tensor.toArray(), [0.6, 0.8, 0, 0, -1, 0], "l2Normalize")
        out.assertGuardsIntact("l2Normalize")
    }

    func testLayerNormNormalizesEachRow() {
        var rng = TestRandom(seed: 23)
        for d in [1, 16, 17, 384] {
            let x = randomTensor([3, d], &rng, scale: 5)
            let gamma = rng.floats(d), beta = rng.floats(d)
            let out = GuardedTensor(shape: x.shape)
            layerNorm(out: out.tensor, in: x, gamma: gamma, beta: beta, epsilon: 1e-5)
            var expected: [Float] = []
            let v = x.toArray().map(Double.init)
            for r in 0..<3 {
                let row = Array(v[(r * d)..<(r * d + d)])
                let mean = row.reduce(0, +) / Double(d)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
                expected += row.enumerated().map { Float(($1 - mean) / (variance + 1e-5).squareRoot() * Double(gamma[$0]) + Double(beta[$0])) }
            }
            assertClose(out.tensor.toArray(), expected, tolerance: 1e-5, "layerNorm d \(d)")
            out.assertGuardsIntact("layerNorm d \(d)")
        }
    }

    func testLayerNormWithResidualNormalizesTheSum() {
        var rng = TestRandom(seed: 29)
        for d in [1, 17, 384] {
            let x = randomTensor([3, d], &rng, scale: 5), skip = randomTensor([3, d], &rng, scale: 5)
            let gamma = rng.floats(d), beta = rng.floats(d)
            let summed = Tensor(shape: x.shape, values: zip(x.toArray(), skip.toArray()).map { $0 + $1 })
            let expected = Tensor(shape: x.shape)
            layerNorm(out: expected, in: summed, gamma: gamma, beta: beta, epsilon: 1e-5)
            let out = GuardedTensor(shape: x.shape)
            layerNorm(out: out.tensor, in: x, residual: skip, gamma: gamma, beta: beta, epsilon: 1e-5)
            assertClose(out.tensor.toArray(), expected.toArray(), tolerance: 1e-6, "layerNorm + residual d \(d)")
            out.assertGuardsIntact("layerNorm + residual d \(d)")
        }
    }
}
