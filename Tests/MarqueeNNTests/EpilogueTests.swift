import XCTest
@testable import MarqueeNN

final class EpilogueTests: XCTestCase {
    func testEpilogueGivesTheSameBitsAsTheActivation() {
        let special: [Float] = [0, -0.0, 1e-30, -1e-30, 3, 5.999_999, 6, 6.000_001, 1e30, -1e30,
                                .infinity, -.infinity, .nan, -2.5, 0.75]
        var rng = TestRandom(seed: 31)
        let values = special + rng.floats(49, scale: 10)
        for activation in [Activation.none, .relu, .relu6, .gelu] {
            let epilogue = Epilogue(activation)
            for start in stride(from: 0, to: values.count, by: 16) {
                var v = SIMD16<Float>(repeating: 0.5)
                for i in 0..<min(16, values.count - start) { v[i] = values[start + i] }
                let expected = activation.apply(v), actual = epilogue.apply(v)
                for i in 0..<16 where expected[i].bitPattern != actual[i].bitPattern
                    && !(expected[i].isNaN && actual[i].isNaN) {
                    XCTFail("\(activation) of \(v[i]): \(actual[i]), expected \(expected[i])")
                }
            }
        }
    }
}
