import MarqueeAnalysis
import XCTest

final class FusedEmbeddingTests: XCTestCase {
    private func unit(_ count: Int, seed: Int) -> [Float] {
        var state = UInt64(seed) &* 6364136223846793005 &+ 1442695040888963407
        var values: [Float] = []
        for _ in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            values.append(Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1)
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return values.map { $0 / norm }
    }

    private func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    func testTheFusedCosineIsTheWeightedMeanOfTheModalityCosines() throws {
        let a = try XCTUnwrap(FusedEmbedding.fuse(visual: unit(1280, seed: 1), audio: unit(1506, seed: 2), text: unit(384, seed: 3)))
        let b = try XCTUnwrap(FusedEmbedding.fuse(visual: unit(1280, seed: 4), audio: unit(1506, seed: 5), text: unit(384, seed: 6)))
        let w = FusedEmbedding.weights
        let expected = (w[.visual]! * dot(unit(1280, seed: 1), unit(1280, seed: 4)) + w[.audio]! * dot(unit(1506, seed: 2), unit(1506, seed: 5))
            + w[.text]! * dot(unit(384, seed: 3), unit(384, seed: 6))) / (w[.visual]! + w[.audio]! + w[.text]!)
        XCTAssertEqual(dot(a.vector, b.vector), expected, accuracy: 1e-5)
        XCTAssertEqual(a.vector.count, 1280 + 1506 + 384)
        XCTAssertEqual(a.record.missing, [])
    }

    func testAMissingModalityIsAZeroBlockAndTheRestIsRenormalized() throws {
        let fused = try XCTUnwrap(FusedEmbedding.fuse(visual: unit(1280, seed: 1), audio: nil, text: unit(384, seed: 3)))
        XCTAssertEqual(fused.record.present, ["visual", "text"])
        XCTAssertEqual(fused.record.missing, ["audio"])
        XCTAssertTrue(fused.vector[1280..<(1280 + 1506)].allSatisfy { $0 == 0 })
        XCTAssertEqual(dot(fused.vector, fused.vector), 1, accuracy: 1e-5)
        // The present blocks keep their relative weights: visual share 0.45 / (0.45 + 0.35).
        let visualShare = dot(Array(fused.vector[0..<1280]), Array(fused.vector[0..<1280]))
        XCTAssertEqual(visualShare, 0.45 / 0.8, accuracy: 1e-5)
    }

    func testNoModalityGivesNoFusedVector() {
        XCTAssertNil(FusedEmbedding.fuse(visual: nil, audio: nil, text: nil))
    }
}
