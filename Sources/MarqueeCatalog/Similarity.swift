// "More like this": cosine similarity between L2-normalised vectors, a dot product per title,
// scanned with SIMD16 over every stored vector of the modality.

public struct SimilarTitle: Codable, Equatable, Sendable {
    public var titleId: String
    public var score: Float
    enum CodingKeys: String, CodingKey { case titleId = "title_id", score }
}

public enum Similarity {
    /// Σ a[i]·b[i], 16 lanes at a time with a scalar tail.
    public static func dot(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        precondition(a.count == b.count, "vectors of \(a.count) and \(b.count) values")
        let n = a.count, blocks = n / 16
        var acc = SIMD16<Float>()
        let pa = UnsafeRawPointer(a.baseAddress!), pb = UnsafeRawPointer(b.baseAddress!)
        for i in 0..<blocks {
            let x = pa.loadUnaligned(fromByteOffset: i * 64, as: SIMD16<Float>.self)
            let y = pb.loadUnaligned(fromByteOffset: i * 64, as: SIMD16<Float>.self)
            acc = acc.addingProduct(x, y)
        }
        var sum = acc.sum()
        for i in (blocks * 16)..<n { sum += a[i] * b[i] }
        return sum
    }

    /// The `k` stored vectors most similar to `query`, best first, leaving out `excluding`.
    public static func nearest(to query: [Float], in candidates: [(titleId: String, vector: [Float])], k: Int,
                               excluding: String? = nil) -> [SimilarTitle] {
        var scored: [SimilarTitle] = []
        query.withUnsafeBufferPointer { q in
            for candidate in candidates where candidate.titleId != excluding && candidate.vector.count == query.count {
                let score = candidate.vector.withUnsafeBufferPointer { dot(q, $0) }
                scored.append(SimilarTitle(titleId: candidate.titleId, score: score))
            }
        }
        return Array(scored.sorted { ($0.score, $1.titleId) > ($1.score, $0.titleId) }.prefix(k))
    }
}
