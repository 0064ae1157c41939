import Foundation
import XCTest
@testable import MarqueeNN

/// Real FFTs over SIMD lanes against a naive double-precision DFT, at every size from the
/// smallest (one radix-2 stage) through odd and even numbers of stages.
final class LaneFFTTests: XCTestCase {
    static let sizes = [4, 8, 16, 32, 64, 128, 256, 512]

    func testForwardMatchesNaiveDFTInEveryLane() {
        var rng = TestRandom(seed: 4100)
        for n in Self.sizes {
            let fft = LaneRealFFT(size: n)
            let m = n / 2
            let signals = (0..<16).map { _ in rng.floats(n) }
            var x = [SIMD16<Float>](repeating: .zero, count: n)
            for t in 0..<n { for l in 0..<16 { x[t][l] = signals[l][t] } }
            var re = [SIMD16<Float>](repeating: .zero, count: m + 1), im = re
            var workRe = [SIMD16<Float>](repeating: .zero, count: m), workIm = workRe
            fft.forward(x, re: &re, im: &im, workRe: &workRe, workIm: &workIm)
            for l in 0..<16 {
                var expected: [Float] = [], actual: [Float] = []
                for k in 0...m {
                    var sr = 0.0, si = 0.0
                    for t in 0..<n {
                        let theta = -2 * Double.pi * Double(k * t % n) / Double(n)
                        sr += Double(signals[l][t]) * cos(theta)
                        si += Double(signals[l][t]) * sin(theta)
                    }
                    expected += [Float(sr), Float(si)]
                    actual += [re[k][l], im[k][l]]
                }
                assertClose(actual, expected, tolerance: 1e-5 * Float(n).squareRoot(), "n \(n) lane \(l)")
            }
        }
    }

    func testInverseMatchesNaiveInverseDFTInEveryLane() {
        var rng = TestRandom(seed: 4200)
        for n in Self.sizes {
            let fft = LaneRealFFT(size: n)
            let m = n / 2
            var re = [SIMD16<Float>](repeating: .zero, count: m + 1), im = re
            for k in 0...m {
                for l in 0..<16 {
                    re[k][l] = rng.float()
                    // Bins 0 and m of a real signal's spectrum are real.
                    im[k][l] = k == 0 || k == m ? 0 : rng.float()
                }
            }
            var outRe = [SIMD16<Float>](repeating: .zero, count: m), outIm = outRe
            fft.inverse(re: re, im: im, outRe: &outRe, outIm: &outIm)
            for l in 0..<16 {
                var expected: [Float] = [], actual: [Float] = []
                for t in 0..<n {
                    // Σ over all n bins of the Hermitian spectrum, unnormalized.
                    var sum = 0.0
                    for k in 0..<n {
                        let kk = k <= m ? k : n - k
                        let xr = Double(re[kk][l]), xi = Double(k <= m ? im[kk][l] : -im[kk][l])
                        let theta = 2 * Double.pi * Double(k * t % n) / Double(n)
                        sum += xr * cos(theta) - xi * sin(theta)
                    }
                    expected.append(Float(sum))
                    actual.append(t % 2 == 0 ? outRe[t / 2][l] : outIm[t / 2][l])
                }
                assertClose(actual, expected, tolerance: 1e-5 * Float(n).squareRoot(), "n \(n) lane \(l)")
            }
        }
    }
}
