import XCTest
@testable import MarqueeNN

/// Winograd F(4x4, 3x3) and F(6x6, 3x3) against the direct reference convolution (ConvolutionTests.swift).
final class WinogradTests: XCTestCase {
    /// With `rows`, only that band of output rows is computed, into a tensor of just those rows.
    private func check(batch: Int = 1, h: Int, w: Int, cin: Int, cout: Int, tileSize: Int = 4, rows: Range<Int>? = nil,
                       activation: Activation = .none,
                       seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = TestRandom(seed: seed)
        let x = randomTensor([batch, h, w, cin], &rng)
        let weight = rng.floats(cout * cin * 9), bias = rng.floats(cout)
        let weights = Winograd3x3Weights(oihw: weight, bias: bias, outChannels: cout, inChannels: cin, tileSize: tileSize)
        let expected = referenceConv2d(x, weight: weight, bias: bias, outChannels: cout, kernel: 3, groups: 1,
                                       stride: 1, dilation: 1, padding: .symmetric(1), activation: activation)
        let band = rows ?? 0..<h
        let out = GuardedTensor(shape: [batch, band.count, w, cout])
        winogradConv3x3(out: out.tensor, in: x, weights: weights, rows: rows, activation: activation,
                        pool: ThreadPool(threadCount: 2))
        let context = "F(\(tileSize)x\(tileSize)) \(batch)x\(h)x\(w)x\(cin)->\(cout) rows \(band) \(activation)"
        // The transforms regroup the sum and scale its terms (by up to 8 along each axis), so
        // the rounding error follows the sum of the terms' magnitudes, not the result's size;
        // F(6x6)'s larger coefficients (up to 21/4 in Bᵀ, 32 in Aᵀ) give about ten times F(4x4)'s.
        let magnitudes = referenceConv2d(Tensor(shape: x.shape, values: x.toArray().map(abs)), weight: weight.map(abs),
                                         bias: bias.map(abs), outChannels: cout, kernel: 3, groups: 1,
                                         stride: 1, dilation: 1, padding: .symmetric(1)).values
        // The band's rows of every image, in the full output's indexing.
        let rowValues = w * cout
        let bandIndices: [Int] = (0..<batch).flatMap { (image: Int) -> Range<Int> in
            let first: Int = (image * h + band.lowerBound) * rowValues
            return first..<(first + band.count * rowValues)
        }
        let actual = out.tensor.toArray()
        let relative: Float = tileSize == 4 ? 1e-5 : 1e-4
        for (k, i) in bandIndices.enumerated() where !(abs(actual[k] - expected.values[i]) <= relative * magnitudes[i] + 1e-6) {
            XCTFail("\(context): index \(i) is \(actual[k]), expected \(expected.values[i]) (terms' magnitude \(magnitudes[i]))",
                    file: file, line: line)
            break
        }
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
        // 2 x 4 x 7 = 56 tiles: two full chunks of 24 and a partial one.
        check(batch: 2, h: 13, w: 26, cin: 64, cout: 128, activation: .relu, seed: 2201)
        check(batch: 5, h: 3, w: 5, cin: 17, cout: 33, seed: 2202)
        // Layers with larger kernels take chunks of 48 and 100 tiles: 50 and 101 one-tile images.
        check(batch: 50, h: 2, w: 2, cin: 8, cout: 2000, seed: 2203)
        check(batch: 101, h: 2, w: 2, cin: 8, cout: 4100, seed: 2204)
    }

    func testBandsOfOutputRowsMatchTheWholeImage() {
        // Bands of one tile row, including the last, shorter one, and a band of two tile rows.
        var seed: UInt64 = 2300
        for rows in [0..<4, 4..<8, 24..<27, 8..<16] {
            seed += 1
            check(batch: 3, h: 27, w: 10, cin: 17, cout: 33, rows: rows, activation: .relu, seed: seed)
        }
    }

    func testSixBySixTilesAcrossChannelTailsSizesAndBands() {
        var seed: UInt64 = 2400
        for (cin, cout) in [(1, 1), (3, 16), (16, 17), (17, 33), (33, 64)] {
            seed += 1
            check(h: 7, w: 13, cin: cin, cout: cout, tileSize: 6, activation: seed % 2 == 0 ? .relu : .none, seed: seed)
        }
        for (h, w) in [(1, 1), (2, 3), (6, 12), (13, 24), (27, 48)] {
            seed += 1
            check(h: h, w: w, cin: 8, cout: 16, tileSize: 6, seed: seed)
        }
        // 3 x 5 x 2 = 30 tiles, more than one chunk; then bands of one and two tile rows.
        check(batch: 3, h: 27, w: 12, cin: 17, cout: 33, tileSize: 6, activation: .relu, seed: 2420)
        for rows in [0..<6, 6..<18, 24..<27] {
            seed += 1
            check(batch: 2, h: 27, w: 10, cin: 9, cout: 20, tileSize: 6, rows: rows, seed: seed)
        }
    }
}
