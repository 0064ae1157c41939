import XCTest
@testable import MarqueeNN

/// Winograd F(2x2, 3x3) against the direct reference convolution (ConvolutionTests.swift).
final class WinogradTests: XCTestCase {
    private func check(batch: Int = 1, h: Int, w: Int, cin: Int, cout: Int, activation: Activation = .none,
                       seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = TestRandom(seed: seed)
        let x = randomTensor([batch, h, w, cin], &rng)
        let weight = rng.floats(cout * cin * 9), bias = rng.floats(cout)
        let weights = Winograd3x3Weights(oihw: weight, bias: bias, outChannels: cout, inChannels: cin)
        let expected = referenceConv2d(x, weight: weight, bias: bias, outChannels: cout, kernel: 3, groups: 1,
                                       stride: 1, dilation: 1, padding: .symmetric(1), activation: activation)
        let out = GuardedTensor(shape: [batch, h, w, cout])
        winogradConv3x3(out: out.tensor, in: x, weights: weights, activation: activation, pool: ThreadPool(threadCount: 2))
        let context = "\(batch)x\(h)x\(w)x\(cin)->\(cout) \(activation)"
        assertClose(out.tensor.toArray(), expected.values, tolerance: 1e-4, context, file: file, line: line)
        out.assertGuardsIntact(context, file: file, line: line)
    }

    func testMatchesDirectConvolutionAcrossChannelTails() {
        var seed: UInt64 = 2000
        for cin in [1, 3, 15, 16, 17, 33] {
            for cout in [1, 15, 16, 17, 33, 64] {
                seed += 1
                check(h: 5, w: 7, cin: cin, cout: cout, activation: seed % 2 == 0 ? .relu : .none, seed: seed)
            }
        }
    }

    func testOddAndEvenSizesAndTinyImages() {
        var seed: UInt64 = 2100
        for (h, w) in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 3), (4, 6), (6, 12), (3, 6), (13, 24), (27, 48)] {
            seed += 1
            check(h: h, w: w, cin: 8, cout: 16, seed: seed)
        }
    }

    func testBatchesSpanningSeveralChunksOfTiles() {
        // 2 x 7 x 12 = 168 tiles: three full chunks of 48 and a partial one.
        check(batch: 2, h: 13, w: 24, cin: 64, cout: 128, activation: .relu, seed: 2201)
        check(batch: 5, h: 3, w: 5, cin: 17, cout: 33, seed: 2202)
    }
}
