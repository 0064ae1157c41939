// Keyphrases in the manner of KeyBERT: candidate phrases of 1–3 words (stop words removed, as
// CountVectorizer(ngram_range=(1, 3), stop_words="english") forms them), each embedded and
// scored by cosine similarity to the document vector, then picked with maximal marginal
// relevance so that the list is not five spellings of one idea.

public struct Keyphrase: Codable, Equatable, Sendable {
    public var phrase: String
    /// Cosine similarity of the phrase's vector to the title's text vector.
    public var score: Float
    /// Occurrences in the title's text.
    public var count: Int
}

public enum Keyphrases {
    /// Candidate phrases with their counts, most frequent first (first occurrence breaks
    /// ties). Words are runs of two or more letters or digits, lower-cased (CountVectorizer's
    /// token pattern); n-grams do not cross sentence punctuation; words of digits alone and
    /// phrases that repeat a word are left out.
    public static func candidates(in texts: [String], maxWords: Int = 3, limit: Int = 1000) -> [(phrase: String, count: Int)] {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for text in texts {
            for chunk in sentenceChunks(text) {
                let words = tokens(String(chunk)).filter { !StopWords.contains($0) && !$0.allSatisfy(\.isNumber) }
                guard !words.isEmpty else { continue }
                for n in 1...max(1, maxWords) where n <= words.count {
                    for start in 0...(words.count - n) {
                        let gram = words[start..<(start + n)]
                        if n > 1 && Set(gram).count < n { continue }
                        let phrase = gram.joined(separator: " ")
                        if counts[phrase] == nil { order.append(phrase) }
                        counts[phrase, default: 0] += 1
                    }
                }
            }
        }
        let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        return order.sorted { (counts[$0]!, -rank[$0]!) > (counts[$1]!, -rank[$1]!) }
            .prefix(limit).map { ($0, counts[$0]!) }
    }

    /// Lower-cased words of two or more letters, digits or underscores.
    static func tokens(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for ch in text.lowercased() {
            if ch.isLetter || ch.isNumber || ch == "_" {
                current.append(ch)
            } else {
                if current.count >= 2 { words.append(current) }
                current = ""
            }
        }
        if current.count >= 2 { words.append(current) }
        return words
    }

    static func sentenceChunks(_ text: String) -> [Substring] {
        text.split(whereSeparator: { ".!?;:\n…\"“”()[]".contains($0) })
    }

    /// KeyBERT's maximal marginal relevance: the best candidate first, then each next one
    /// maximizing (1 - diversity) * similarity to the document - diversity * its largest
    /// similarity to those already chosen. Vectors are unit length. Returns indices.
    public static func maximalMarginalRelevance(document: [Float], candidates: [[Float]], count: Int,
                                                diversity: Float = 0.5) -> [Int] {
        let relevance = candidates.map { TextEncoder.dot($0, document) }
        guard count > 0, let best = relevance.indices.max(by: { relevance[$0] < relevance[$1] }) else { return [] }
        var chosen = [best]
        var closest = candidates.map { TextEncoder.dot($0, candidates[chosen[0]]) }
        var remaining = Set(candidates.indices).subtracting(chosen)
        while chosen.count < min(count, candidates.count) {
            guard let next = remaining.max(by: { a, b in
                let ma = (1 - diversity) * relevance[a] - diversity * closest[a]
                let mb = (1 - diversity) * relevance[b] - diversity * closest[b]
                return ma != mb ? ma < mb : a > b
            }) else { break }
            chosen.append(next)
            remaining.remove(next)
            for i in remaining { closest[i] = max(closest[i], TextEncoder.dot(candidates[i], candidates[next])) }
        }
        return chosen
    }

    /// The `count` keyphrases of a title's text, given its unit text vector.
    public static func extract(texts: [String], documentVector: [Float], encoder: TextEncoder,
                               count: Int = 10, diversity: Float = 0.5, candidateLimit: Int = 1000) -> [Keyphrase] {
        let found = candidates(in: texts, limit: candidateLimit)
        guard !found.isEmpty else { return [] }
        let vectors = encoder.embed(found.map(\.phrase))
        return maximalMarginalRelevance(document: documentVector, candidates: vectors, count: count, diversity: diversity)
            .map { Keyphrase(phrase: found[$0].phrase, score: TextEncoder.dot(vectors[$0], documentVector), count: found[$0].count) }
    }
}
