// Zero-shot themes: each label of the vocabulary is scored by the cosine similarity of its
// vector ("label: description") to the title's text vector. Raw cosines are not comparable
// across labels (some labels sit close to every text), so each is calibrated against the
// background texts: z = (cosine - background mean) / background spread, and a label is
// reported only when z clears the threshold and its cosine is not negligible.

public struct ThemeScore: Codable, Equatable, Sendable {
    public var label: String
    public var kind: ThemeLabel.Kind
    /// Cosine similarity of the label's vector to the title's text vector.
    public var score: Float
    /// Standard deviations above the label's mean similarity to the background texts.
    public var calibrated: Float
}

public final class ThemeScorer {
    public let labels: [ThemeLabel]
    let vectors: [[Float]]
    let backgroundMean: [Float]
    let backgroundSpread: [Float]
    /// Reported labels need at least this calibrated score …
    public var threshold: Float = 3
    /// … and at least this cosine.
    public var minimumCosine: Float = 0.15

    public init(encoder: TextEncoder, labels: [ThemeLabel] = ThemeVocabulary.labels,
                background: [String] = ThemeVocabulary.backgroundTexts) {
        self.labels = labels
        vectors = encoder.embed(labels.map(\.prompt))
        let backgroundVectors = encoder.embed(background)
        var means: [Float] = [], spreads: [Float] = []
        for vector in vectors {
            let sims = backgroundVectors.map { Double(TextEncoder.dot($0, vector)) }
            let mean = sims.reduce(0, +) / Double(max(1, sims.count))
            let variance = sims.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, sims.count - 1))
            means.append(Float(mean))
            // A floor keeps a label that every background text ignores from firing on noise.
            spreads.append(max(Float(variance.squareRoot()), 0.03))
        }
        backgroundMean = means
        backgroundSpread = spreads
    }

    /// Every label's score for a unit text vector, best calibrated score first.
    public func scores(_ vector: [Float]) -> [ThemeScore] {
        labels.indices.map { i in
            let cosine = TextEncoder.dot(vectors[i], vector)
            return ThemeScore(label: labels[i].name, kind: labels[i].kind, score: cosine,
                              calibrated: (cosine - backgroundMean[i]) / backgroundSpread[i])
        }
        .sorted { $0.calibrated > $1.calibrated }
    }

    /// The labels above the calibrated threshold, best first, at most `limit`.
    public func themes(_ vector: [Float], limit: Int = 8) -> [ThemeScore] {
        Array(scores(vector).filter { $0.calibrated >= threshold && $0.score >= minimumCosine }.prefix(limit))
    }
}
