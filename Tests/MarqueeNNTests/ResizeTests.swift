import XCTest
@testable import MarqueeNN

final class ResizeTests: XCTestCase {
    /// PyTorch's upsample_bilinear2d index rule, per element.
    func referenceBilinear(_ x: Tensor, _ oh: Int, _ ow: Int, alignCorners: Bool) -> [Float] {
        func src(_ d: Int, _ inSize: Int, _ outSize: Int) -> (Int, Int, Float) {
            let s: Float = alignCorners ? (outSize > 1 ? Float(d) * Float(inSize - 1) / Float(outSize - 1) : 0)
                : max((Float(d) + 0.5) * Float(inSize) / Float(outSize) - 0.5, 0)
            let i0 = min(Int(s), inSize - 1)
            return (i0, min(i0 + 1, inSize - 1), s - Float(i0))
        }
        let v = x.toArray()
        var out: [Float] = []
        for n in 0..<x.n { for oy in 0..<oh { for ox in 0..<ow { for c in 0..<x.c {
            let (y0, y1, ly) = src(oy, x.h, oh), (x0, x1, lx) = src(ox, x.w, ow)
            func at(_ y: Int, _ xx: Int) -> Float { v[((n * x.h + y) * x.w + xx) * x.c + c] }
            out.append((1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1)))
        } } } }
        return out
    }

    func testBilinearMatchesPyTorchIndexRuleUpAndDown() {
        var rng = TestRandom(seed: 60)
        for c in [1, 16, 17] {
            let x = randomTensor([1, 5, 7, c], &rng)
            for (oh, ow) in [(10, 14), (3, 4), (5, 7), (1, 1), (8, 3)] {
                for align in [false, true] {
                    let out = GuardedTensor(shape: [1, oh, ow, c])
                    resizeBilinear(out: out.tensor, in: x, alignCorners: align)
                    let context = "bilinear c \(c) -> \(oh)x\(ow) align \(align)"
                    assertClose(out.tensor.toArray(), referenceBilinear(x, oh, ow, alignCorners: align), tolerance: 1e-5, context)
                    out.assertGuardsIntact(context)
                }
            }
        }
    }

    func testNearestAndAreaFollowPyTorch() {
        let x = Tensor(shape: [1, 1, 5, 1], values: [0, 1, 2, 3, 4])
        let near = Tensor(shape: [1, 1, 3, 1])
        resizeNearest(out: near, in: x)
        XCTAssertEqual(near.toArray(), [0, 1, 3]) // floor(d * 5/3) = 0, 1, 3
        let area = Tensor(shape: [1, 1, 3, 1])
        resizeArea(out: area, in: x)
        // Windows [0,2), [1,4), [3,5).
        assertClose(area.toArray(), [0.5, 2, 3.5], "area")
    }
}
