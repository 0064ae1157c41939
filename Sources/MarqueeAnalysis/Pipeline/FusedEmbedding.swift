// The fused per-title vector: the L2-normalised visual, audio and text vectors concatenated,
// each block scaled by the square root of its weight, and the whole renormalised.
//
// With every block of unit length, the cosine of two fused vectors is the weighted mean of
// the per-modality cosines: Σ w_m cos_m / Σ w_m (when both titles have the same modalities).
// A missing modality (a silent film, a title without text) is a block of zeros and its weight
// drops out of the renormalisation, so the others keep their relative weights; the analysis
// records which modalities were present. The layout is fixed (1280 + 1506 + 384 values) so
// every fused vector in a catalog can be compared with every other one.

public enum FusedEmbedding {
    public enum Block: String, CaseIterable, Codable, Sendable {
        case visual, audio, text
    }

    /// Block lengths, in layout order.
    public static let dimensions: [Block: Int] = [.visual: 1280, .audio: 1506, .text: 384]
    public static var dimension: Int { Block.allCases.reduce(0) { $0 + dimensions[$1]! } }

    /// Each modality's share of the fused cosine when all three are present. Visual leads: it
    /// is the most specific signal across a catalog. Audio weighs least: MusiCNN's pooled
    /// features are ReLU outputs, all non-negative, so two unrelated soundtracks still have a
    /// cosine near 0.8 and the audio cosine spreads titles less than the others.
    public static let weights: [Block: Float] = [.visual: 0.45, .audio: 0.2, .text: 0.35]

    public struct Record: Codable, Sendable, Equatable {
        public var weights: [String: Float]
        public var present: [String]
        public var missing: [String]
    }

    /// The fused vector and what went into it; nil when no modality is present.
    public static func fuse(visual: [Float]?, audio: [Float]?, text: [Float]?) -> (vector: [Float], record: Record)? {
        let blocks: [(Block, [Float]?)] = [(.visual, visual), (.audio, audio), (.text, text)]
        var vector: [Float] = []
        vector.reserveCapacity(dimension)
        var present: [String] = [], missing: [String] = []
        for (block, values) in blocks {
            let size = dimensions[block]!
            if let values, values.count == size, let unit = l2Normalized(values) {
                let scale = weights[block]!.squareRoot()
                vector += unit.map { $0 * scale }
                present.append(block.rawValue)
            } else {
                vector += [Float](repeating: 0, count: size)
                missing.append(block.rawValue)
            }
        }
        guard let fused = l2Normalized(vector) else { return nil }
        return (fused, Record(weights: Dictionary(uniqueKeysWithValues: weights.map { ($0.key.rawValue, $0.value) }),
                              present: present, missing: missing))
    }
}
