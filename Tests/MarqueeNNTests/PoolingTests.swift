import XCTest
@testable import MarqueeNN

/// PyTorch-semantics reference pooling on NHWC.
func referencePool(_ x: Tensor, kernel: Size2, stride: Size2, padding: Padding2D, ceilMode: Bool,
                   max useMax: Bool, countIncludePad: Bool) -> [Float] {
    let shape = pool2dOutputShape(input: x.shape, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
    let p = padding.resolved(input: Size2(x.h, x.w), kernel: kernel, stride: stride, dilation: 1)
    let v = x.toArray()
    var out: [Float] = []
    for n in 0..<shape[0] { for oy in 0..<shape[1] { for ox in 0..<shape[2] { for c in 0..<x.c {
        var best = -Float.infinity, sum = 0.0, real = 0, padded = 0
        for ky in 0..<kernel.h { for kx in 0..<kernel.w {
            let iy = oy * stride.h - p.top + ky, ix = ox * stride.w - p.left + kx
            if iy < x.h + p.bottom && ix < x.w + p.right { padded += 1 }
            if iy < 0 || iy >= x.h || ix < 0 || ix >= x.w { continue }
            let e = v[((n * x.h + iy) * x.w + ix) * x.c + c]
            best = max(best, e); sum += Double(e); real += 1
        } }
        out.append(useMax ? best : Float(sum / Double(countIncludePad ? padded : real)))
    } } } }
    return out
}

final class PoolingTests: XCTestCase {
    func testMaxAndAveragePoolingMatchReferenceAcrossTails() {
        var rng = TestRandom(seed: 30)
        let configs: [(Size2, Size2, Padding2D, Bool)] = [
            (2, 2, .valid, false), (2, 2, .valid, true), (3, 2, .symmetric(1), false),
            (3, 1, .same, false), (Size2(3, 2), Size2(2, 1), .explicit(top: 1, left: 0, bottom: 0, right: 1), true),
        ]
        for c in [1, 15, 16, 17, 33] {
            let x = randomTensor([2, 7, 6, c], &rng)
            for (kernel, stride, padding, ceil) in configs {
                let shape = pool2dOutputShape(input: x.shape, kernel: kernel, stride: stride, padding: padding, ceilMode: ceil)
                let context = "c \(c) k \(kernel) s \(stride) \(padding) ceil \(ceil)"
                let mx = GuardedTensor(shape: shape)
                maxPool2d(out: mx.tensor, in: x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceil)
                assertClose(mx.tensor.toArray(), referencePool(x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceil, max: true, countIncludePad: true), "max \(context)")
                mx.assertGuardsIntact("max \(context)")
                for include in [true, false] {
                    let avg = GuardedTensor(shape: shape)
                    averagePool2d(out: avg.tensor, in: x, kernel: kernel, stride: stride, padding: padding, countIncludePad: include, ceilMode: ceil)
                    assertClose(avg.tensor.toArray(), referencePool(x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceil, max: false, countIncludePad: include), "avg include \(include) \(context)")
                    avg.assertGuardsIntact("avg \(context)")
                }
            }
        }
    }

    func testPoolingWithAnAddendIsBitForBitAddThenPool() {
        // Odd sizes (the last row and column fall outside every 2x2 window) and channel tails.
        var rng = TestRandom(seed: 32)
        for c in [1, 16, 17, 33] {
            let a = randomTensor([3, 7, 5, c], &rng), b = randomTensor([3, 7, 5, c], &rng)
            let shape = pool2dOutputShape(input: a.shape, kernel: 2, stride: 2)
            let sum = Tensor(shape: a.shape)
            add(out: sum, a, b)
            let expected = Tensor(shape: shape)
            averagePool2d(out: expected, in: sum, kernel: 2, stride: 2)
            let fused = GuardedTensor(shape: shape)
            averagePool2d(out: fused.tensor, in: a, adding: b, kernel: 2, stride: 2, pool: ThreadPool(threadCount: 2))
            XCTAssertEqual(fused.tensor.toArray().map(\.bitPattern), expected.toArray().map(\.bitPattern), "c \(c)")
            fused.assertGuardsIntact("c \(c)")
        }
    }

    func testCeilModeAddsThePartialWindowLikePyTorch() {
        // PyTorch: MaxPool2d(2, 2, ceil_mode=True) on 5x5 gives 3x3; on 3x3 with stride 2 and kernel 3 gives 1x1.
        XCTAssertEqual(pool2dOutputShape(input: [1, 5, 5, 1], kernel: 2, stride: 2, ceilMode: true), [1, 3, 3, 1])
        XCTAssertEqual(pool2dOutputShape(input: [1, 3, 3, 1], kernel: 3, stride: 2, ceilMode: true), [1, 1, 1, 1])
        XCTAssertEqual(pool2dOutputShape(input: [1, 5, 5, 1], kernel: 2, stride: 2, ceilMode: false), [1, 2, 2, 1])
    }

    func testGlobalPoolingReducesEachChannel() {
        var rng = TestRandom(seed: 31)
        for c in [1, 15, 16, 17, 33] {
            let x = randomTensor([2, 3, 5, c], &rng)
            let v = x.toArray()
            var mean: [Float] = [], mx: [Float] = []
            for n in 0..<2 { for ch in 0..<c {
                let values = (0..<15).map { v[(n * 15 + $0) * c + ch] }
                mean.append(values.reduce(0, +) / 15); mx.append(values.max()!)
            } }
            let a = GuardedTensor(shape: [2, 1, 1, c]), m = GuardedTensor(shape: [2, 1, 1, c])
            globalAveragePool(out: a.tensor, in: x)
            globalMaxPool(out: m.tensor, in: x)
            assertClose(a.tensor.toArray(), mean, "global avg c \(c)")
            assertClose(m.tensor.toArray(), mx, "global max c \(c)")
            a.assertGuardsIntact("global avg"); m.assertGuardsIntact("global max")
        }
    }
}
